"""The archive as a set of named members: a zip (streamed) or a folder.

Names are normalised to the archive's own root (`data/tweets.js`), whatever
wrapping folder a re-zip added; `__MACOSX/` and AppleDouble files are
dropped. Opening refuses unsafe paths and zip bombs before anything is read.
When a zip's central directory is missing or broken, the local file headers
are scanned instead (some genuine X archives need this).

A zip's central directory is read by this module, not by `zipfile`: heavy
archives hold 16,000–118,000 members (mostly media files), and `zipfile`
keeps ~800 bytes for each. Here only the members the reader names (`keep`:
data files, nested zips) are kept whole; the others are kept as a hash and
the place of their directory entry (16 bytes), read again from the file when
one is looked up (and its name compared: no hash is trusted alone).
"""

from __future__ import annotations

import bisect
import io
import os
import queue
import re
import stat
import struct
import threading
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from hirondelle.archive.errors import ArchiveError

__all__ = ["Container", "Members", "open_container"]

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
#: Compression methods read (X stores or deflates); `zipfile` is not imported
#: on this path (a megabyte of the command's memory).
ZIP_STORED = 0
ZIP_DEFLATED = 8


@dataclass(frozen=True, slots=True)
class MemberInfo:
    name: str  # logical name, relative to the archive root
    raw: object  # _ZipEntry, _LocalEntry or Path
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


class Members:
    """Member names (relative to the archive root) → `MemberInfo`.

    `listed()` gives the names kept whole (all of them here; for a zip, those
    `keep` chose); iterating gives every name, and may read the zip again.
    """

    def __init__(self, entries: dict[str, MemberInfo]):
        self._entries = entries
        #: Members counted and the bytes they claim (for the bomb checks).
        self.count = len(entries)
        self.total = sum(i.size for i in entries.values())
        self._dirs: set[str] | None = None

    def get(self, name: str) -> MemberInfo | None:
        return self._entries.get(name)

    def __getitem__(self, name: str) -> MemberInfo:
        info = self.get(name)
        if info is None:
            raise KeyError(name)
        return info

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def listed(self) -> Iterable[str]:
        """The names kept whole: every data file and nested zip is among them."""
        return self._entries.keys()

    def dirs(self) -> set[str]:
        """The folder of every member (`data/tweets_media`), without the final "/"."""
        if self._dirs is None:
            self._dirs = {n.rsplit("/", 1)[0] for n in self._entries if "/" in n}
        return self._dirs

    def close(self) -> None:
        pass


class Container:
    """Named members of an archive, with streaming access."""

    def __init__(self, source: Path, members: Members, opener, closer=None):
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
            if raw.method != ZIP_STORED:
                return None
            return cast(BinaryIO, _Slice(self.source, raw.data_offset, raw.csize))
        if isinstance(raw, _ZipEntry) and raw.method == ZIP_STORED:
            with open(self.source, "rb") as fh:
                fh.seek(raw.header_offset)
                head = fh.read(30)
            if len(head) < 30 or head[:4] != _LOCAL:
                return None
            nlen, elen = struct.unpack("<HH", head[26:30])
            start = raw.header_offset + 30 + nlen + elen
            return cast(BinaryIO, _Slice(self.source, start, info.compressed))
        return None

    def close(self) -> None:
        self.members.close()
        if self._closer is not None:
            self._closer()


_MARKERS = ("data/manifest.js", "data/account.js", "account.js", "tweet.js", "tweets.js")


def _normalise(source: Path, raw_names: dict[str, MemberInfo]) -> Members:
    """Drop junk and one wrapping folder."""
    names = {n: i for n, i in raw_names.items() if not _is_junk(n) and not n.endswith("/")}
    tops = {n.split("/", 1)[0] for n in names}
    if not any(m in names for m in _MARKERS) and len(tops) == 1:
        (top,) = tops
        if all("/" in n for n in names):
            cut = len(top) + 1
            names = {
                n[cut:]: MemberInfo(n[cut:], i.raw, i.size, i.compressed) for n, i in names.items()
            }
    else:
        names = {n: MemberInfo(n, i.raw, i.size, i.compressed) for n, i in names.items()}
    return Members(names)


