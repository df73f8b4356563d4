"""Write synthetic X archives for tests and benchmarks.

A small spec (`ArchiveSpec`) describes what a person's archive holds; `write_archive`
renders it in the layout of a given era (2024: `data/tweets.js`, `tweets_media`;
2021: `data/tweet.js`, `tweet_media`; 2019: root-level files, bare tweet objects,
nested media zips), zipped or not, with `-partN` splits, a wrapping folder,
`__MACOSX/` junk and private files that must never be opened.

`expected_posts(spec)` says which `Post` records a correct reader yields, so
tests compare the reader against an independent rendering of the same spec.
Nothing here imports the reader.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hirondelle.archive.records import (
    Account,
    Like,
    ListKind,
    ListRef,
    Media,
    MediaKind,
    Mention,
    Post,
    Profile,
)

__all__ = [
    "POISON",
    "PRIVATE_FILES",
    "ArchiveSpec",
    "ExpectedName",
    "LikeSpec",
    "MediaSpec",
    "NamesTruth",
    "TweetSpec",
    "add_names",
    "expected_likes",
    "expected_lists",
    "expected_posts",
    "pack",
    "render_files",
    "sample_spec",
    "snowflake",
    "write_archive",
]

#: Content of every private file: a reader that opens one is caught by tests.
POISON = b"POISON: private file, a migration must never open it\n"

#: Private data files written into every archive (relative to `data/`).
PRIVATE_FILES = (
    "direct-messages.js",
    "direct-messages-group.js",
    "direct-message-headers.js",
    "message-event.js",
    "ip-audit.js",
    "account-creation-ip.js",
    "device-token.js",
    "ni-devices.js",
    "phone-number.js",
    "email-address-change.js",
    "contact.js",
    "ad-impressions.js",
    "ad-engagements.js",
    "personalization.js",
    "key-registry.js",
    "deleted-tweets.js",
    "grok-chat-item.js",
)
#: Private media folders (one file each is written).
PRIVATE_MEDIA_DIRS = (
    "direct_messages_media",
    "direct_messages_group_media",
    "deleted_tweets_media",
)

_TWEPOCH_MS = 1288834974657
_ERAS = ("2024", "2021", "2019")


def snowflake(when: datetime, rng: random.Random) -> str:
    """An X-style id for a moment: ids sort by time, as real ones do."""
    ms = int(when.timestamp() * 1000) - _TWEPOCH_MS
    return str((max(ms, 0) << 22) | rng.getrandbits(22))


@dataclass(frozen=True)
class MediaSpec:
    kind: str = "photo"  # photo | video | animated_gif
    name: str = "media"  # basename stem on pbs/video.twimg.com, unique per post
    source_post_id: str | None = None  # media belonging to someone else's post
    present: bool = True  # write the file into the media folder


@dataclass(frozen=True)
class TweetSpec:
    """One post as the person last left it.

    `text` is the final text (links written as their expanded URL, no HTML
    escaping); for replies it starts with the `@name ` mentions as on X.
    A quote appends ` https://twitter.com/<user>/status/<id>` to it.
    """

    id: str
    created_at: datetime
    text: str
    urls: tuple[str, ...] = ()  # expanded URLs occurring in `text`, in order
    mentions: tuple[tuple[str, str], ...] = ()  # (screen_name, user id) occurring in `text`
    hashtags: tuple[str, ...] = ()  # occurring in `text` as #tag
    reply_to: str | None = None
    reply_to_user_id: str | None = None
    reply_to_screen_name: str | None = None
    retweet_of: str | None = None  # screen name of the retweeted account
    quote: tuple[str, str] | None = None  # (screen_name, post id)
    media: tuple[MediaSpec, ...] = ()
    edits: tuple[tuple[str, str], ...] = ()  # earlier versions (id, text), oldest first
    long: bool = False  # written as a truncated tweet plus a note-tweet.js entry
    community: bool = False  # written to community-tweet.js
    #: (screen_name, display name) shown in the mention entities; else sn.title()
    mention_names: tuple[tuple[str, str], ...] = ()
    lang: str = "en"
    source: str = "Twitter Web App"
    possibly_sensitive: bool = False


@dataclass(frozen=True)
class LikeSpec:
    post_id: str
    text: str = ""
    url: str = ""


@dataclass
class ArchiveSpec:
    account: Account
    profile: Profile = field(default_factory=Profile)
    tweets: list[TweetSpec] = field(default_factory=list)
    following: list[str] = field(default_factory=list)
    followers: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)
    mutes: list[str] = field(default_factory=list)
    likes: list[LikeSpec] = field(default_factory=list)
    lists_created: list[str] = field(default_factory=list)  # list URLs
    lists_member: list[str] = field(default_factory=list)
    lists_subscribed: list[str] = field(default_factory=list)
    generated_at: datetime = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    avatar_file: bool = True  # write profile_media files for avatar/header


# --------------------------------------------------------------------------- text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tco(*seed: object) -> str:
    digest = hashlib.sha1(repr(seed).encode()).hexdigest()
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    n = int(digest, 16)
    code = "".join(alphabet[(n >> (6 * i)) % 62] for i in range(10))
    return f"https://t.co/{code}"


def _display(url: str) -> str:
    short = re.sub(r"^https?://(www\.)?", "", url)
    return short if len(short) <= 26 else short[:25] + "…"


def _x_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _body(t: TweetSpec) -> tuple[str, tuple[str, ...]]:
    """Final text and URLs, quote link included."""
    if t.quote:
        qurl = f"https://twitter.com/{t.quote[0]}/status/{t.quote[1]}"
        return (t.text + " " + qurl if t.text else qurl), (*t.urls, qurl)
    return t.text, t.urls


def _url_spans(text: str, urls: Iterable[str]) -> list[tuple[int, int, str]]:
    spans, pos = [], 0
    for url in urls:
        at = text.index(url, pos)
        spans.append((at, at + len(url), url))
        pos = at + len(url)
    return spans


def _render_text(text: str, spans: list[tuple[int, int, str]], seed: object):
    """Escaped text with t.co links, and the url entities (code-point indices)."""
    out, entities, pos = "", [], 0
    for start, end, url in spans:
        out += _escape(text[pos:start])
        tco = _tco(seed, url, start)
        entities.append(
            {
                "url": tco,
                "expanded_url": url,
                "display_url": _display(url),
                "indices": [str(len(out)), str(len(out) + len(tco))],
            }
        )
        out += tco
        pos = end
    out += _escape(text[pos:])
    return out, entities


def _find_tokens(text: str, token: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(token) + r"(?![\w])", text)]


def _leading_mentions(text: str) -> str:
    m = re.match(r"^(?:@\w+\s+)+", text)
    return m.group(0) if m else ""


def _media_entities(t: TweetSpec, tweet_id: str, offset: int, owner: str):
    """entities.media, extended_entities.media and the files to write."""
    tco = _tco("media", tweet_id)
    display = f"pic.twitter.com/{tco.rsplit('/', 1)[1]}"
    short, extended, files, expected = [], [], [], []
    for n, m in enumerate(t.media, 1):
        mid = str(int(tweet_id) + n)
        item = {
            "expanded_url": f"https://twitter.com/{owner}/status/{tweet_id}/"
            + ("video" if m.kind != "photo" else "photo")
            + f"/{n}",
            "indices": [str(offset), str(offset + len(tco))],
            "url": tco,
            "id_str": mid,
            "id": mid,
            "display_url": display,
            "type": m.kind,
            "sizes": {"large": {"w": "1024", "h": "768", "resize": "fit"}},
        }
        if m.kind == "photo":
            item["media_url"] = f"http://pbs.twimg.com/media/{m.name}.jpg"
            item["media_url_https"] = f"https://pbs.twimg.com/media/{m.name}.jpg"
            best = item["media_url_https"]
            fname = f"{tweet_id}-{m.name}.jpg"
        else:
            thumb = f"https://pbs.twimg.com/ext_tw_video_thumb/{mid}/pu/img/{m.name}.jpg"
            item["media_url"] = thumb.replace("https", "http")
            item["media_url_https"] = thumb
            if m.kind == "animated_gif":
                best = f"https://video.twimg.com/tweet_video/{m.name}.mp4"
                variants = [{"bitrate": "0", "content_type": "video/mp4", "url": best}]
            else:
                base = f"https://video.twimg.com/ext_tw_video/{mid}/pu/vid"
                best = f"{base}/1280x720/{m.name}.mp4?tag=12"
                variants = [
                    {
                        "bitrate": "256000",
                        "content_type": "video/mp4",
                        "url": f"{base}/480x270/{m.name}lo.mp4?tag=12",
                    },
                    {
                        "content_type": "application/x-mpegURL",
                        "url": f"{base}/pl/{m.name}.m3u8?tag=12",
                    },
                    {"bitrate": "2176000", "content_type": "video/mp4", "url": best},
                    {
                        "bitrate": "832000",
                        "content_type": "video/mp4",
                        "url": f"{base}/640x360/{m.name}mid.mp4?tag=12",
                    },
                ]
            item["video_info"] = {"aspect_ratio": ["16", "9"], "variants": variants}
            fname = f"{tweet_id}-{m.name}.mp4"
        if m.source_post_id:
            item["source_status_id_str"] = m.source_post_id
            item["source_status_id"] = m.source_post_id
            item["source_user_id_str"] = "783214"
        short_item = {k: v for k, v in item.items() if k not in ("video_info", "type")}
        short_item["type"] = "photo"
        if n == 1:
            short.append(short_item)
        extended.append(item)
        files.append((fname, m.present, hashlib.sha256(fname.encode()).digest() * 4))
        expected.append((m, best, fname))
    return tco, short, extended, files, expected


@dataclass
class _Rendered:
    entries: list[dict]  # tweet objects (earlier edit versions first, final last)
    note: dict | None
    files: list[tuple[str, bool, bytes]]  # media file name, present, bytes
    post: Post  # expected, before thread linking


def _render(t: TweetSpec, spec: ArchiveSpec, media_dir: str) -> _Rendered:
    owner = spec.account.username
    body, urls = _body(t)
    spans = _url_spans(body, urls)
    note = None
    if t.long:
        # Truncate before ~260 code points, never inside a link.
        cut = min(len(body), 260)
        for start, end, _url in spans:
            if start < cut < end:
                cut = start
        cut = body.rfind(" ", 0, cut) if " " in body[:cut] else cut
        cut = max(cut, 1)
        tweet_text = body[:cut].rstrip() + "…"
        tweet_spans = [s for s in spans if s[1] <= cut]
    else:
        tweet_text, tweet_spans = body, spans
    prefix = ""
    if t.retweet_of:
        prefix = f"RT @{t.retweet_of}: "
    full, url_entities = _render_text(tweet_text, tweet_spans, t.id)
    if prefix:
        shift = len(prefix)
        for e in url_entities:
            e["indices"] = [str(int(i) + shift) for i in e["indices"]]
        full = prefix + full
    mentions = []
    all_mentions = list(t.mentions)
    if t.retweet_of:
        all_mentions = [(t.retweet_of, str(7000 + len(t.retweet_of))), *all_mentions]
    taken: set[int] = set()
    shown = dict(t.mention_names)
    for sn, uid in all_mentions:
        for at in _find_tokens(full, "@" + sn):
            if at not in taken:
                taken.add(at)
                mentions.append(
                    {
                        "name": shown.get(sn, sn.title()),
                        "screen_name": sn,
                        "indices": [str(at), str(at + len(sn) + 1)],
                        "id_str": uid,
                        "id": uid,
                    }
                )
                break
    hashtags = []
    for tag in t.hashtags:
        found = _find_tokens(full, "#" + tag)
        if found:
            hashtags.append({"text": tag, "indices": [str(found[0]), str(found[0] + len(tag) + 1)]})
    media_files: list[tuple[str, bool, bytes]] = []
    entities: dict = {
        "hashtags": hashtags,
        "symbols": [],
        "user_mentions": mentions,
        "urls": url_entities,
    }
    tweet: dict = {
        "edit_info": {},
        "retweeted": False,
        "source": f'<a href="https://mobile.twitter.com" rel="nofollow">{t.source}</a>',
        "entities": entities,
        "display_text_range": ["0", str(len(full))],
        "favorite_count": "3",
        "id_str": t.id,
        "truncated": False,
        "retweet_count": "1",
        "id": t.id,
        "created_at": _x_time(t.created_at),
        "favorited": False,
        "full_text": full,
        "lang": t.lang,
    }
    expected_media: list[Media] = []
    if t.media:
        offset = len(full) + 1
        tco, short, extended, files, exp = _media_entities(t, t.id, offset, owner)
        tweet["full_text"] = full + " " + tco
        tweet["display_text_range"] = ["0", str(len(full))]
        entities["media"] = short
        tweet["extended_entities"] = {"media": extended}
        media_files = files
        for m, best, fname in exp:
            expected_media.append(
                Media(
                    kind=MediaKind(m.kind),
                    url=best,
                    path=f"{media_dir}/{fname}" if (m.present and media_dir) else None,
                    source_post_id=m.source_post_id,
                )
            )
    if t.possibly_sensitive:
        tweet["possibly_sensitive"] = True
    if t.reply_to:
        tweet["in_reply_to_status_id_str"] = t.reply_to
        tweet["in_reply_to_status_id"] = t.reply_to
    if t.reply_to_user_id:
        tweet["in_reply_to_user_id_str"] = t.reply_to_user_id
        tweet["in_reply_to_user_id"] = t.reply_to_user_id
    if t.reply_to_screen_name:
        tweet["in_reply_to_screen_name"] = t.reply_to_screen_name
    if t.community:
        tweet["community_id_str"] = "1500000000000000001"
    entries = []
    all_ids = [*(e[0] for e in t.edits), t.id]
    if t.edits:
        for n, (eid, etext) in enumerate(t.edits):
            old, old_ents = _render_text(etext, [], eid)
            entry = {
                "edit_info": {
                    "edit": {
                        "initialTweetId": all_ids[0],
                        "editControlInitial": {
                            "editTweetIds": all_ids,
                            "editableUntil": _iso(t.created_at + timedelta(hours=1)),
                            "editsRemaining": "4",
                            "isEditEligible": True,
                        },
                    }
                }
                if n
                else {
                    "initial": {
                        "editTweetIds": all_ids,
                        "editableUntil": _iso(t.created_at + timedelta(hours=1)),
                        "editsRemaining": "5",
                        "isEditEligible": True,
                    }
                },
                "retweeted": False,
                "source": tweet["source"],
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": old_ents},
                "display_text_range": ["0", str(len(old))],
                "favorite_count": "0",
                "id_str": eid,
                "truncated": False,
                "retweet_count": "0",
                "id": eid,
                "created_at": _x_time(t.created_at - timedelta(minutes=len(t.edits) - n)),
                "favorited": False,
                "full_text": old,
                "lang": t.lang,
            }
            entries.append(entry)
        tweet["edit_info"] = {
            "edit": {
                "initialTweetId": all_ids[0],
                "editControlInitial": {
                    "editTweetIds": all_ids,
                    "editableUntil": _iso(t.created_at + timedelta(hours=1)),
                    "editsRemaining": str(5 - len(t.edits)),
                    "isEditEligible": True,
                },
            }
        }
    else:
        tweet["edit_info"] = {
            "initial": {
                "editTweetIds": [t.id],
                "editableUntil": _iso(t.created_at + timedelta(hours=1)),
                "editsRemaining": "5",
                "isEditEligible": True,
            }
        }
    entries.append(tweet)
    if t.long:
        lead = _leading_mentions(body)
        ntext = body[len(lead) :]
        nspans = _url_spans(ntext, urls)
        nurls = []
        out, pos = "", 0
        for start, end, url in nspans:
            out += ntext[pos:start]
            short_url = _tco(t.id, url, "note", start)
            nurls.append(
                {
                    "shortUrl": short_url,
                    "expandedUrl": url,
                    "displayUrl": _display(url),
                    "fromIndex": str(len(out)),
                    "toIndex": str(len(out) + len(short_url)),
                }
            )
            out += short_url
            pos = end
        out += ntext[pos:]
        note_mentions = []
        for sn, _uid in t.mentions:
            found = _find_tokens(out, "@" + sn)
            if found:
                note_mentions.append(
                    {
                        "screenName": sn,
                        "fromIndex": str(found[0]),
                        "toIndex": str(found[0] + len(sn) + 1),
                    }
                )
        note_tags = []
        for tag in t.hashtags:
            found = _find_tokens(out, "#" + tag)
            if found:
                note_tags.append(
                    {
                        "text": tag,
                        "fromIndex": str(found[0]),
                        "toIndex": str(found[0] + len(tag) + 1),
                    }
                )
        note = {
            "noteTweet": {
                "noteTweetId": str(int(t.id) // 3),
                "updatedAt": _iso(t.created_at),
                "lifecycle": {
                    "value": "live",
                    "name": "Live",
                    "originalName": "live",
                    "annotations": {},
                },
                "createdAt": _iso(t.created_at + timedelta(milliseconds=int(t.id) % 900)),
                "core": {
                    "styletags": [],
                    "urls": nurls,
                    "text": out,
                    "mentions": note_mentions,
                    "cashtags": [],
                    "hashtags": note_tags,
                },
            }
        }
    # The expected record.
    text = body
    exp_mentions = []
    mention_ids = {sn.lower(): uid for sn, uid in all_mentions}
    for sn, _uid in sorted(
        ((sn, uid) for sn, uid in all_mentions if _find_tokens(prefix + body, "@" + sn)),
        key=lambda m: _find_tokens(prefix + body, "@" + m[0])[0],
    ):
        in_tweet = any(m["screen_name"] == sn for m in mentions)
        exp_mentions.append(Mention(sn, mention_ids[sn.lower()] if in_tweet else None))
    exp_tags = tuple(
        sorted(
            (tag for tag in t.hashtags if _find_tokens(body, "#" + tag)),
            key=lambda g: _find_tokens(body, "#" + g)[0],
        )
    )
    own_id = spec.account.id
    self_reply = bool(t.reply_to) and (
        (t.reply_to_user_id == own_id and own_id != "")
        or (own_id == "" and (t.reply_to_screen_name or "").lower() == owner.lower())
    )
    post = Post(
        id=t.id,
        created_at=t.created_at.replace(microsecond=0),
        text=text,
        lang=t.lang,
        source=t.source,
        is_retweet=bool(t.retweet_of),
        retweeted_screen_name=t.retweet_of,
        reply_to_post_id=t.reply_to,
        reply_to_user_id=t.reply_to_user_id,
        reply_to_screen_name=t.reply_to_screen_name,
        is_self_reply=self_reply,
        thread_root_id=None,
        quoted_post_id=t.quote[1] if t.quote else None,
        quoted_screen_name=t.quote[0] if t.quote else None,
        urls=tuple(urls),
        mentions=tuple(exp_mentions),
        hashtags=exp_tags,
        media=tuple(expected_media),
        possibly_sensitive=t.possibly_sensitive,
        is_long=t.long,
        is_community=t.community,
        edit_ids=tuple(all_ids) if t.edits else (),
    )
    return _Rendered(entries, note, media_files, post)


def _media_dir(era: str, community: bool) -> str:
    if era == "2019":
        return "tweet_media.zip"  # a nested zip: its files read `tweet_media.zip/<name>`
    if community:
        return "data/community_tweet_media"
    return "data/tweets_media" if era == "2024" else "data/tweet_media"


def expected_posts(spec: ArchiveSpec, era: str = "2024") -> list[Post]:
    """The posts a correct reader yields for `spec`, ordered by id.

    Threads: a self-reply belongs to its parent's thread when the parent is in
    the archive (after edits collapse); otherwise it starts one. Every post
    that is not a retweet carries its thread's root id (its own id when alone).
    """
    posts = [_render(t, spec, _media_dir(era, t.community)).post for t in spec.tweets]
    final = {}
    for t in spec.tweets:
        for eid, _ in t.edits:
            final[eid] = t.id
        final[t.id] = t.id
    by_id = {p.id: p for p in posts if not p.is_retweet}

    def root(p: Post) -> str:
        seen = set()
        while p.is_self_reply and p.reply_to_post_id:
            parent = by_id.get(final.get(p.reply_to_post_id, p.reply_to_post_id))
            if parent is None or parent.id in seen:
                break
            seen.add(p.id)
            p = parent
        return p.id

    out = [p if p.is_retweet else replace(p, thread_root_id=root(p)) for p in posts]
    return sorted(out, key=lambda p: int(p.id))


# ------------------------------------------------------------------------- files


def _js(type_name: str, part: int, items: list, *, compact: bool = False) -> bytes:
    if compact:
        payload = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    else:
        payload = json.dumps(items, ensure_ascii=False, indent=2, separators=(",", " : "))
    return f"window.YTD.{type_name}.part{part} = {payload}".encode()


def _split(items: list, parts: int, rng: random.Random) -> list[list]:
    """Split into parts whose order is not chronological (as on X)."""
    parts = max(1, parts)
    chunks = [items[i * len(items) // parts : (i + 1) * len(items) // parts] for i in range(parts)]
    if parts > 1:
        rng.shuffle(chunks)
    return chunks


def _graph_items(ids: list[str], key: str, era: str) -> list:
    if era == "2019":
        return [{key: {"accountId": i}} for i in ids]
    return [
        {key: {"accountId": i, "userLink": f"https://twitter.com/intent/user?user_id={i}"}}
        for i in ids
    ]


def _archive_name(spec: ArchiveSpec) -> str:
    digest = hashlib.sha256(spec.account.id.encode() + spec.account.username.encode()).hexdigest()
    return f"twitter-{spec.generated_at:%Y-%m-%d}-{digest}"


def render_files(
    spec: ArchiveSpec,
    *,
    era: str = "2024",
    parts: dict[str, int] | None = None,
    seed: int = 0,
) -> dict[str, bytes]:
    """Every member of the archive (relative path → bytes), no wrapping folder."""
    if era not in _ERAS:
        raise ValueError(f"era must be one of {_ERAS}")
    parts = parts or {}
    rng = random.Random(seed)
    files: dict[str, bytes] = {}
    data = "" if era == "2019" else "data/"
    tweet_type = "tweets" if era == "2024" else "tweet"
    manifest_types: dict[str, dict] = {}

    def add_type(
        camel: str, type_name: str, base: str, items: list, *, media_dir: str | None = None
    ):
        chunks = _split(items, parts.get(base, parts.get(type_name, 1)), rng)
        entry: dict = {"files": []}
        if media_dir:
            entry["mediaDirectory"] = media_dir
        for n, chunk in enumerate(chunks):
            fname = f"{data}{base}.js" if n == 0 else f"{data}{base}-part{n}.js"
            files[fname] = _js(type_name, n, chunk)
            entry["files"].append(
                {
                    "fileName": fname,
                    "globalName": f"YTD.{type_name}.part{n}",
                    "count": str(len(chunk)),
                }
            )
        manifest_types[camel] = entry

    acct = spec.account
    add_type(
        "account",
        "account",
        "account",
        [
            {
                "account": {
                    "email": "private@example.org",
                    "createdVia": "web",
                    "username": acct.username,
                    "accountId": acct.id,
                    "createdAt": _iso(acct.created_at or datetime(2010, 1, 1, tzinfo=UTC)),
                    "accountDisplayName": acct.display_name,
                }
            }
        ],
    )
    prof = spec.profile
    add_type(
        "profile",
        "profile",
        "profile",
        [
            {
                "profile": {
                    "description": {
                        "bio": prof.bio,
                        "website": prof.website,
                        "location": prof.location,
                    },
                    "avatarMediaUrl": prof.avatar_url,
                    **({"headerMediaUrl": prof.header_url} if prof.header_url else {}),
                }
            }
        ],
        media_dir=f"{data}profile_media",
    )
    if spec.avatar_file and era != "2019":
        for url in (prof.avatar_url, prof.header_url):
            if url:
                files[f"{data}profile_media/{acct.id}-{url.rsplit('/', 1)[1]}"] = (
                    b"\x89PNG fake " + url.encode()
                )

    tweets, community, notes = [], [], []
    media_files: dict[str, bytes] = {}
    for t in spec.tweets:
        r = _render(t, spec, _media_dir(era, t.community))
        bucket = community if t.community else tweets
        for e in r.entries:
            bucket.append(e)
        if r.note:
            notes.append(r.note)
        mdir = _media_dir(era, t.community)
        for fname, present, blob in r.files:
            if present:
                media_files[f"{mdir}/{fname}"] = blob
    rng.shuffle(tweets)  # parts are not chronological
    if era == "2019":
        add_type("tweets", "tweet", "tweet", tweets)
        nested = io.BytesIO()
        with zipfile.ZipFile(nested, "w", zipfile.ZIP_STORED) as z:
            for name, blob in media_files.items():
                z.writestr(name.split("/", 1)[1], blob)
        if media_files:
            files["tweet_media.zip"] = nested.getvalue()
    else:
        add_type(
            "tweets",
            tweet_type,
            tweet_type,
            [{"tweet": e} for e in tweets],
            media_dir=f"{data}{tweet_type}_media",
        )
        files.update(media_files)
    if notes or era == "2024":
        add_type("noteTweet", "note_tweet", "note-tweet", notes)
    if community or era == "2024":
        add_type(
            "communityTweet",
            "community_tweet",
            "community-tweet",
            [{"tweet": e} for e in community],
            media_dir=f"{data}community_tweet_media",
        )
    add_type("following", "following", "following", _graph_items(spec.following, "following", era))
    add_type("follower", "follower", "follower", _graph_items(spec.followers, "follower", era))
    add_type("block", "block", "block", _graph_items(spec.blocks, "blocking", era))
    add_type("mute", "mute", "mute", _graph_items(spec.mutes, "muting", era))
    add_type(
        "like",
        "like",
        "like",
        [
            {"like": {"tweetId": lk.post_id, "fullText": _escape(lk.text), "expandedUrl": lk.url}}
            for lk in spec.likes
        ],
    )
    for camel, base, urls in (
        ("listsCreated", "lists-created", spec.lists_created),
        ("listsMember", "lists-member", spec.lists_member),
        ("listsSubscribed", "lists-subscribed", spec.lists_subscribed),
    ):
        if era == "2019":
            items = [{"userListInfo": {"urls": list(urls)}}] if urls else []
        else:
            items = [{"userListInfo": {"url": u}} for u in urls]
        add_type(camel, base.replace("-", "_"), base, items)
    # Private files: poisoned, never to be opened.
    for name in PRIVATE_FILES:
        files[f"{data}{name}"] = POISON
    if era != "2019":
        for folder in PRIVATE_MEDIA_DIRS:
            files[f"{data}{folder}/1234567890-secret.jpg"] = POISON
        files[f"{data}tweetdeck.js"] = b"window.YTD.tweetdeck.part0 = [ ]"
        files[f"{data}README.txt"] = b"Twitter archive README (synthetic)\n"
        files["Your archive.html"] = b"<!doctype html><title>Your archive</title>"
        for n in range(3):
            files[f"assets/js/viewer-{n}.js"] = b"/* archive viewer */"
        manifest = {
            "userInfo": {
                "accountId": acct.id,
                "userName": acct.username,
                "displayName": acct.display_name,
            },
            "archiveInfo": {
                "sizeBytes": str(sum(len(b) for b in files.values())),
                "generationDate": _iso(spec.generated_at),
                "isPartialArchive": False,
                "maxPartSizeBytes": "53687091200",
            },
            "readmeInfo": {
                "fileName": "data/README.txt",
                "directory": "data/",
                "name": "README.txt",
            },
            "dataTypes": manifest_types,
        }
        files["data/manifest.js"] = (
            "window.__THAR_CONFIG = " + json.dumps(manifest, indent=2, separators=(",", " : "))
        ).encode()
    return files


def write_archive(
    dest_dir: Path | str,
    spec: ArchiveSpec,
    *,
    era: str = "2024",
    zipped: bool = True,
    wrap_folder: bool = False,
    macosx: bool = False,
    parts: dict[str, int] | None = None,
    zip64: bool = False,
    seed: int = 0,
    unreadable_private: bool = True,
    nested_stored: bool = True,
) -> Path:
    """Write `spec` as an archive of `era`; return the zip (or folder) path.

    `parts` maps a file base name (`tweets`, `tweet`, `follower`, `like`…) to
    its number of `-partN` files. Members are written in shuffled order.
    Unzipped, private files are made unreadable (mode 000) when
    `unreadable_private` is set, so opening one fails loudly. 2019 media go in
    a nested `tweet_media.zip`, stored uncompressed unless `nested_stored` is
    false (the reader maps only stored ones).
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    files = render_files(spec, era=era, parts=parts, seed=seed)
    name = _archive_name(spec)
    prefix = f"{name}/" if wrap_folder else ""
    order = list(files)
    random.Random(seed + 1).shuffle(order)
    private = {n for n in files if files[n] == POISON}
    if not zipped:
        root = dest_dir / name
        for rel in order:
            target = root / (prefix + rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[rel])
            if unreadable_private and rel in private:
                os.chmod(target, 0)
        if macosx:
            junk = root / "__MACOSX" / "data"
            junk.mkdir(parents=True, exist_ok=True)
            (junk / "._tweets.js").write_bytes(b"\x00\x05\x16\x07junk")
        return root
    path = dest_dir / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        if wrap_folder:
            z.writestr(zipfile.ZipInfo(prefix), b"")
        for rel in order:
            member: str | zipfile.ZipInfo = prefix + rel
            if rel.endswith(".zip"):  # a nested media zip (2019)
                member = zipfile.ZipInfo(prefix + rel, date_time=(2019, 5, 1, 0, 0, 0))
                member.compress_type = zipfile.ZIP_STORED if nested_stored else zipfile.ZIP_DEFLATED
            with z.open(member, "w", force_zip64=zip64) as fh:
                fh.write(files[rel])
            if macosx and rel.endswith(".js"):
                folder, _, base = rel.rpartition("/")
                junk = f"__MACOSX/{prefix}{folder + '/' if folder else ''}._{base}"
                z.writestr(junk, b"\x00\x05\x16\x07junk")
    return path


