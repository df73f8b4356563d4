"""Tweet entries → `Post` records: links, entities, media, notes, edits.

The msgspec structs name only the fields a migration uses, so decoding skips
the rest at C speed. Text rules (reference: x-archive.md, "Text semantics"):
entity indices are code points into the still-escaped `full_text`; links are
replaced by index from the end, the trailing media link is dropped, and only
the text between links is unescaped (`&lt;`, `&gt;`, then `&amp;`).

The structs are `gc=False`: decoded data holds no reference cycles, and not
tracking millions of small objects halves the decoding time.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
import zlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec

from hirondelle.archive.records import Media, MediaKind, Mention, Post

__all__ = ["LightTweet", "NoteIndex", "PostContext", "Tweet", "build_post", "parse_x_time"]

Num = str | int | float | None


class _Url(msgspec.Struct, gc=False):
    url: str | None = None
    expanded_url: str | None = None
    indices: list[Num] | None = None


class _Mention(msgspec.Struct, gc=False):
    screen_name: str | None = None
    name: str | None = None
    id_str: str | None = None
    indices: list[Num] | None = None


class _Tag(msgspec.Struct, gc=False):
    text: str | None = None
    indices: list[Num] | None = None


class _Variant(msgspec.Struct, gc=False):
    url: str | None = None
    content_type: str | None = None
    bitrate: Num = None


class _VideoInfo(msgspec.Struct, gc=False):
    variants: list[_Variant] | None = None


class _Media(msgspec.Struct, gc=False):
    url: str | None = None
    type: str | None = None
    media_url_https: str | None = None
    media_url: str | None = None
    video_info: _VideoInfo | None = None
    source_status_id_str: str | None = None
    indices: list[Num] | None = None


class _Entities(msgspec.Struct, gc=False):
    hashtags: list[_Tag] | None = None
    user_mentions: list[_Mention] | None = None
    urls: list[_Url] | None = None
    media: list[_Media] | None = None


class _ExtEntities(msgspec.Struct, gc=False):
    media: list[_Media] | None = None


class _EditControl(msgspec.Struct, gc=False):
    editTweetIds: list[str] | None = None


class _EditEdit(msgspec.Struct, gc=False):
    initialTweetId: str | None = None
    editControlInitial: _EditControl | None = None


class _EditInfo(msgspec.Struct, gc=False):
    initial: _EditControl | None = None
    edit: _EditEdit | None = None

    def ids(self) -> list[str]:
        if self.initial is not None and self.initial.editTweetIds:
            return self.initial.editTweetIds
        if self.edit is not None and self.edit.editControlInitial is not None:
            return self.edit.editControlInitial.editTweetIds or []
        return []


class Tweet(msgspec.Struct, gc=False):
    id_str: str | None = None
    id: Num = None
    full_text: str | None = None
    text: str | None = None  # very old archives
    created_at: str | None = None
    lang: str | None = None
    source: str | None = None
    entities: _Entities | None = None
    extended_entities: _ExtEntities | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    in_reply_to_screen_name: str | None = None
    possibly_sensitive: bool | None = None
    edit_info: _EditInfo | None = None

    def tid(self) -> str:
        if self.id_str:
            return self.id_str
        if isinstance(self.id, str):
            return self.id
        if isinstance(self.id, int):
            return str(self.id)
        return ""  # a float id is corrupted: never trust it

    def raw_text(self) -> str:
        return self.full_text if self.full_text is not None else (self.text or "")


class TweetItem(msgspec.Struct, gc=False):
    tweet: Tweet | None = None


class LightTweet(msgspec.Struct, gc=False):
    """Just what thread and edit linking need (first pass)."""

    id_str: str | None = None
    id: Num = None
    full_text: str | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    in_reply_to_screen_name: str | None = None
    edit_info: _EditInfo | None = None

    def tid(self) -> str:
        return Tweet.tid(self)  # type: ignore[arg-type]


class LightItem(msgspec.Struct, gc=False):
    tweet: LightTweet | None = None


#: Raw values that decode to nothing: skipped without a decoder call.
_EMPTY = tuple(msgspec.Raw(v) for v in (b"[ ]", b"[]", b"null"))
_EMPTY_OBJECT = tuple(msgspec.Raw(v) for v in (b"{ }", b"{}", b"null"))


class _Packer:
    """Deflates short texts one by one, each readable alone (`unpack`).

    One compressor for all (a fresh one per text costs ~20 µs): a full flush
    after each text resets its history, so each piece inflates on its own.
    """

    def __init__(self) -> None:
        self._c = zlib.compressobj(1, zlib.DEFLATED, -15)

    def pack(self, data: bytes) -> bytes:
        return self._c.compress(data) + self._c.flush(zlib.Z_FULL_FLUSH)

    @staticmethod
    def unpack(data: bytes) -> bytes:
        return zlib.decompressobj(-15).decompress(data)


class _CensusEntities(msgspec.Struct, gc=False):
    """Entities left raw: decoded only for the few posts whose count needs them."""

    hashtags: msgspec.Raw = None  # type: ignore[assignment]
    user_mentions: msgspec.Raw = None  # type: ignore[assignment]
    urls: msgspec.Raw = None  # type: ignore[assignment]
    media: msgspec.Raw = None  # type: ignore[assignment]


class CensusTweet(msgspec.Struct, gc=False, omit_defaults=True):
    """What counting a post needs (`inspect`); `full()` rebuilds a `Tweet` when it needs more."""

    id_str: str | None = None
    id: Num = None
    full_text: str | None = None
    text: str | None = None
    created_at: str | None = None
    entities: _CensusEntities | None = None
    extended_entities: msgspec.Raw = None  # type: ignore[assignment]
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    in_reply_to_screen_name: str | None = None
    edit_info: _EditInfo | None = None

    def tid(self) -> str:
        return Tweet.tid(self)  # type: ignore[arg-type]

    def raw_text(self) -> str:
        return self.full_text if self.full_text is not None else (self.text or "")

    def detached(self) -> bytes:
        """The entry as compact JSON, to keep past its batch (`attached` decodes it back).

        Half the memory of the decoded entry, and no view of the batch's buffer.
        """
        # Nulls left out, and the raw entities' indentation (X pretty-prints); deflated.
        return _HELD.pack(msgspec.json.format(_CENSUS_ENCODER.encode(self), indent=-1))

    @staticmethod
    def attached(data: bytes) -> CensusTweet:
        return _CENSUS_TWEET.decode(_Packer.unpack(data))

    def mentions(self) -> list[_Mention]:
        raw = self.entities.user_mentions if self.entities is not None else None
        return [] if raw is None or raw in _EMPTY else (_MENTIONS.decode(raw) or [])

    def media(self) -> list[_Media]:
        """The media entities, as `build_post` chooses them (extended first)."""
        ext = self.extended_entities
        if ext is not None and ext not in _EMPTY_OBJECT:
            found = _EXT.decode(ext)
            if found is not None and found.media:
                return found.media
        raw = self.entities.media if self.entities is not None else None
        return [] if raw is None or raw in _EMPTY else (_MEDIA.decode(raw) or [])

    def full(self) -> Tweet:
        """The `Tweet` `build_post` needs (client, language and flags left out: not counted)."""
        e = self.entities
        ents = None
        if e is not None:
            ents = _Entities(
                hashtags=_TAGS.decode(e.hashtags) if e.hashtags is not None else None,
                user_mentions=_MENTIONS.decode(e.user_mentions)
                if e.user_mentions is not None
                else None,
                urls=_URLS.decode(e.urls) if e.urls is not None else None,
                media=_MEDIA.decode(e.media) if e.media is not None else None,
            )
        ext = self.extended_entities
        return Tweet(
            id_str=self.id_str,
            id=self.id,
            full_text=self.full_text,
            text=self.text,
            created_at=self.created_at,
            entities=ents,
            extended_entities=_EXT.decode(ext) if ext is not None else None,
            in_reply_to_status_id_str=self.in_reply_to_status_id_str,
            in_reply_to_user_id_str=self.in_reply_to_user_id_str,
            in_reply_to_screen_name=self.in_reply_to_screen_name,
            edit_info=self.edit_info,
        )


class CensusItem(msgspec.Struct, gc=False):
    tweet: CensusTweet | None = None


_TAGS = msgspec.json.Decoder(list[_Tag] | None)
_MENTIONS = msgspec.json.Decoder(list[_Mention] | None)
_URLS = msgspec.json.Decoder(list[_Url] | None)
_MEDIA = msgspec.json.Decoder(list[_Media] | None)
_EXT = msgspec.json.Decoder(_ExtEntities | None)
CENSUS_DECODER = msgspec.json.Decoder(list[CensusItem])
_CENSUS_TWEET = msgspec.json.Decoder(CensusTweet)
_CENSUS_ENCODER = msgspec.json.Encoder()
_HELD = _Packer()
BARE_CENSUS_DECODER = msgspec.json.Decoder(list[CensusTweet])
TWEET_DECODER = msgspec.json.Decoder(list[TweetItem])
BARE_TWEET_DECODER = msgspec.json.Decoder(list[Tweet])
LIGHT_DECODER = msgspec.json.Decoder(list[LightItem])
BARE_LIGHT_DECODER = msgspec.json.Decoder(list[LightTweet])


# ------------------------------------------------------------------- note tweets


class _NoteUrl(msgspec.Struct, gc=False):
    shortUrl: str | None = None
    expandedUrl: str | None = None
    fromIndex: Num = None
    toIndex: Num = None


class _NoteMention(msgspec.Struct, gc=False):
    screenName: str | None = None
    fromIndex: Num = None


class _NoteTag(msgspec.Struct, gc=False):
    text: str | None = None
    fromIndex: Num = None


class _NoteCore(msgspec.Struct, gc=False):
    text: str | None = None
    urls: list[_NoteUrl] | None = None
    mentions: list[_NoteMention] | None = None
    hashtags: list[_NoteTag] | None = None


class Note(msgspec.Struct, gc=False):
    noteTweetId: str | None = None
    createdAt: str | None = None
    core: _NoteCore | None = None


class NoteItem(msgspec.Struct, gc=False):
    noteTweet: Note | None = None


NOTE_DECODER = msgspec.json.Decoder(list[NoteItem])


# ------------------------------------------------------------------------- time

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_TZ: dict[str, timezone] = {"+0000": UTC}


_MONTH_DIGITS = {m: f"{i:02d}" for m, i in _MONTHS.items()}
_from_iso = datetime.fromisoformat


def parse_x_time(value: str | None) -> datetime | None:
    """`Mon Nov 20 10:00:00 +0000 2023` → aware datetime (fast path, no strptime).

    X writes every date in UTC with fixed widths: those are rewritten as ISO
    and parsed in C (`fromisoformat` checks every digit); anything else goes
    the general way (`_parse_x_time_split`), which gives the same result for them.
    """
    if (
        value
        and len(value) == 30
        and value[19:26] == " +0000 "
        and value[3] == " "
        and value[7] == " "
        and value[10] == " "
        and value[:3].isalpha()
    ):
        month = _MONTH_DIGITS.get(value[4:7])
        if month is not None:
            try:
                return _from_iso(f"{value[26:]}-{month}-{value[8:10]}T{value[11:19]}+00:00")
            except ValueError:
                pass
    return _parse_x_time_split(value)


def _parse_x_time_split(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        _, mon, day, hms, tz, year = value.split()
        tzinfo = _TZ.get(tz)
        if tzinfo is None:
            sign = -1 if tz[0] == "-" else 1
            tzinfo = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])))
            _TZ[tz] = tzinfo
        return datetime(
            int(year),
            _MONTHS[mon],
            int(day),
            int(hms[0:2]),
            int(hms[3:5]),
            int(hms[6:8]),
            tzinfo=tzinfo,
        )
    except (ValueError, KeyError, IndexError):
        return parse_iso(value)


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# ------------------------------------------------------------------------- text


def unescape(text: str) -> str:
    """X escapes only these three; `&amp;` last so `&amp;lt;` stays `&lt;`."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _span(indices: list[Num] | None) -> tuple[int, int] | None:
    if not indices or len(indices) != 2:
        return None
    try:
        return int(indices[0]), int(indices[1])  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _locate(text: str, needle: str, span: tuple[int, int] | None, taken: list[tuple[int, int]]):
    """Where `needle` sits: at its indices if they agree, else its first free occurrence."""
    if not needle:
        return None
    if span and text[span[0] : span[1]] == needle and span not in taken:
        return span
    start = 0
    while True:
        at = text.find(needle, start)
        if at < 0:
            return None
        cand = (at, at + len(needle))
        if not any(a < cand[1] and cand[0] < b for a, b in taken):
            return cand
        start = at + 1