def _guard_totals(source: Path, members: Members) -> None:
    if members.count > MAX_MEMBERS:
        raise ArchiveError(f"{source.name} holds {members.count} files: too many for an X archive")
    total = members.total
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


class _BadZip(Exception):
    """The zip's structure cannot be read as its directory says (→ local-header scan)."""


@dataclass(frozen=True, slots=True)
class _ZipEntry:
    """A member as its central directory entry describes it."""

    raw_name: str  # as written in the zip (before a wrapping folder is cut)
    header_offset: int
    method: int
    crc: int
    flags: int


_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_CENTRAL = b"PK\x01\x02"
_CENTRAL_HEAD = struct.Struct("<4s4B4HL2L5H2L")  # 46 bytes
_U32 = 0xFFFFFFFF
_CD_BLOCK = 64 << 10
#: Compact members are looked up by (hash << _ORD_BITS | member number).
_ORD_BITS = 21
_ORD_MASK = (1 << _ORD_BITS) - 1
_HASH_MASK = (1 << (64 - _ORD_BITS)) - 1
assert MAX_MEMBERS < _ORD_MASK


def _end_record(fd: int, size: int) -> tuple[int, int, int]:
    """(members, directory size, directory start) from the end records; `_BadZip` if none.

    As `zipfile` reads them: the last end record in the file's last 64 KiB,
    the ZIP64 end record right before its locator, and the directory found
    relative to the end record (a zip with bytes prepended still reads).
    """
    if size < 22:
        raise _BadZip("File is not a zip file")
    tail = os.pread(fd, min(size, (1 << 16) + 22), max(0, size - (1 << 16) - 22))
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise _BadZip("File is not a zip file")
    where = size - len(tail) + at
    (_, disk, disk_cd, _, count, cd_size, cd_offset, _) = struct.unpack(
        "<4s4H2LH", tail[at : at + 22]
    )
    end = where
    if where >= 20:
        loc = os.pread(fd, 20, where - 20)
        if loc[:4] == _EOCD64_LOCATOR:
            _, disk64, _, disks = struct.unpack("<4sLQL", loc)
            if disk64 != 0 or disks > 1:
                raise _BadZip("zipfiles that span multiple disks are not supported")
            if where >= 76:
                rec = os.pread(fd, 56, where - 76)
                if rec[:4] == _EOCD64:
                    (_, _, _, _, disk, disk_cd, _, count, cd_size, cd_offset) = struct.unpack(
                        "<4sQ2H2L4Q", rec
                    )
                    end = where - 76
    if disk != 0 or disk_cd != 0:
        raise _BadZip("zipfiles that span multiple disks are not supported")
    concat = end - cd_size - cd_offset
    start = cd_offset + concat
    if start < 0 or start + cd_size > size:
        raise _BadZip("Bad offset for central directory")
    return count, cd_size, start


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset from the ZIP64 extra field, for those the entry marks 0xFFFFFFFF."""
    i = 0
    while i + 4 <= len(extra):
        tag, ln = struct.unpack_from("<HH", extra, i)
        if i + 4 + ln > len(extra):
            raise _BadZip(f"Corrupt extra field {tag:04x} (size={ln})")
        if tag == 1:
            vals = extra[i + 4 : i + 4 + ln]
            for which in range(3):
                value = (usize, csize, offset)[which]
                if value != _U32:
                    continue
                if len(vals) < 8:
                    raise _BadZip("Corrupt extra field 0001")
                got = struct.unpack_from("<Q", vals)[0]
                vals = vals[8:]
                if which == 0:
                    usize = got
                elif which == 1:
                    csize = got
                else:
                    offset = got
            break
        i += 4 + ln
    return usize, csize, offset


def _central_entries(
    fd: int, start: int, cd_size: int
) -> Iterator[tuple[int, str, int, int, int, int, int, int]]:
    """(entry position, name, flags, method, crc, csize, usize, header offset) of each entry.

    Read in small blocks: the directory of a heavy archive (megabytes) is never
    held whole, and no block is large enough for the C library to keep it.
    """
    buf = b""
    i = 0
    pos = start  # file position of buf[i]
    end = start + cd_size
    read_at = start
    head = _CENTRAL_HEAD
    unpack = head.unpack_from
    while pos < end:
        if len(buf) - i < 46:
            buf = buf[i:] + os.pread(fd, min(_CD_BLOCK, end - read_at), read_at)
            read_at = pos + len(buf)
            i = 0
            if len(buf) < 46:
                raise _BadZip("Truncated central directory")
        (
            sig,
            _,
            _,
            _,
            _,
            flags,
            method,
            _,
            _,
            crc,
            csize,
            usize,
            nlen,
            elen,
            clen,
            _,
            _,
            _,
            offset,
        ) = unpack(buf, i)
        if sig != _CENTRAL:
            raise _BadZip("Bad magic number for central directory")
        need = 46 + nlen + elen + clen
        if len(buf) - i < need:
            buf = buf[i:] + os.pread(fd, max(min(_CD_BLOCK, end - read_at), need), read_at)
            read_at = pos + len(buf)
            i = 0
            if len(buf) < need:
                raise _BadZip("Truncated central directory")
        raw = buf[i + 46 : i + 46 + nlen]
        name = raw.decode("utf-8") if flags & 0x800 else raw.decode("cp437")
        if usize == _U32 or csize == _U32 or offset == _U32:
            extra = buf[i + 46 + nlen : i + 46 + nlen + elen]
            usize, csize, offset = _zip64_extra(extra, usize, csize, offset)
        yield pos, name, flags, method, crc, csize, usize, offset
        i += need
        pos += need


class _ZipMembers(Members):
    """A zip's members: those `keep` names whole, the others as (hash, entry position).

    Looking a compact member up reads its directory entry again (one `pread`)
    and compares the name, so a hash collision can never answer wrongly.
    """

    def __init__(self, path: Path, keep: Callable[[str], bool] | None):
        self._fd = os.open(path, os.O_RDONLY)
        try:
            self._read(path, keep)
        except BaseException:
            os.close(self._fd)
            raise

    def _read(self, path: Path, keep: Callable[[str], bool] | None) -> None:
        fd = self._fd
        declared, cd_size, start = _end_record(fd, os.fstat(fd).st_size)
        self._cd = (start, cd_size)
        full: dict[str, MemberInfo] = {}
        # Sized once from the end record (never grown: a grown array leaves holes).
        room = max(0, min(declared, MAX_MEMBERS, cd_size // 46))
        keys = array("Q", bytes(8 * room))
        where = array("Q", bytes(8 * room))
        compact = 0
        dirs: set[str] = set()
        count = total = 0
        top: str | None = None
        one_top = all_nested = True
        marked = False
        for pos, name, flags, method, crc, csize, usize, offset in _central_entries(
            fd, start, cd_size
        ):
            # The usual name needs neither full check (`_check_name`, `_is_junk`).
            if "\\" in name or ".." in name or name[:1] == "/" or name[1:2] == ":":
                _check_name(name)
            if name.endswith("/") or (
                ("__MACOSX" in name or "._" in name or ".DS_Store" in name) and _is_junk(name)
            ):
                continue
            count += 1
            total += usize
            if count > MAX_MEMBERS:
                continue  # counted for the message, not kept
            cut = name.find("/")
            if cut < 0:
                all_nested = False
                one_top = False
                marked = marked or name in _MARKERS
            else:
                first = name[:cut]
                if top is None:
                    top = first
                elif first != top:
                    one_top = False
                if not marked and name in _MARKERS:
                    marked = True
                dirs.add(name[: name.rfind("/")])
            if keep is None or keep(name):
                full[name] = MemberInfo(
                    name, _ZipEntry(name, offset, method, crc, flags), usize, csize
                )
            else:
                key = (hash(name) & _HASH_MASK) << _ORD_BITS | compact
                if compact < room:
                    keys[compact], where[compact] = key, pos
                else:  # more entries than the end record says
                    keys.append(key)
                    where.append(pos)
                compact += 1
        prefix = ""
        if not marked and one_top and all_nested and top is not None:
            prefix = top + "/"
        self._prefix = prefix
        cut = len(prefix)
        self._entries = {
            n[cut:]: MemberInfo(n[cut:], i.raw, i.size, i.compressed) for n, i in full.items()
        }
        del keys[compact:], where[compact:]
        self._where = where
        self._keys = array("Q", sorted(keys))
        del keys
        self._dirs = {d[cut:] for d in dirs if len(d) > cut} if cut else dirs
        self.count = count
        self.total = total

    def _entry_at(self, pos: int) -> tuple[str, MemberInfo] | None:
        """(raw name, info) of the directory entry at `pos`."""
        head = os.pread(self._fd, 46 + 512, pos)
        if len(head) < 46 or head[:4] != _CENTRAL:
            return None
        (_, _, _, _, _, flags, method, _, _, crc, csize, usize, nlen, elen, _, _, _, _, offset) = (
            _CENTRAL_HEAD.unpack_from(head)
        )
        if len(head) < 46 + nlen + elen:
            head = os.pread(self._fd, 46 + nlen + elen, pos)
        raw = head[46 : 46 + nlen]
        name = raw.decode("utf-8") if flags & 0x800 else raw.decode("cp437")
        if usize == _U32 or csize == _U32 or offset == _U32:
            try:
                usize, csize, offset = _zip64_extra(
                    head[46 + nlen : 46 + nlen + elen], usize, csize, offset
                )
            except _BadZip:
                return None
        logical = name[len(self._prefix) :]
        return name, MemberInfo(logical, _ZipEntry(name, offset, method, crc, flags), usize, csize)

    def get(self, name: str) -> MemberInfo | None:
        info = self._entries.get(name)
        if info is not None:
            return info
        raw = self._prefix + name
        key = (hash(raw) & _HASH_MASK) << _ORD_BITS
        keys = self._keys
        i = bisect.bisect_left(keys, key)
        found = None
        while i < len(keys) and keys[i] >> _ORD_BITS == key >> _ORD_BITS:
            entry = self._entry_at(self._where[keys[i] & _ORD_MASK])
            if entry is not None and entry[0] == raw:
                found = entry[1]  # the last of duplicates wins, as in a dict
            i += 1
        return found

    def __iter__(self) -> Iterator[str]:
        """Every name, the compact ones read again from the directory."""
        seen = set(self._entries)
        yield from self._entries
        cut = len(self._prefix)
        for _pos, name, *_ in _central_entries(self._fd, *self._cd):
            if name.endswith("/") or _is_junk(name):
                continue
            logical = name[cut:]
            if logical not in seen:
                seen.add(logical)
                yield logical

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _open_zip(path: Path, keep: Callable[[str], bool] | None = None) -> Container:
    try:
        members = _ZipMembers(path, keep)
    except _BadZip as exc:
        return _open_local_scan(path, exc)
    except (OSError, ValueError, EOFError, struct.error) as exc:
        raise ArchiveError(f"{path.name} cannot be read as a zip: {exc}") from exc

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
            return _open_entry(path, info)
        except _BadZip as exc:
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

    container = Container(path, members, opener)
    return container


def _open_entry(path: Path, info: MemberInfo) -> BinaryIO:
    """A member's stream, after checking its local header as `zipfile` does."""
    entry = cast(_ZipEntry, info.raw)
    if entry.flags & 0x1:
        raise ArchiveError(
            f"{info.name} is encrypted: X archives never are; download the archive again",
            member=info.name,
        )
    if entry.method not in (ZIP_STORED, ZIP_DEFLATED):
        raise ArchiveError(
            f"unsupported compression in {info.name} (method {entry.method})", member=info.name
        )
    with open(path, "rb") as fh:
        fh.seek(entry.header_offset)
        head = fh.read(30)
        if len(head) < 30 or head[:4] != _LOCAL:
            raise _BadZip("Bad magic number for file header")
        nlen, elen = struct.unpack("<HH", head[26:30])
        raw = fh.read(nlen)
    name = raw.decode("utf-8") if entry.flags & 0x800 else raw.decode("cp437", "replace")
    if name != entry.raw_name:
        raise _BadZip(f"File name in directory {entry.raw_name!r} and header {name!r} differ.")
    start = entry.header_offset + 30 + nlen + elen
    return cast(
        BinaryIO,
        _MemberStream(path, start, entry.method, info.compressed, info.size, entry.crc, info.name),
    )