def pack(
    dest_dir: Path | str,
    files: dict[str, bytes],
    *,
    zipped: bool = True,
    name: str = "twitter-2024-05-01-" + "0" * 64,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write members as given (for hand-mangled archives); return the path."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    if not zipped:
        root = dest_dir / name
        for rel, blob in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(blob)
        return root
    path = dest_dir / f"{name}.zip"
    with zipfile.ZipFile(path, "w", compression) as z:
        for rel, blob in files.items():
            z.writestr(rel, blob)
    return path


# ------------------------------------------------------------------------ sample

_WORDS = [
    "swallow",
    "migration",
    "spring",
    "fediverse",
    "open",
    "web",
    "🌍",
    "café",
    "naïve",
    "<b>bold</b>",
    "&",
    "friends",
    "R&D",
    "5",
    ">",
    "3",
    "<",
    "7",
    "threads",
    "日本語",
    "données",
    "leaving",
    "network",
    "people",
    "reconnect",
    "🐦",
    "rock&roll",
]


def sample_spec(
    seed: int = 0,
    n_posts: int = 50,
    n_following: int = 30,
    n_followers: int | None = None,
    *,
    n_blocks: int = 3,
    n_mutes: int = 2,
    n_likes: int = 10,
    account_id: str | None = None,
    generated_at: datetime | None = None,
) -> ArchiveSpec:
    """A realistic mixed archive: replies, threads, retweets, quotes, edits,
    media, long posts, community posts, escaped characters and emoji."""
    rng = random.Random(seed)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    acct_id = account_id if account_id is not None else str(rng.randrange(10**7, 10**18))
    account = Account(
        acct_id, f"swallow{seed}", f"Swallow {seed} 🐦", datetime(2012, 3, 4, 5, 6, 7, tzinfo=UTC)
    )
    profile = Profile(
        bio="Leaving for the open web & beyond <3",
        website=_tco("bio", seed),
        location="Paris",
        avatar_url=f"https://pbs.twimg.com/profile_images/{seed + 1}/avatar{seed}.jpg",
        header_url=f"https://pbs.twimg.com/profile_banners/{acct_id}/1600000000",
    )
    spec = ArchiveSpec(account=account, profile=profile)
    if generated_at:
        spec.generated_at = generated_at
    when = start
    own: list[TweetSpec] = []
    for i in range(n_posts):
        when = when + timedelta(seconds=rng.randrange(60, 86400))
        tid = snowflake(when, rng)
        words = rng.sample(_WORDS, rng.randrange(2, 9))
        text = " ".join(words)
        urls: tuple[str, ...] = ()
        mentions: tuple[tuple[str, str], ...] = ()
        hashtags: tuple[str, ...] = ()
        kw: dict = {}
        r = rng.random()
        if rng.random() < 0.25:
            u = f"https://example.org/{i}?a=1&b=2"
            text = f"{text} {u}"
            urls = (u,)
        if rng.random() < 0.15:
            hashtags = (f"tag{i % 5}",)
            text = f"{text} #tag{i % 5}"
        if r < 0.10:
            kw["retweet_of"] = f"friend{i % 7}"
        elif r < 0.25:
            other = f"other{i % 11}"
            text = f"@{other} {text}"
            mentions = ((other, str(5000 + i % 11)),)
            kw.update(
                reply_to=str(int(tid) - 10**12),
                reply_to_user_id=str(5000 + i % 11),
                reply_to_screen_name=other,
            )
        elif r < 0.45 and own:
            parent = rng.choice(own[-5:]) if rng.random() < 0.9 else None
            kw.update(
                reply_to=parent.id
                if parent
                else str(int(tid) - 5 * 10**12),  # else: a deleted parent
                reply_to_user_id=acct_id,
                reply_to_screen_name=account.username,
            )
            if rng.random() < 0.5:
                text = f"@{account.username} {text}"
                mentions = ((account.username, acct_id),)
        elif r < 0.50:
            kw["quote"] = (f"quoted{i % 3}", str(int(tid) - 10**11))
        if rng.random() < 0.12 and "retweet_of" not in kw:
            n = rng.randrange(1, 5)
            kind = rng.choice(["photo", "photo", "video", "animated_gif"])
            kind_n = n if kind == "photo" else 1
            kw["media"] = tuple(
                MediaSpec(
                    kind,
                    f"M{i}x{k}",
                    source_post_id=None if rng.random() < 0.9 else "42",
                    present=rng.random() < 0.95,
                )
                for k in range(kind_n)
            )
        if rng.random() < 0.04 and "retweet_of" not in kw:
            edits = []
            for k in range(rng.randrange(1, 3)):
                edits.append((str(int(tid) - (k + 1) * 1000), f"draft {k} of {text}"))
            kw["edits"] = tuple(reversed(edits))
        if rng.random() < 0.05 and "retweet_of" not in kw:
            extra = " ".join(rng.choice(_WORDS) for _ in range(70))
            u2 = f"https://long.example/{i}"
            text = f"{text} {extra} {u2} the end"
            urls = (*urls, u2)
            kw["long"] = True
        if rng.random() < 0.03 and "retweet_of" not in kw and "reply_to" not in kw:
            kw["community"] = True
        if rng.random() < 0.05:
            kw["possibly_sensitive"] = True
        t = TweetSpec(
            id=tid,
            created_at=when,
            text=text,
            urls=urls,
            mentions=mentions,
            hashtags=hashtags,
            lang=rng.choice(["en", "fr", "und"]),
            **kw,
        )
        spec.tweets.append(t)
        if not t.retweet_of:
            own.append(t)
    total = (
        n_following + (n_followers if n_followers is not None else n_following) + n_blocks + n_mutes
    )
    seen: set[int] = set()
    ids_s = []
    while len(ids_s) < total:
        x = rng.randrange(10**6, 10**19)
        if x not in seen:
            seen.add(x)
            ids_s.append(str(x))
    spec.following = ids_s[:n_following]
    rest = ids_s[n_following:]
    nf = n_followers if n_followers is not None else n_following
    spec.followers = rest[:nf]
    spec.blocks = rest[nf : nf + n_blocks]
    spec.mutes = rest[nf + n_blocks : nf + n_blocks + n_mutes]
    spec.likes = [
        LikeSpec(
            str(10**17 + k), f"liked {k} & <more>", f"https://twitter.com/i/web/status/{10**17 + k}"
        )
        for k in range(n_likes)
    ]
    spec.lists_created = [f"https://twitter.com/{account.username}/lists/{k}" for k in range(2)]
    spec.lists_member = [f"https://twitter.com/someone/lists/{k}" for k in range(3)]
    spec.lists_subscribed = ["https://twitter.com/i/lists/99"]
    return spec


# ------------------------------------------------------------------ names of the graph


@dataclass(frozen=True)
class ExpectedName:
    """What a correct reader says the archive calls one X id."""

    username: str
    display_name: str
    post_id: str  # the post the username was last seen in
    source: str  # mention, reply, note, community, quote
    #: (network, address) the display name carries, if any
    claim: tuple[str, str] | None = None


@dataclass
class NamesTruth:
    """Every X id that `add_names` made the posts name (graph or not), and why."""

    names: dict[str, ExpectedName] = field(default_factory=dict)
    #: ids of the graph replied to with no `in_reply_to_screen_name`: unnamed
    unnamed_replies: set[str] = field(default_factory=set)

    def named(self, ids: Iterable[str]) -> int:
        return sum(1 for x in set(ids) if x in self.names)

    def claims(self, ids: Iterable[str]) -> int:
        return sum(1 for x in set(ids) if x in self.names and self.names[x].claim)


#: Display names people give themselves on X, some carrying their new address.
_DISPLAY = (
    ("Person {k}", None),
    ("Alice {k} 🦋 p{k}.bsky.social", ("bluesky", "p{k}.bsky.social")),
    ("Bob {k} @p{k}@piaille.fr", ("mastodon", "p{k}@piaille.fr")),
    ("Carol {k} https://piaille.fr/@p{k}", ("mastodon", "p{k}@piaille.fr")),
    ("Dan {k} | bsky.app/profile/p{k}.bsky.social", ("bluesky", "p{k}.bsky.social")),
    ("Émile {k} ✨ (he/him)", None),
)
_KINDS = ("mention", "reply", "note", "community", "reply_only")


def add_names(
    spec: ArchiveSpec,
    seed: int = 0,
    *,
    following: float = 0.6,
    followers: float = 0.3,
    blocks: int = 1,
    mutes: int = 1,
    outside: int = 3,
) -> NamesTruth:
    """Add posts that name accounts of the graph, as real archives do; returns the truth.

    Each named id is seen in a mention, a reply (with or without its leading
    mention), a long post (note) or a community post, with a display name of
    that moment (some carry a new address). As real archives also do: some
    ids were seen earlier under another username and display name (the most
    recent must win, whatever the file order), some are quoted later (a
    quote names a username only), one reply lacks `in_reply_to_screen_name`
    (its id stays unnamed), one long post names someone only in its note
    part (no id), and a few accounts outside the graph are named too.
    """
    rng = random.Random(f"names-{seed}")
    graph = set(spec.following) | set(spec.followers) | set(spec.blocks) | set(spec.mutes)
    chosen: list[str] = []
    for ids, share in ((spec.following, following), (spec.followers, followers)):
        pool = [x for x in dict.fromkeys(ids) if x not in chosen]
        chosen += rng.sample(pool, int(len(pool) * share))
    for ids, n in ((spec.blocks, blocks), (spec.mutes, mutes)):
        pool = [x for x in dict.fromkeys(ids) if x not in chosen]
        chosen += pool[:n]
    strangers = []
    while len(strangers) < outside:
        x = str(rng.randrange(10**6, 10**19))
        if x not in graph:
            strangers.append(x)
    chosen += strangers
    truth = NamesTruth()
    # One sighting: (when, post id, source, username, display or None, tied to the id,
    # the address the display name carries)
    sightings: dict[str, list[tuple]] = {}
    tweets: list[TweetSpec] = []
    base = datetime(2022, 1, 1, tzinfo=UTC)

    def post(when: datetime, **kw) -> str:
        tid = snowflake(when, rng)
        tweets.append(TweetSpec(id=tid, created_at=when, **kw))
        return tid

    words = " ".join(_WORDS[:4])
    filler = " ".join(rng.choice(_WORDS) for _ in range(80))
    for k, x in enumerate(chosen):
        user = f"u{k}_{seed}"[:15]
        template, claim = _DISPLAY[k % len(_DISPLAY)]
        display = template.format(k=k)
        when = base + timedelta(days=k, seconds=rng.randrange(86400))
        kind = _KINDS[k % len(_KINDS)]
        seen = sightings.setdefault(x, [])
        if kind == "mention":
            tid = post(
                when,
                text=f"{words} @{user} {words}",
                mentions=((user, x),),
                mention_names=((user, display),),
            )
        elif kind == "reply":
            tid = post(
                when,
                text=f"@{user} {words}",
                mentions=((user, x),),
                mention_names=((user, display),),
                reply_to=str(10**17 + k),
                reply_to_user_id=x,
                reply_to_screen_name=user,
            )
        elif kind == "note":
            tid = post(
                when,
                text=f"Thinking about what @{user} said: {filler} https://long.example/{k} end",
                urls=(f"https://long.example/{k}",),
                mentions=((user, x),),
                mention_names=((user, display),),
                long=True,
            )
        elif kind == "community":
            tid = post(
                when,
                text=f"{words} @{user}",
                mentions=((user, x),),
                mention_names=((user, display),),
                community=True,
            )
        else:  # a reply whose leading mention X left out of the text
            tid = post(
                when,
                text=words,
                reply_to=str(10**17 + k),
                reply_to_user_id=x,
                reply_to_screen_name=user,
            )
        source = "mention" if kind == "reply" else kind
        if kind == "reply_only":
            source = "reply"
        shows = None if kind == "reply_only" else display
        address = (claim[0], claim[1].format(k=k)) if claim else None
        seen.append((when, tid, source, user, shows, True, address if shows else None))
        if k % 4 == 1:
            # Seen a year earlier under another name; written after, in file order.
            old, old_display = f"old{k}_{seed}"[:15], f"Old {k} 🦋 old{k}.bsky.social"
            earlier = when - timedelta(days=365)
            tid = post(
                earlier,
                text=f"{words} @{old}",
                mentions=((old, x),),
                mention_names=((old, old_display),),
            )
            old_claim = ("bluesky", f"old{k}.bsky.social")
            seen.append((earlier, tid, "mention", old, old_display, True, old_claim))
            # ... and quoted later under that old name: a username's new owner.
            later = when + timedelta(days=3)
            tid = post(later, text="old times", quote=(old, str(10**17 + k)))
            seen.append((later, tid, "quote", old, None, False, None))
        if k % 5 == 2:
            later = when + timedelta(days=30)
            tid = post(later, text=f"so true {k}", quote=(user, str(10**16 + k)))
            seen.append((later, tid, "quote", user, None, False, None))
        if k == 3:
            # Named only in the note part of a long post: a username with no id.
            later = when + timedelta(days=60)
            tid = post(
                later,
                text=f"{filler} {filler} and @{user} at last https://long.example/n{k} end",
                urls=(f"https://long.example/n{k}",),
                mentions=((user, x),),
                long=True,
            )
            seen.append((later, tid, "note", user, None, False, None))
    # A reply with no in_reply_to_screen_name names nobody.
    unnamed = [x for x in dict.fromkeys(spec.following) if x not in sightings][:1]
    for x in unnamed:
        post(base - timedelta(days=3), text="agreed", reply_to=str(10**15), reply_to_user_id=x)
        truth.unnamed_replies.add(x)
    post(base, text="ha", quote=("nobody_here", str(10**15)))  # a username no id holds
    for x, seen in sightings.items():
        tied = [s for s in seen if s[5]]
        latest = max(tied, key=lambda s: s[0])
        when, tid, source, user = latest[:4]
        loose = [s for s in seen if not s[5] and s[3].lower() == user.lower() and s[0] > when]
        if loose:
            when, tid, source, user = max(loose, key=lambda s: s[0])[:4]
        shown = max((s for s in tied if s[4]), default=None, key=lambda s: s[0])
        display, claim = (shown[4], shown[6]) if shown else ("", None)
        truth.names[x] = ExpectedName(user, display, tid, source, claim)
    rng.shuffle(tweets)
    spec.tweets.extend(tweets)
    return truth


def expected_likes(spec: ArchiveSpec) -> list[Like]:
    return [Like(lk.post_id, lk.text, lk.url) for lk in spec.likes]


def expected_lists(spec: ArchiveSpec) -> list[ListRef]:
    return (
        [ListRef(ListKind.CREATED, u) for u in spec.lists_created]
        + [ListRef(ListKind.MEMBER, u) for u in spec.lists_member]
        + [ListRef(ListKind.SUBSCRIBED, u) for u in spec.lists_subscribed]
    )
