"""Tweet entries → `Post` records: links, entities, media, notes, edits.

The msgspec structs name only the fields a migration uses, so decoding skips
the rest at C speed. Text rules (reference: x-archive.md, "Text semantics"):
entity indices are code points into the still-escaped `full_text`; links are
replaced by index from the end, the trailing media link is dropped, and only
the text between links is unescaped (`&lt;`, `&gt;`, then `&amp;`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec

from hirondelle.archive.records import Media, MediaKind, Mention, Post

__all__ = ["LightTweet", "NoteIndex", "PostContext", "Tweet", "build_post", "parse_x_time"]

Num = str | int | float | None


class _Url(msgspec.Struct):
    url: str | None = None
    expanded_url: str | None = None
    indices: list[Num] | None = None


class _Mention(msgspec.Struct):
    screen_name: str | None = None
    name: str | None = None
    id_str: str | None = None
    indices: list[Num] | None = None


class _Tag(msgspec.Struct):
    text: str | None = None
    indices: list[Num] | None = None


class _Variant(msgspec.Struct):
    url: str | None = None
    content_type: str | None = None
    bitrate: Num = None


class _VideoInfo(msgspec.Struct):
    variants: list[_Variant] | None = None


class _Media(msgspec.Struct):
    url: str | None = None
    type: str | None = None
    media_url_https: str | None = None
    media_url: str | None = None
    video_info: _VideoInfo | None = None
    source_status_id_str: str | None = None
    indices: list[Num] | None = None


class _Entities(msgspec.Struct):
    hashtags: list[_Tag] | None = None
    user_mentions: list[_Mention] | None = None
    urls: list[_Url] | None = None
    media: list[_Media] | None = None


class _ExtEntities(msgspec.Struct):
    media: list[_Media] | None = None


class _EditControl(msgspec.Struct):
    editTweetIds: list[str] | None = None


class _EditEdit(msgspec.Struct):
    initialTweetId: str | None = None
    editControlInitial: _EditControl | None = None


class _EditInfo(msgspec.Struct):
    initial: _EditControl | None = None
    edit: _EditEdit | None = None

    def ids(self) -> list[str]:
        if self.initial is not None and self.initial.editTweetIds:
            return self.initial.editTweetIds
        if self.edit is not None and self.edit.editControlInitial is not None:
            return self.edit.editControlInitial.editTweetIds or []
        return []


class Tweet(msgspec.Struct):
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


class TweetItem(msgspec.Struct):
    tweet: Tweet | None = None


class LightTweet(msgspec.Struct):
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


class LightItem(msgspec.Struct):
    tweet: LightTweet | None = None


TWEET_DECODER = msgspec.json.Decoder(list[TweetItem])
BARE_TWEET_DECODER = msgspec.json.Decoder(list[Tweet])
LIGHT_DECODER = msgspec.json.Decoder(list[LightItem])
BARE_LIGHT_DECODER = msgspec.json.Decoder(list[LightTweet])


# ------------------------------------------------------------------- note tweets


class _NoteUrl(msgspec.Struct):
    shortUrl: str | None = None
    expandedUrl: str | None = None
    fromIndex: Num = None
    toIndex: Num = None


class _NoteMention(msgspec.Struct):
    screenName: str | None = None
    fromIndex: Num = None


class _NoteTag(msgspec.Struct):
    text: str | None = None
    fromIndex: Num = None


class _NoteCore(msgspec.Struct):
    text: str | None = None
    urls: list[_NoteUrl] | None = None
    mentions: list[_NoteMention] | None = None
    hashtags: list[_NoteTag] | None = None


class Note(msgspec.Struct):
    noteTweetId: str | None = None
    createdAt: str | None = None
    core: _NoteCore | None = None


class NoteItem(msgspec.Struct):
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


def parse_x_time(value: str | None) -> datetime | None:
    """`Mon Nov 20 10:00:00 +0000 2023` → aware datetime (fast path, no strptime)."""
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


_RT = re.compile(r"^RT @(\w+): ")
_QUOTE = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(\w+)/status(?:es)?/(\d+)/?(?:\?\S*)?$"
)
_SOURCE = re.compile(r">([^<]*)</a>")
_LEAD = re.compile(r"^(?:@\w+\s+)+")
_NORM_URL = re.compile(r"https?://\S+")
_NORM_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _NORM_WS.sub(" ", _NORM_URL.sub(" ", text)).strip()


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


@dataclass
class NoteIndex:
    """Notes keyed by creation second, for matching to truncated tweets."""

    by_second: dict[int, list[Note]] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)

    def add(self, note: Note) -> None:
        when = parse_iso(note.createdAt)
        if when is None or note.core is None or not note.core.text:
            return
        self.by_second.setdefault(int(when.timestamp()), []).append(note)

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_second.values())

    def __bool__(self) -> bool:
        return bool(self.by_second)

    def match(self, created: datetime | None, truncated: str) -> tuple[str, Note] | None:
        """The note whose text continues `truncated` (already expanded and unescaped)."""
        if created is None or not self.by_second:
            return None
        lead_m = _LEAD.match(truncated)
        lead = lead_m.group(0) if lead_m else ""
        head = truncated[len(lead) :].rstrip()
        if head.endswith("…"):
            head = head[:-1]
        probe = _norm(head)
        if " " in probe:
            probe = probe.rsplit(" ", 1)[0]  # the last word may be cut
        second = int(created.timestamp())
        for s in (second, second - 1, second + 1):
            for note in self.by_second.get(s, ()):
                if id(note) in self.used:
                    continue
                text = _note_text(note)
                if _norm(text).startswith(probe) or _norm(lead + text).startswith(
                    _norm(lead) + " " + probe
                ):
                    self.used.add(id(note))
                    return lead, note
        return None


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
    return bool(screen_name) and screen_name.lower() == ctx.own_username.lower()


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

    is_rt = False
    rt_name = None
    if text.startswith("RT @"):
        m = _RT.match(text)
        if m:
            is_rt, rt_name = True, m.group(1)
            text = text[m.end() :]

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
    if ctx.notes and not is_rt and text.rstrip().endswith("…"):
        found = ctx.notes.match(created, text)
        if found:
            lead, note = found
            body = _note_text(note)
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