class _MemberStream:
    """Inflate (or copy) one member: at most `n` bytes a read, CRC checked at the end.

    Any failure is an ArchiveError naming the member and the offset; a member
    inflating past its declared size is refused (a zip bomb).
    """

    _STEP = 64 << 10  # compressed bytes read at a time (small: no big transient block)

    def __init__(
        self, path: Path, start: int, method: int, csize: int, size: int, crc: int | None, name: str
    ):
        if method not in (ZIP_STORED, ZIP_DEFLATED):
            raise ArchiveError(f"unsupported compression method {method}", member=name)
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._fh.seek(start)
        self._left = csize
        self._name = name
        self._d = zlib.decompressobj(-15) if method == ZIP_DEFLATED else None
        self._crc_expected = crc
        self._crc = 0
        self._pos = 0
        self._limit = size
        self._done = False

    def _fail(self, why: str, at: int) -> ArchiveError:
        return ArchiveError(
            f"the zip is damaged or truncated: reading {self._name} failed ({why}); "
            "download the archive again",
            member=self._name,
            offset=at,
        )

    def _raw(self, n: int) -> bytes:
        data = self._fh.read(min(self._left, n))
        if not data:
            raise self._fail("the zip ends early", self._pos)
        self._left -= len(data)
        return data

    def read(self, n: int | None = -1) -> bytes:
        want = (1 << 62) if n is None or n < 0 else n
        out: list[bytes] = []
        have = 0
        d = self._d
        while have < want and not self._done:
            if d is None:
                if self._left == 0:
                    self._done = True
                    break
                piece = self._raw(min(want - have, 1 << 20))
            else:
                data = d.unconsumed_tail
                if not data:
                    if d.eof or self._left == 0:
                        if not d.eof:
                            raise self._fail("its compressed data ends early", self._pos + have)
                        self._done = True
                        break
                    data = self._raw(self._STEP)
                room = self._limit - self._pos - have + 1  # one byte past: a bomb shows
                try:
                    piece = d.decompress(data, max(1, min(want - have, room, 1 << 24)))
                except zlib.error as exc:
                    raise self._fail(str(exc), self._pos + have) from exc
                if d.eof:
                    self._done = True
            if piece:
                out.append(piece)
                have += len(piece)
                if self._pos + have > self._limit:
                    raise ArchiveError(
                        "the zip is damaged: this file inflates past its declared size "
                        "(a zip bomb?)",
                        member=self._name,
                        offset=self._limit,
                    )
        data = out[0] if len(out) == 1 else b"".join(out)
        self._crc = zlib.crc32(data, self._crc)
        self._pos += len(data)
        if self._done and self._crc_expected is not None and self._crc != self._crc_expected:
            self._crc_expected = None  # said once
            raise ArchiveError("the zip is damaged (bad CRC)", member=self._name, offset=self._pos)
        return data

    def close(self) -> None:
        self._fh.close()

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
                if method != ZIP_DEFLATED:
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
        return cast(
            BinaryIO,
            _MemberStream(
                path,
                entry.data_offset,
                entry.method,
                entry.csize,
                info.size,
                entry.crc or None,  # a data descriptor may have left it unknown
                info.name,
            ),
        )

    container = Container(path, _normalise(path, members), opener)
    container.warnings.append(
        f"{path.name} has a missing or damaged zip directory ({original}); it was read "
        "file by file instead: if counts look low, download the archive again"
    )
    return container


def open_container(path: Path | str, keep: Callable[[str], bool] | None = None) -> Container:
    """Open a zip or a folder as a `Container`, refusing unsafe input.

    `keep(name)` (a name as the zip writes it) tells which members of a zip
    to keep whole in memory; the others are looked up in the zip when asked
    for. By default all are kept.
    """
    p = Path(path)
    if p.is_dir():
        container = _open_folder(p)
    elif p.is_file():
        container = _open_zip(p, keep)
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
