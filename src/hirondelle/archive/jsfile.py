"""Stream the items of one `window.YTD.<type>.partN = [ … ]` data file.

The file is read in chunks; each chunk is cut after the last complete
top-level item and that run of items is decoded at once by msgspec into
typed structs. Memory stays at about one chunk whatever the file size, and
the decoding runs at msgspec speed. Any malformed input raises `ArchiveError`
with the file name and the byte offset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import msgspec

from hirondelle.archive.errors import ArchiveError

__all__ = ["CHUNK_BYTES", "iter_batches", "read_object"]

#: Bytes decoded at a time. Small: a run of decoded items is a few times its
#: JSON, and the previous run is alive while the next one decodes; 128 KiB
#: keeps `archive inspect` near its interpreter's own memory, at no measurable
#: cost in time (bench/README.md, "Archive reader").
CHUNK_BYTES = 128 << 10
_WS = b" \t\r\n"
_BYTE_AT = re.compile(r"\(byte (\d+)\)")
# X pretty-prints items at two spaces of indentation: "\n  },\n  {".
_X_SEPARATOR = b"\n  },"
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]]', re.DOTALL)


def _fill(stream: BinaryIO, buf: bytearray, want: int) -> bool:
    """Read until `buf` holds `want` bytes; False once the stream is exhausted."""
    while len(buf) < want:
        data = stream.read(max(want - len(buf), 1 << 16))
        if not data:
            return False
        buf += data
    return True


def _decode_error(exc: Exception, name: str, base: int) -> ArchiveError:
    if isinstance(exc, UnicodeDecodeError):
        return ArchiveError(
            f"corrupt text in {name}: it is not valid UTF-8 ({exc.reason})",
            member=name,
            offset=base,
        )
    msg = str(exc)
    m = _BYTE_AT.search(msg)
    offset = base + int(m.group(1)) if m else base
    if isinstance(exc, msgspec.ValidationError):
        return ArchiveError(f"unexpected data in {name} ({msg})", member=name, offset=base)
    return ArchiveError(f"corrupt JSON in {name} ({msg})", member=name, offset=offset)


def _header(stream: BinaryIO, name: str, buf: bytearray) -> int:
    """Consume `window.YTD… =`; return the file offset of what follows."""
    _fill(stream, buf, 1024)
    start = 3 if buf.startswith(b"\xef\xbb\xbf") else 0
    eq = buf.find(b"=", start, 1024)
    if eq < 0 or not bytes(buf[start:eq]).strip().startswith(b"window."):
        raise ArchiveError(
            f"{name} is not an X data file (no `window.YTD… =` in its first kilobyte)",
            member=name,
            offset=0,
        )
    del buf[: eq + 1]
    return eq + 1


def _skip_ws(stream: BinaryIO, buf: bytearray) -> int:
    """Drop leading whitespace (reading more as needed); return how many bytes."""
    dropped = 0
    while True:
        stripped = len(buf) - len(buf.lstrip(_WS))
        if stripped:
            del buf[:stripped]
            dropped += stripped
        if buf or not _fill(stream, buf, 1):
            return dropped


def _depth_cut(buf: bytearray | bytes) -> int:
    """End (exclusive) of the last complete top-level item, by tokenising; -1 if none."""
    depth, last = 0, -1
    for m in _TOKEN.finditer(buf):
        c = m.group()
        if c[0] == 0x22:  # a string
            continue
        if c in (b"{", b"["):
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                last = m.end()
            elif depth < 0:
                return last
    return last


def _tail(buf: bytearray) -> bytes:
    """The final run `… ]` with any trailing semicolon and whitespace removed."""
    end = bytes(buf).rstrip(_WS)
    if end.endswith(b";"):
        end = end[:-1].rstrip(_WS)
    return end


def iter_batches(
    stream: BinaryIO,
    name: str,
    decoder: msgspec.json.Decoder,
    *,
    chunk_bytes: int = CHUNK_BYTES,
    on_bytes: Callable[[int], None] | None = None,
    extract: Callable[[Any, list[Any]], list[Any]] | None = None,
    owned: bool = False,
) -> Iterator[list[Any]]:
    """Yield lists of decoded items; `decoder` decodes a JSON array of items.

    `owned` decodes each run from its own copy: needed when the decoded
    values keep views of their input (`msgspec.Raw` fields), which would
    otherwise pin the read buffer.

    `extract(run, items)`, if given, turns each decoded run (the raw bytes of
    a JSON array and its decoded items) into what is yielded: a way to pull a
    few values out by a fast byte scan once msgspec has validated the JSON.
    """
    buf = bytearray()
    offset = _header(stream, name, buf)
    offset += _skip_ws(stream, buf)
    if not buf or buf[0] != 0x5B:  # "["
        if not buf:
            raise ArchiveError(
                f"{name} is truncated: no JSON array after `=`", member=name, offset=offset
            )
        raise ArchiveError(
            f"corrupt JSON in {name}: expected '[' after `=`", member=name, offset=offset
        )
    reported = 0
    want = chunk_bytes

    def decode_run(end: int) -> list[Any]:
        """Decode buf[0:end] (which starts with '[') as a JSON array, no copy."""
        saved = buf[end] if end < len(buf) else None
        if saved is None:
            buf.append(0x5D)
        else:
            buf[end] = 0x5D  # "]"
        try:
            if owned:
                run_copy = bytes(buf[: end + 1])
                items = decoder.decode(run_copy)
                return extract(run_copy, items) if extract is not None else items
            with memoryview(buf) as view, view[: end + 1] as run:
                items = decoder.decode(run)
                return extract(run, items) if extract is not None else items
        finally:
            if saved is None:
                del buf[end:]
            else:
                buf[end] = saved

    while True:
        more = _fill(stream, buf, want)
        if on_bytes is not None:
            total = offset + len(buf)
            on_bytes(total - reported)
            reported = total
        if not more:
            end_bytes = _tail(buf)
            if not end_bytes.endswith(b"]"):
                raise ArchiveError(
                    f"{name} is truncated or corrupt: its JSON array is not closed",
                    member=name,
                    offset=offset + len(buf),
                )
            if end_bytes[1:].strip(_WS) == b"]":
                return
            try:
                items = decoder.decode(end_bytes)
                if extract is not None:
                    items = extract(end_bytes, items)
            except (msgspec.MsgspecError, UnicodeDecodeError) as exc:
                raise _decode_error(exc, name, offset) from exc
            if items:
                yield items
            return
        items = None
        end = -1
        cut = buf.rfind(_X_SEPARATOR, 1)
        if cut > 0:
            end = cut + len(_X_SEPARATOR) - 1  # just after the "}"
            try:
                items = decode_run(end)
            except (msgspec.ValidationError, UnicodeDecodeError) as exc:
                raise _decode_error(exc, name, offset) from exc
            except msgspec.DecodeError as exc:
                at = _BYTE_AT.search(str(exc))
                if at and int(at.group(1)) < end - 1:
                    raise _decode_error(exc, name, offset) from exc
                items = None  # separator-looking text inside an item: cut another way
        if items is None:
            end = _depth_cut(bytes(buf[1:]))
            if end >= 0:
                end += 1
                try:
                    items = decode_run(end)
                except (msgspec.ValidationError, UnicodeDecodeError) as exc:
                    raise _decode_error(exc, name, offset) from exc
                except msgspec.DecodeError as exc:
                    at = _BYTE_AT.search(str(exc))
                    if at and int(at.group(1)) < end - 1:
                        raise _decode_error(exc, name, offset) from exc
                    items = None  # fooled by an unfinished string: read more
            if items is None:
                want = len(buf) * 2  # no complete item yet: read more
                continue
        if items:
            yield items
        # Drop the decoded run and the comma after it; keep "[" at buf[0].
        rest = end
        while rest < len(buf) and buf[rest] in _WS:
            rest += 1
        if rest < len(buf) and buf[rest] == 0x2C:  # ","
            rest += 1
        elif rest < len(buf) and buf[rest] != 0x5D:  # neither "," nor "]"
            raise ArchiveError(
                f"corrupt JSON in {name}: expected ',' between items",
                member=name,
                offset=offset + rest,
            )
        offset += rest - 1
        del buf[1:rest]
        want = chunk_bytes


def read_object(stream: BinaryIO, name: str, *, limit: int = 64 << 20) -> Any:
    """Decode a small `window.… = {…}` or `[…]` file whole (manifest, account)."""
    buf = bytearray()
    offset = _header(stream, name, buf)
    while True:
        data = stream.read(1 << 20)
        if not data:
            break
        buf += data
        if len(buf) > limit:
            raise ArchiveError(
                f"{name} is unexpectedly large (over {limit >> 20} MiB)", member=name
            )
    body = _tail(buf)
    try:
        return msgspec.json.decode(body)
    except (msgspec.MsgspecError, UnicodeDecodeError) as exc:
        raise _decode_error(exc, name, offset) from exc
