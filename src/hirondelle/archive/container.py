"""The archive as a set of named members: a zip (streamed) or a folder.

Names are normalised to the archive's own root (`data/tweets.js`), whatever
wrapping folder a re-zip added; `__MACOSX/` and AppleDouble files are
dropped. Opening refuses unsafe paths and zip bombs before anything is read.
When a zip's central directory is missing or broken, the local file headers
are scanned instead (some genuine X archives need this).
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import re
import stat
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

from hirondelle.archive.errors import ArchiveError

__all__ = ["Container", "open_container"]

#: Refuse archives that claim more than this in total (real ones reach ~11 GB).
MAX_TOTAL_BYTES = 64 << 30
#: Refuse any single data file larger than this (X splits files at ~100 MiB).
MAX_DATA_FILE_BYTES = 4 << 30
#: A member that inflates more than this many times its compressed size, past
#: `RATIO_FLOOR` bytes, is treated as a bomb. X's JSON inflates 5–20×.
MAX_RATIO = 200
RATIO_FLOOR = 16 << 20
MAX_MEMBERS = 2_000_000

#: With `prefetch` on (the HIRONDELLE_ARCHIVE_THREADS setting), compressed members
#: at least this large
#: are inflated in a second thread, `_PREFETCH_AHEAD` chunks ahead of the
#: reader (zlib releases the GIL while it inflates, so on two idle cores
#: inflating and decoding overlap). Off by default: measured on a shared
#: 2-core machine (bench/README.md) it cost 7 % more CPU and 9 MiB more
#: memory, and gave no shorter wall time while the other core was busy.
PREFETCH = False
PREFETCH_MIN_BYTES = 4 << 20
_PREFETCH_CHUNK = 512 << 10
_PREFETCH_AHEAD = 2

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class MemberInfo:
    name: str  # logical name, relative to the archive root
    raw: object  # ZipInfo, _LocalEntry or Path
    size: int  # uncompressed size as declared
    compressed: int


def _check_name(raw: str) -> None:
    name = raw.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name) or ".." in name.split("/"):
        raise ArchiveError(
            f"unsafe path in the archive: {raw!r} (absolute or with '..'); "
            "this is not a genuine X archive, refusing to read it"
        )


def _is_junk(name: str) -> bool:
    parts = name.split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] == ".DS_Store"


class Container:
    """Named members of an archive, with streaming access."""

    def __init__(self, source: Path, members: dict[str, MemberInfo], opener, closer=None):
        self.source = source
        self.members = members
        self._opener: Callable[[MemberInfo], BinaryIO] = opener
        self._closer = closer
        self.warnings: list[str] = []
        #: Inflate big compressed members in a thread while the caller decodes.
        self.prefetch = PREFETCH

    def open(self, name: str) -> BinaryIO:
        info = self.members.get(name)
        if info is None:
            raise ArchiveError(f"no file named {name!r} in the archive {self.source.name}")
        if info.size > RATIO_FLOOR and info.compressed and info.size > MAX_RATIO * info.compressed:
            raise ArchiveError(
                f"refusing to read {name}: it inflates {info.size // info.compressed}× "
                "(a zip bomb?)",
                member=name,
            )
        stream = self._opener(info)
        if self.prefetch and info.compressed and info.size >= PREFETCH_MIN_BYTES:
            return cast(BinaryIO, _Prefetch(stream))
        return stream

    def size(self, name: str) -> int:
        return self.members[name].size

    def seekable(self, name: str) -> BinaryIO | None:
        """Random access to a member stored without compression (a nested zip), else None."""
        info = self.members[name]
        raw = info.raw
        if isinstance(raw, Path):
            return open(raw, "rb")
        if isinstance(raw, _LocalEntry):
            if raw.method != zipfile.ZIP_STORED:
                return None
            return cast(BinaryIO, _Slice(self.source, raw.data_offset, raw.csize))
        if isinstance(raw, zipfile.ZipInfo) and raw.compress_type == zipfile.ZIP_STORED:
            with open(self.source, "rb") as fh:
                fh.seek(raw.header_offset)
                head = fh.read(30)
            if len(head) < 30 or head[:4] != _LOCAL:
                return None
            nlen, elen = struct.unpack("<HH", head[26:30])
            start = raw.header_offset + 30 + nlen + elen
            return cast(BinaryIO, _Slice(self.source, start, raw.compress_size))
        return None

    def close(self) -> None:
        if self._closer is not None:
            self._closer()


def _normalise(source: Path, raw_names: dict[str, MemberInfo]) -> dict[str, MemberInfo]:
    """Drop junk and one wrapping folder."""
    names = {n: i for n, i in raw_names.items() if not _is_junk(n) and not n.endswith("/")}
    tops = {n.split("/", 1)[0] for n in names}
    markers = ("data/manifest.js", "data/account.js", "account.js", "tweet.js", "tweets.js")
    if not any(m in names for m in markers) and len(tops) == 1:
        (top,) = tops
        if all("/" in n for n in names):
            cut = len(top) + 1
            names = {
                n[cut:]: MemberInfo(n[cut:], i.raw, i.size, i.compressed) for n, i in names.items()
            }
    else:
        names = {n: MemberInfo(n, i.raw, i.size, i.compressed) for n, i in names.items()}
    return names


def _guard_totals(source: Path, members: dict[str, MemberInfo]) -> None:
    if len(members) > MAX_MEMBERS:
        raise ArchiveError(f"{source.name} holds {len(members)} files: too many for an X archive")
    total = sum(i.size for i in members.values())
    if total > MAX_TOTAL_BYTES:
        raise ArchiveError(
            f"{source.name} claims {total / 2**30:.1f} GiB uncompressed, more than the "
            f"{MAX_TOTAL_BYTES >> 30} GiB limit (a zip bomb?)"
        )


# ------------------------------------------------------------------------ folder


def _open_folder(root: Path) -> Container:
    real_root = root.resolve()
    members: dict[str, MemberInfo] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = [d for d in dirnames if d != "__MACOSX"]
        for fn in filenames:
            full = Path(dirpath) / fn
            rel = fn if rel_dir == "." else f"{rel_dir.replace(os.sep, '/')}/{fn}"
            try:
                st = full.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                target = full.resolve()
                if not target.is_relative_to(real_root):
                    raise ArchiveError(
                        f"unsafe path in the archive: {rel!r} links outside the folder"
                    )
                st = target.stat()
            if not stat.S_ISREG(st.st_mode):
                continue
            members[rel] = MemberInfo(rel, full, st.st_size, 0)

    def opener(info: MemberInfo) -> BinaryIO:
        try:
            return open(cast(Path, info.raw), "rb")
        except OSError as exc:
            raise ArchiveError(
                f"cannot read {info.name}: {exc.strerror}", member=info.name
            ) from exc

    return Container(root, _normalise(root, members), opener)


# --------------------------------------------------------------------------- zip


def _open_zip(path: Path) -> Container:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        return _open_local_scan(path, exc)
    except (OSError, ValueError, EOFError, struct.error) as exc:
        raise ArchiveError(f"{path.name} cannot be read as a zip: {exc}") from exc
    members: dict[str, MemberInfo] = {}
    try:
        for info in zf.infolist():
            _check_name(info.filename)
            if info.is_dir():
                continue
            members[info.filename] = MemberInfo(
                info.filename, info, info.file_size, info.compress_size
            )
    except ArchiveError:
        zf.close()
        raise

    fallback: list[Container] = []

    def rescue(info: MemberInfo, exc: Exception) -> BinaryIO | None:
        """The central directory points to the wrong place (seen in >4 GB archives
        written without ZIP64): find the member by its local header instead."""
        if not fallback:
            try:
                fallback.append(_open_local_scan(path, exc))
            except ArchiveError:
                return None
            container.warnings.append(
                f"{path.name} has a damaged zip directory ({exc}); files were found by "
                "scanning the zip instead"
            )
        if info.name in fallback[0].members:
            return fallback[0].open(info.name)
        return None

    def opener(info: MemberInfo) -> BinaryIO:
        if fallback and info.name in fallback[0].members:
            return fallback[0].open(info.name)
        try:
            raw = zf.open(cast(zipfile.ZipInfo, info.raw))
            return cast(BinaryIO, _GuardedStream(raw, info.name))
        except zipfile.BadZipFile as exc:
            stream = rescue(info, exc)
            if stream is not None:
                return stream
            raise ArchiveError(
                f"the zip is damaged: cannot open {info.name} ({exc})", member=info.name
            ) from exc
        except (OSError, EOFError, ValueError, struct.error, zlib.error) as exc:
            raise ArchiveError(
                f"the zip is damaged: cannot open {info.name} ({exc})", member=info.name
            ) from exc
        except NotImplementedError as exc:
            raise ArchiveError(
                f"unsupported compression in {info.name} ({exc})", member=info.name
            ) from exc

    container = Container(path, _normalise(path, members), opener, zf.close)
    return container


class _GuardedStream:
    """A member stream whose every failure is an ArchiveError with the offset."""

    def __init__(self, raw: IO[bytes], name: str):
        self._raw = raw
        self._name = name
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._raw.read(n)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, struct.error, zlib.error) as exc:
            raise ArchiveError(
                f"the zip is damaged or truncated: reading {self._name} failed ({exc}); "
                "download the archive again",
                member=self._name,
                offset=self._pos,
            ) from exc
        self._pos += len(data)
        return data

    def close(self) -> None:
        # Closing a damaged stream must not mask the real error.
        with contextlib.suppress(Exception):
            self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Prefetch:
    """A member stream read ahead by a thread, `_PREFETCH_AHEAD` chunks at most.

    Only the thread touches the underlying stream until it has finished;
    whatever it raised (an ArchiveError for a damaged zip) is raised again
    by the `read` that reaches that point. `close` stops and joins it.
    """

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(_PREFETCH_AHEAD)
        self._stop = threading.Event()
        self._pending = b""
        self._done = False
        self._thread = threading.Thread(target=self._run, name="archive-inflate", daemon=True)
        self._thread.start()

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._raw.read(_PREFETCH_CHUNK)
                if not data:
                    break
                if not self._put(data):
                    return
            self._put(None)
        except BaseException as exc:  # handed to the reader, raised there
            self._put(exc)

    def read(self, n: int = -1) -> bytes:
        out = [self._pending]
        have = len(self._pending)
        want = (1 << 62) if n is None or n < 0 else n
        while have < want and not self._done:
            item = self._queue.get()
            if item is None:
                self._done = True
            elif isinstance(item, BaseException):
                self._done = True
                self._pending = b""
                raise item
            else:
                out.append(item)
                have += len(item)
        data = b"".join(out) if len(out) > 1 else out[0]
        self._pending = data[want:] if have > want else b""
        return data[:want] if have > want else data

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Slice(io.RawIOBase):
    """A read-only, seekable window on part of a file."""

    def __init__(self, path: Path, start: int, length: int):
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._start = start
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._length}[whence]
        self._pos = max(0, min(base + offset, self._length))
        return self._pos

    def readinto(self, b) -> int:
        n = min(len(b), self._length - self._pos)
        if n <= 0:
            return 0
        self._fh.seek(self._start + self._pos)
        data = self._fh.read(n)
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        self._fh.close()
        super().close()


# ------------------------------------------------------- local-header fallback


@dataclass(frozen=True, slots=True)
class _LocalEntry:
    data_offset: int
    method: int
    csize: int
    crc: int


_LOCAL = b"PK\x03\x04"


def _scan_local_headers(path: Path) -> dict[str, MemberInfo]:
    """Walk local file headers from the start; the central directory is not used."""
    members: dict[str, MemberInfo] = {}
    size = path.stat().st_size
    with open(path, "rb") as fh:
        pos = 0
        while pos + 4 <= size:
            fh.seek(pos)
            head = fh.read(30)
            if head[:4] != _LOCAL:
                break  # central directory, or junk after the last member
            if len(head) < 30:
                raise ArchiveError(
                    f"{path.name} is truncated: it ends inside a file header at byte {pos}"
                )
            (_, _, flags, method, _, _, crc, csize, usize, nlen, elen) = struct.unpack(
                "<4sHHHHHIIIHH", head
            )
            name_b = fh.read(nlen)
            extra = fh.read(elen)
            if len(name_b) < nlen or len(extra) < elen:
                raise ArchiveError(
                    f"{path.name} is truncated: it ends inside a file header at byte {pos}"
                )
            name = name_b.decode("utf-8" if flags & 0x800 else "cp437")
            _check_name(name)
            i = 0
            while i + 4 <= len(extra):
                tag, ln = struct.unpack("<HH", extra[i : i + 4])
                if tag == 1:
                    vals = extra[i + 4 : i + 4 + ln]
                    if usize == 0xFFFFFFFF and len(vals) >= 8:
                        usize = struct.unpack("<Q", vals[:8])[0]
                        vals = vals[8:]
                    if csize == 0xFFFFFFFF and len(vals) >= 8:
                        csize = struct.unpack("<Q", vals[:8])[0]
                i += 4 + ln
            data_offset = pos + 30 + nlen + elen
            if flags & 0x8:  # sizes follow the data: inflate to find the end
                if method != zipfile.ZIP_DEFLATED:
                    raise ArchiveError(
                        f"{path.name} has a damaged central directory and a stored member "
                        f"({name}) without sizes: it cannot be read"
                    )
                csize, usize = _inflate_length(fh, data_offset, path.name, name)
                fh.seek(data_offset + csize)
                desc = fh.read(24)
                skip = 4 if desc[:4] == b"PK\x07\x08" else 0
                crc = struct.unpack("<I", desc[skip : skip + 4])[0] if len(desc) >= skip + 4 else 0
                nxt = data_offset + csize + skip + 12
                if desc[skip + 12 : skip + 16] not in (_LOCAL, b"PK\x01\x02", b"") and desc[
                    skip + 20 : skip + 24
                ] in (_LOCAL, b"PK\x01\x02", b""):
                    nxt = data_offset + csize + skip + 20  # ZIP64 descriptor
            else:
                nxt = data_offset + csize
            if nxt > size:
                raise ArchiveError(
                    f"{path.name} is truncated: it ends inside {name} "
                    f"(needs {nxt} bytes, has {size}); download the archive again"
                )
            if not name.endswith("/"):
                members[name] = MemberInfo(
                    name, _LocalEntry(data_offset, method, csize, crc), usize, csize
                )
            pos = nxt
            if len(members) > MAX_MEMBERS:
                break
    return members


def _inflate_length(fh, offset: int, zip_name: str, name: str) -> tuple[int, int]:
    fh.seek(offset)
    d = zlib.decompressobj(-15)
    consumed = produced = 0
    while not d.eof:
        chunk = fh.read(1 << 20)
        if not chunk:
            raise ArchiveError(
                f"{zip_name} is truncated: it ends inside {name}; download the archive again"
            )
        try:
            out = d.decompress(chunk, 1 << 24)
            produced += len(out)
            while d.unconsumed_tail and not d.eof:
                out = d.decompress(d.unconsumed_tail, 1 << 24)
                produced += len(out)
                if produced > MAX_TOTAL_BYTES:
                    raise ArchiveError(f"{zip_name}: {name} inflates without end (a zip bomb?)")
        except zlib.error as exc:
            raise ArchiveError(f"{zip_name}: {name} is damaged ({exc})", member=name) from exc
        consumed += len(chunk) - len(d.unused_data) - len(d.unconsumed_tail)
    return consumed, produced


class _LocalStream:
    def __init__(self, path: Path, entry: _LocalEntry, name: str, size: int):
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._fh.seek(entry.data_offset)
        self._left = entry.csize
        self._name = name
        self._method = entry.method
        self._crc_expected = entry.crc
        self._crc = 0
        self._d = zlib.decompressobj(-15) if entry.method == zipfile.ZIP_DEFLATED else None
        self._pending = b""
        self._pos = 0
        self._limit = size
        if entry.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(f"unsupported compression method {entry.method}", member=name)

    def read(self, n: int = -1) -> bytes:
        n = (1 << 62) if n is None or n < 0 else n
        out = [self._pending]
        have = len(self._pending)
        while have < n and (self._left > 0 or (self._d is not None and self._d.unconsumed_tail)):
            raw = b""
            if self._left > 0:
                raw = self._fh.read(min(self._left, 1 << 20))
                if not raw:
                    raise ArchiveError(
                        "the zip is truncated", member=self._name, offset=self._pos + have
                    )
                self._left -= len(raw)
            if self._d is None:
                piece = raw
            else:
                try:
                    piece = self._d.decompress(self._d.unconsumed_tail + raw, 1 << 22)
                except zlib.error as exc:
                    raise ArchiveError(
                        f"the zip is damaged ({exc})", member=self._name, offset=self._pos + have
                    ) from exc
            out.append(piece)
            have += len(piece)
        data = b"".join(out)
        data, self._pending = data[:n], data[n:]
        self._crc = zlib.crc32(data, self._crc)
        self._pos += len(data)
        if self._pos > self._limit:
            raise ArchiveError(
                "the zip is damaged: this file inflates past its declared size (a zip bomb?)",
                member=self._name,
                offset=self._limit,
            )
        if (
            self._left == 0
            and not self._pending
            and (self._d is None or not self._d.unconsumed_tail)
            and self._crc_expected
            and self._crc != self._crc_expected
        ):
            raise ArchiveError("the zip is damaged (bad CRC)", member=self._name, offset=self._pos)
        return data

    def close(self) -> None:
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open_local_scan(path: Path, original: Exception) -> Container:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != _LOCAL:
        raise ArchiveError(
            f"{path.name} is not a zip file (nor a folder): give the .zip that X sent, "
            "or the folder it unzips to"
        ) from original
    members = _scan_local_headers(path)
    if not members:
        raise ArchiveError(f"{path.name} is a damaged zip with no readable file") from original

    def opener(info: MemberInfo) -> BinaryIO:
        entry = cast(_LocalEntry, info.raw)
        return cast(BinaryIO, _LocalStream(path, entry, info.name, info.size))

    container = Container(path, _normalise(path, members), opener)
    container.warnings.append(
        f"{path.name} has a missing or damaged zip directory ({original}); it was read "
        "file by file instead: if counts look low, download the archive again"
    )
    return container


def open_container(path: Path | str) -> Container:
    """Open a zip or a folder as a `Container`, refusing unsafe input."""
    p = Path(path)
    if p.is_dir():
        container = _open_folder(p)
    elif p.is_file():
        container = _open_zip(p)
    elif p.exists():
        raise ArchiveError(f"{p} is neither a file nor a folder")
    else:
        raise ArchiveError(f"{p} does not exist")
    try:
        _guard_totals(p, container.members)
    except ArchiveError:
        container.close()
        raise
    return container