_RT = re.compile(r"^RT @(\w+):(?: |$)")
_QUOTE = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(\w+)/status(?:es)?/(\d+)/?(?:\?\S*)?$"
)
_SOURCE = re.compile(r">([^<]*)</a>")
_LEAD = re.compile(r"^(?:@\w+\s+)+")
#: A link ends before a `…`: X glues the ellipsis to a link the cut fell just after.
_NORM_URL = re.compile(r"https?://[^\s…]+")


def _norm(text: str) -> str:
    """Links set aside, runs of whitespace as one space (`\\s` is `str.isspace`)."""
    if "http" in text:
        text = _NORM_URL.sub(" ", text)
    return " ".join(text.split())


def _best_variant(info: _VideoInfo | None) -> str | None:
    best, rate = None, -1
    for v in info.variants if info and info.variants else []:
        if not v.url or (v.content_type and v.content_type != "video/mp4"):
            continue
        try:
            r = int(v.bitrate or 0)
        except (TypeError, ValueError):
            r = 0
        if r > rate:
            best, rate = v.url, r
    return best


def _basename(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


# ------------------------------------------------------------------------ notes


_TWEPOCH_MS = 1288834974657
#: A truncated text without `…` must be at least this long (normalised) to be
#: taken for the start of a note: a short complete post of the same thread,
#: posted in the same second, must not take a note that merely starts like it.
BARE_MIN_CHARS = 100


def _snowflake_ms(tid: str) -> int | None:
    """The millisecond an X id was minted at (ids since late 2010 carry it)."""
    if not tid.isdigit() or len(tid) < 15:
        return None
    return (int(tid) >> 22) + _TWEPOCH_MS


def _common_prefix(a: str, b: str) -> int:
    """Length of the common start of `a` and `b` (by halving: slices compare in C)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo] and a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


#: Characters of each note's normalised text kept for matching. A post's
#: truncated text is at most 280 characters (X's limit, links set aside):
#: compared with a longer one, the whole notes are read again (`NoteIndex`).
NOTE_PREFIX_CHARS = 280
#: `NoteIndex.near_bits`: a bit per second, modulo 2**20 (128 KiB).
NEAR_MASK = (1 << 20) - 1


class _Texts:
    """Many short strings in a few blocks of bytes (UTF-8), by number.

    No object per string and no ever-growing buffer (whose reallocations the
    C library may keep): blocks of ~32 KiB, each made once. `packed` deflates
    each string (`_Packer`): about half the memory, a few µs a string.
    """

    _BLOCK = 32 << 10

    def __init__(self, packed: bool = False) -> None:
        self._packer = _Packer() if packed else None
        self._blocks: list[bytes] = []
        self._starts = array("Q")  # offset of each block's first byte
        self._ends = array("Q")  # offset just past each string
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._size = 0

    def append(self, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        if self._packer is not None:
            data = self._packer.pack(data)
        self._pending.append(data)
        self._pending_size += len(data)
        self._size += len(data)
        self._ends.append(self._size)
        if self._pending_size >= self._BLOCK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._starts.append(self._size - self._pending_size)
            self._blocks.append(b"".join(self._pending))
            self._pending, self._pending_size = [], 0

    def __getitem__(self, i: int) -> str:
        self._flush()
        start = self._ends[i - 1] if i else 0
        end = self._ends[i]
        block = bisect.bisect_right(self._starts, start) - 1
        if block < 0:
            return ""
        base = self._starts[block]
        data = self._blocks[block][start - base : end - base]
        if self._packer is not None:
            data = self._packer.unpack(data)
        return data.decode("utf-8", "surrogatepass")


class NoteIndex:
    """Notes by creation second, for matching to truncated tweets.

    A long post is kept twice: a truncated tweet and a note with the full
    text, created in the same second (±1). Truncated texts end with `…`,
    with `…` then t.co links (the post's own link, the media link), or with
    nothing at all (cut mid-word); several posts of a thread can share a
    second. So a note matches a post when, links set aside, the post's text
    is a prefix of the note's; among several, the longest shared prefix
    wins, then the closest millisecond (the post's id carries it).

    Compact: per note, its second and millisecond, the length of its
    normalised text and that text's first `NOTE_PREFIX_CHARS` characters
    (UTF-8, deflated). A post text longer than that is compared with
    whole texts: those of the kept notes, or, for a `light` index, texts read
    again once through `reload`. A `light` index (counting: `archive
    inspect`) keeps of each note only its id and mentions, not its text:
    posts built with it have the note's mentions but not its text, links or
    tags. Otherwise the notes are kept for `build_post`.
    """

    def __init__(
        self,
        *,
        light: bool = False,
        reload: Callable[[], Iterable[Note]] | None = None,
        prefix_chars: int | None = None,
    ):
        self._light = light
        self._reload = reload
        self._limit = NOTE_PREFIX_CHARS if prefix_chars is None else prefix_chars
        self._sec = array("q")
        self._ms = array("q")
        self._nlen = array("Q")
        self._keys = _Texts(packed=True)
        self._ids = _Texts()
        self._notes: list[Note] = []  # kept notes (not light)
        self._mentions: dict[int, list[_NoteMention]] = {}  # light: notes with mentions
        self._unusable: list[str] = []  # ids of notes without time or text: never matched
        self._used = bytearray()
        self._order: array | None = None  # note numbers by second (built on first use)
        self._secs: array | None = None
        self._full: dict[int, str] | None = None  # light: whole texts, once reloaded
        self._bits: bytearray | None = None

    def add(self, note: Note) -> None:
        when = parse_iso(note.createdAt)
        if when is None or note.core is None or not note.core.text:
            self._unusable.append(note.noteTweetId or "")
            return
        norm = _note_norm(note)
        self._sec.append(int(when.timestamp()))
        self._ms.append(int(when.timestamp() * 1000))
        self._nlen.append(len(norm))
        self._keys.append(norm[: self._limit])
        self._ids.append(note.noteTweetId or "")
        self._used.append(0)
        self._order = self._bits = None
        if not self._light:
            self._notes.append(note)
        elif note.core.mentions:
            self._mentions[len(self._sec) - 1] = note.core.mentions

    def __len__(self) -> int:
        return len(self._sec)

    def __bool__(self) -> bool:
        return len(self._sec) > 0

    def _sorted(self) -> tuple[array, array]:
        if self._order is None or self._secs is None:
            sec = self._sec
            self._order = array("Q", sorted(range(len(sec)), key=sec.__getitem__))
            self._secs = array("q", (sec[i] for i in self._order))
        return self._order, self._secs

    def near_bits(self) -> bytearray:
        """Bit `s & NEAR_MASK` set for every second `s` within one of a note's.

        A clear bit means `near(s)` is false: one lookup instead of a search.
        """
        if self._bits is None:
            bits = bytearray((NEAR_MASK + 1) >> 3)
            for s in self._sec:
                for d in (-1, 0, 1):
                    b = (s + d) & NEAR_MASK
                    bits[b >> 3] |= 1 << (b & 7)
            self._bits = bits
        return self._bits

    def near(self, second: int) -> bool:
        """Whether a note was created within a second of `second` (matched or not)."""
        secs = self._sorted()[1]
        at = bisect.bisect_left(secs, second - 1)
        return at < len(secs) and secs[at] <= second + 1

    def _id(self, i: int) -> str:
        return self._ids[i]

    def unmatched(self) -> list[str]:
        """Ids of the notes no post took (their post is absent, or its text differs),
        then of the unusable ones; "?" for a note without an id."""
        rank: dict[int, int] = {}
        for s in self._sec:
            rank.setdefault(s, len(rank))
        left = [i for i in range(len(self._sec)) if not self._used[i]]
        left.sort(key=lambda i: rank[self._sec[i]])  # stable: by second first seen, then order
        return [self._id(i) or "?" for i in left] + [n or "?" for n in self._unusable]

    def _norm(self, i: int, whole: bool) -> str:
        """Note `i`'s normalised text: its kept start, or (`whole`) all of it."""
        if whole and self._nlen[i] > self._limit:
            if not self._light:
                return _note_norm(self._notes[i])
            if self._full is None:
                self._full = self._read_whole()
            return self._full[i]
        return self._keys[i]

    def _read_whole(self) -> dict[int, str]:
        """Whole normalised texts of the notes longer than the kept start (read again)."""
        if self._reload is None:
            raise ValueError("this note index cannot compare texts this long")
        out: dict[int, str] = {}
        i = 0
        for note in self._reload():
            if parse_iso(note.createdAt) is None or note.core is None or not note.core.text:
                continue
            if i < len(self._nlen) and self._nlen[i] > self._limit:
                out[i] = _note_norm(note)
            i += 1
        if i != len(self._nlen):
            raise ValueError("the notes changed while being read again")
        return out

    def note(self, i: int) -> Note:
        """Note `i`, as kept (or, light, its id and mentions)."""
        if not self._light:
            return self._notes[i]
        return Note(
            noteTweetId=self._id(i) or None,
            core=_NoteCore(text=None, mentions=self._mentions.get(i)),
        )

    def body(self, note: Note) -> str:
        """A matched note's text, links expanded ("" for a light index's note)."""
        return _note_text(note) if note.core is not None and note.core.text else ""

    def match(
        self, created: datetime | None, truncated: str, tid: str = ""
    ) -> tuple[str, Note] | None:
        """The note whose text continues `truncated` (already expanded and unescaped)."""
        if created is None or not self._sec:
            return None
        second = int(created.timestamp())
        order, secs = self._sorted()
        used = self._used
        candidates = []
        for s in (second, second - 1, second + 1):
            at = bisect.bisect_left(secs, s)
            while at < len(secs) and secs[at] == s:
                if not used[order[at]]:
                    candidates.append(order[at])
                at += 1
        if not candidates:
            return None
        lead_m = _LEAD.match(truncated)
        lead = lead_m.group(0) if lead_m else ""
        head = _norm(truncated[len(lead) :])  # links set aside, wherever they are
        cut = head.endswith("…")
        head = head.rstrip("…").rstrip()
        if not cut and len(head) < BARE_MIN_CHARS:
            return None
        # An empty head (nothing but links before the `…`) matches by time alone.
        probe = head.rsplit(" ", 1)[0] if " " in head else head  # the last word may be cut
        # Comparing with the kept starts is exact while the head is no longer.
        whole = len(head) > self._limit
        post_ms = _snowflake_ms(tid)
        best: tuple[int, int] | None = None
        found: int | None = None
        for i in candidates:
            norm = self._norm(i, whole)  # leading mentions set aside on both sides
            if not norm.startswith(probe):
                continue
            shared = _common_prefix(norm, head)
            if not cut and self._nlen[i] <= len(head):
                continue  # not truncated: a note must say more than its post
            ms = self._ms[i]
            gap = abs(ms - post_ms) if post_ms is not None else 0
            score = (shared, -gap)
            if best is None or score > best:
                best, found = score, i
        if found is None:
            return None
        used[found] = 1
        return lead, self.note(found)


def _note_norm(note: Note) -> str:
    """A note's text as matching compares it: links expanded then set aside, no leading mentions."""
    return _norm(_LEAD.sub("", _note_text(note), count=1))


def _note_text(note: Note) -> str:
    core = note.core
    assert core is not None
    text = core.text or ""
    spans = []
    taken: list[tuple[int, int]] = []
    for u in core.urls or ():
        sp = _locate(text, u.shortUrl or "", _span([u.fromIndex, u.toIndex]), taken)
        if sp:
            taken.append(sp)
            spans.append((sp, u.expandedUrl or u.shortUrl or ""))
    for (a, b), rep in sorted(spans, reverse=True):
        text = text[:a] + rep + text[b:]
    return text


# ------------------------------------------------------------------------ posts


@dataclass
class PostContext:
    own_id: str
    own_username: str
    member_names: set[str] | dict
    media_dirs: tuple[str, ...]
    notes: NoteIndex | None = None
    community: bool = False


def is_self_reply(reply_to: str | None, user_id: str | None, screen_name: str | None, ctx) -> bool:
    if not reply_to:
        return False
    if ctx.own_id:
        return user_id == ctx.own_id
    return bool(screen_name) and str(screen_name).lower() == ctx.own_username.lower()


def _fast_constructor(cls: type) -> Any:
    """A keyword-only constructor for a frozen, slotted dataclass.

    Same result as `cls(**kwargs)` but it fills the slots directly instead of
    going through the frozen `object.__setattr__` dance: building 200,000
    posts this way is markedly cheaper. Generated from the dataclass's own
    fields, so it follows any field added to the record.
    """
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_MISSING": dataclasses.MISSING}
    params, body = [], []
    for f in dataclasses.fields(cls):
        ns[f"_s_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is not dataclasses.MISSING:
            ns[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            ns[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_MISSING")
            body.append(f" if {f.name} is _MISSING: {f.name} = _f_{f.name}()")
        else:
            params.append(f.name)
        body.append(f" _s_{f.name}(self, {f.name})")
    src = (
        f"def make(*, {', '.join(params)}):\n self = _new(_cls)\n"
        + "\n".join(body)
        + "\n return self\n"
    )
    exec(src, ns)
    return ns["make"]


_make_post = _fast_constructor(Post)
_NO_ENTITIES = _Entities()
_SOURCES: dict[str, str] = {}


def _source_name(source: str) -> str:
    """The client's name from X's `<a href=…>Name</a>` (cached: few distinct values)."""
    name = _SOURCES.get(source)
    if name is None:
        m = _SOURCE.search(source)
        name = m.group(1) if m else source
        if len(_SOURCES) < 4096:
            _SOURCES[source] = name
    return name


def _expand(raw: str, url_ents: list[_Url] | None, media_items) -> tuple[str, list[str]]:
    """Replace t.co links by index, drop the media link, unescape between links."""
    taken: list[tuple[int, int]] = []
    reps: list[tuple[int, int, str | None]] = []
    for u in url_ents or ():
        sp = _locate(raw, u.url or "", _span(u.indices), taken)
        if sp:
            taken.append(sp)
            reps.append((sp[0], sp[1], u.expanded_url or u.url or ""))
    media_link = next((m.url for m in media_items if m.url), None)
    if media_link:
        sp = _span(media_items[0].indices)
        if not (sp and raw[sp[0] : sp[1]] == media_link):
            at = raw.rfind(media_link)
            sp = (at, at + len(media_link)) if at >= 0 else None
        if sp and not any(a < sp[1] and sp[0] < b for a, b in taken):
            reps.append((sp[0], sp[1], None))
    reps.sort()
    pieces: list[str] = []
    urls: list[str] = []
    pos = 0
    for a, b, rep in reps:
        pieces.append(unescape(raw[pos:a]))
        if rep is None:
            if not raw[b:].strip():
                pieces[-1] = pieces[-1].rstrip()
        else:
            pieces.append(rep)
            urls.append(rep)
        pos = b
    pieces.append(unescape(raw[pos:]))
    return "".join(pieces), urls


def media_of(media_items, tid: str, edit_ids: tuple[str, ...], ctx: PostContext) -> list[Media]:
    """A post's media with their files in the archive (`path` None when absent)."""
    media: list[Media] = []
    for item in media_items:
        kind_s = item.type or "photo"
        try:
            kind = MediaKind(kind_s)
        except ValueError:
            kind = MediaKind.PHOTO
        if kind is MediaKind.PHOTO:
            url = item.media_url_https or item.media_url or ""
        else:
            url = _best_variant(item.video_info) or item.media_url_https or item.media_url or ""
        path = None
        if url:
            base = _basename(url)
            for owner in (tid, *edit_ids):
                for d in ctx.media_dirs:
                    cand = f"{d}/{owner}-{base}"
                    if cand in ctx.member_names:
                        path = cand
                        break
                if path:
                    break
        media.append(Media(kind=kind, url=url, path=path, source_post_id=item.source_status_id_str))
    return media


def build_post(
    t: Tweet,
    ctx: PostContext,
    edit_ids: tuple[str, ...] = (),
    thread_root: Callable[[str, bool], str | None] | None = None,
) -> Post:
    """The final `Post` for one tweet entry; `thread_root(id, is_retweet)` links threads."""
    tid = t.id_str or t.tid()
    raw = t.full_text if t.full_text is not None else (t.text or "")
    ents = t.entities or _NO_ENTITIES
    ext = t.extended_entities
    media_items = (ext.media if ext is not None else None) or ents.media or ()
    if ents.urls or media_items:
        text, urls = _expand(raw, ents.urls, media_items)
    else:
        text, urls = unescape(raw), []

    # A retweet is told by its raw text: once links are expanded and the media
    # link dropped, a link-only or picture-only retweet is left as "RT @name:".
    is_rt = False
    rt_name = None
    if raw.startswith("RT @"):
        m = _RT.match(raw)
        if m:
            is_rt, rt_name = True, m.group(1)
            m = _RT.match(text)
            text = text[m.end() :].lstrip(" ") if m else ""

    mention_list: list[Mention] = []
    if ents.user_mentions:
        mentions = [
            (
                (_span(x.indices) or (1 << 30, 0))[0],
                Mention(
                    x.screen_name,
                    x.id_str if x.id_str and x.id_str != "-1" else None,
                    x.name if isinstance(x.name, str) else "",
                ),
            )
            for x in ents.user_mentions
            if x.screen_name
        ]
        mentions.sort(key=lambda p: p[0])
        mention_list = [mm for _, mm in mentions]
    hashtag_list: list[str] = []
    if ents.hashtags:
        tags = sorted(
            ((_span(h.indices) or (1 << 30, 0))[0], h.text) for h in ents.hashtags if h.text
        )
        hashtag_list = [h for _, h in tags]

    created = parse_x_time(t.created_at)
    is_long = False
    if ctx.notes and not is_rt:
        found = ctx.notes.match(created, text, tid)
        if found:
            lead, note = found
            body = ctx.notes.body(note)
            text = body if (not lead or body.startswith(lead.strip())) else lead + body
            core = note.core
            assert core is not None
            urls = [
                u.expandedUrl or u.shortUrl or ""
                for u in sorted(core.urls or (), key=lambda u: int(u.fromIndex or 0))
            ]
            ids = {mm.screen_name.lower(): mm for mm in mention_list}
            lead_names = re.findall(r"@(\w+)", lead)
            seen: set[str] = set()
            new_mentions = []
            for name in [
                *lead_names,
                *(
                    x.screenName or ""
                    for x in sorted(core.mentions or (), key=lambda x: int(x.fromIndex or 0))
                ),
            ]:
                if name and name.lower() not in seen:
                    seen.add(name.lower())
                    known = ids.get(name.lower())
                    new_mentions.append(
                        Mention(name, known.user_id, known.name) if known else Mention(name)
                    )
            mention_list = new_mentions
            hashtag_list = [
                h.text
                for h in sorted(core.hashtags or (), key=lambda h: int(h.fromIndex or 0))
                if h.text
            ]
            is_long = True

    quoted_id = quoted_name = None
    if urls:
        q = _QUOTE.match(urls[-1])
        if q and text.rstrip().endswith(urls[-1]):
            quoted_name, quoted_id = q.group(1), q.group(2)

    media = media_of(media_items, tid, edit_ids, ctx)
    source = _source_name(t.source) if t.source else ""
    reply_to = t.in_reply_to_status_id_str or None
    return _make_post(
        id=tid,
        created_at=created or datetime(1970, 1, 1, tzinfo=UTC),
        text=text,
        lang=t.lang or "",
        source=source,
        is_retweet=is_rt,
        retweeted_screen_name=rt_name,
        reply_to_post_id=reply_to,
        reply_to_user_id=t.in_reply_to_user_id_str or None,
        reply_to_screen_name=t.in_reply_to_screen_name or None,
        is_self_reply=(not is_rt)
        and is_self_reply(reply_to, t.in_reply_to_user_id_str, t.in_reply_to_screen_name, ctx),
        thread_root_id=thread_root(tid, is_rt) if thread_root is not None else None,
        quoted_post_id=quoted_id,
        quoted_screen_name=quoted_name,
        urls=tuple(urls),
        mentions=tuple(mention_list),
        hashtags=tuple(hashtag_list),
        media=tuple(media),
        possibly_sensitive=bool(t.possibly_sensitive),
        is_long=is_long,
        is_community=ctx.community,
        edit_ids=edit_ids,
    )
