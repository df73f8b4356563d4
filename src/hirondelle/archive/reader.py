"""`open_archive(path)`: the archive as typed records, streamed.

Data files are found by name (the manifest is only a hint), read part by part
(`tweets.js`, `tweets-part1.js`… in part order), and never more than one
chunk at a time. Private files are listed by name and never opened.
"""

from __future__ import annotations

import functools
import operator
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import msgspec

from hirondelle.archive.census import PostCensus, count_posts
from hirondelle.archive.container import MAX_DATA_FILE_BYTES, Container, open_container
from hirondelle.archive.errors import ArchiveError
from hirondelle.archive.jsfile import iter_batches, read_object
from hirondelle.archive.manifest import Missing, missing_members
from hirondelle.archive.names import NameIndex, SeenName
from hirondelle.archive.records import Account, EdgeKind, Like, ListKind, ListRef, Post, Profile
from hirondelle.archive.tweets import (
    BARE_CENSUS_DECODER,
    BARE_LIGHT_DECODER,
    BARE_TWEET_DECODER,
    CENSUS_DECODER,
    LIGHT_DECODER,
    NOTE_DECODER,
    TWEET_DECODER,
    CensusTweet,
    Note,
    NoteIndex,
    PostContext,
    Tweet,
    build_post,
    is_self_reply,
    parse_iso,
    parse_x_time,
    unescape,
)

if TYPE_CHECKING:
    import zipfile

__all__ = ["PostStats", "XArchive", "is_private", "open_archive"]

_DATA_FILE = re.compile(r"^(?P<base>[A-Za-z0-9_-]+?)(?:-part(?P<n>\d+))?\.js$")

#: Base names (without `-partN.js`) of the private data files, by prefix.
PRIVATE_PREFIXES = (
    "direct-message",
    "direct_message",
    "message-event",
    "ip-audit",
    "account-creation-ip",
    "device-token",
    "ni-devices",
    "phone-number",
    "email-address",
    "contact",
    "ad-",
    "ads-",
    "personalization",
    "key-registry",
    "deleted-",
    "grok-chat",
    "payout",
    "audio-video-calls",
    "connected-application",
    "sso",
    "user-link-clicks",
    "saved-search",
    "periscope",
    "mobile",
    "account-timezone",
    "ageinfo",
    "screen-name-change",
    "email",
    "verified",
)
#: Media folders holding private files.
PRIVATE_DIR_PREFIXES = ("direct_message", "deleted_", "grok", "dm_")

_BASE_TWEETS = ("tweets", "tweet")
_NESTED_MEDIA = re.compile(r"^(?:data/)?[a-z_]*media\.zip$")


def _part_number(name: str) -> int:
    """N of a `-partN.js` member name (0 for the first part)."""
    m = _DATA_FILE.match(name.rsplit("/", 1)[-1])
    return int(m.group("n") or 0) if m else 0


def is_private(name: str) -> bool:
    """Whether an archive member (relative to the archive root) is private."""
    parts = name.split("/")
    for folder in parts[:-1]:
        if folder.startswith(PRIVATE_DIR_PREFIXES):
            return True
    m = _DATA_FILE.match(parts[-1])
    base = m.group("base") if m else parts[-1]
    return base.startswith(PRIVATE_PREFIXES)


@dataclass
class PostStats:
    """Filled while `posts()` runs: what the summary needs beyond the posts."""

    tweet_entries: int = 0  # entries in tweets*.js and community-tweet*.js
    superseded: int = 0  # earlier edit versions dropped
    notes: int = 0  # entries in note-tweet*.js
    notes_merged: int = 0
    #: Notes no post took, by note id (reported as a warning, never dropped silently).
    notes_unmatched: list[str] = field(default_factory=list)


_WRAPPERS = {
    EdgeKind.FOLLOWING: ("following", "following"),
    EdgeKind.FOLLOWER: ("follower", "follower"),
    EdgeKind.BLOCK: ("block", "blocking"),
    EdgeKind.MUTE: ("mute", "muting"),
}


class _Graph(msgspec.Struct, gc=False):
    accountId: str | int | None = None


def _graph_decoder(key: str) -> msgspec.json.Decoder:
    item: Any = msgspec.defstruct(f"_{key}_item", [(key, _Graph | None, None)], gc=False)
    return msgspec.json.Decoder(list[item])


_GRAPH_DECODERS = {kind: _graph_decoder(key) for kind, (_, key) in _WRAPPERS.items()}


def _graph_ids(key: str) -> Callable[[Any, list[Any]], list[str]]:
    """The ids of a decoded run, in C for the usual case (every entry a string id)."""
    get = operator.attrgetter(f"{key}.accountId")

    def extract(run: Any, items: list[Any]) -> list[str]:
        try:
            ids = list(map(get, items))
            "".join(ids)  # TypeError unless every id is a string
            return ids
        except (AttributeError, TypeError):  # an entry without an id, or a numeric id
            out = []
            for item in items:
                inner = getattr(item, key)
                if inner is not None and inner.accountId is not None:
                    out.append(str(inner.accountId))
            return out

    return extract


class _LikeInner(msgspec.Struct):
    tweetId: str | None = None
    fullText: str | None = None
    expandedUrl: str | None = None


class _LikeItem(msgspec.Struct):
    like: _LikeInner | None = None


class _ListInfo(msgspec.Struct):
    url: str | None = None
    urls: list[str] | None = None


class _ListItem(msgspec.Struct):
    userListInfo: _ListInfo | None = None


_LIKE_DECODER = msgspec.json.Decoder(list[_LikeItem])
_LIST_DECODER = msgspec.json.Decoder(list[_ListItem])
_BARE_SNIFF = re.compile(rb"^\s*\[\s*(?:\]|\{\s*\"tweet\"\s*:)")


#: What bad content raises once decoded: a value that does not parse (an id,
#: a date, a number out of range, text in a bad encoding). TypeError,
#: KeyError, IndexError or AttributeError mean a bug in this reader (decoding
#: already checked every type and field): they propagate, so tests see them.
BAD_CONTENT = (ValueError, OverflowError)


def _guarded(method):
    """Turn what bad content raises while reading into an ArchiveError."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            yield from method(self, *args, **kwargs)
        except ArchiveError:
            raise
        except BAD_CONTENT as exc:
            raise ArchiveError(f"{self.source.name}: unexpected content ({exc!r})") from exc

    return wrapper


class XArchive:
    """An open X archive. Use as a context manager (`with open_archive(p) as a:`)."""

    def __init__(self, container: Container):
        self._c = container
        self.source: Path = container.source
        self.progress: Callable[[int], None] | None = None
        self._warnings: list[str] = []
        names = list(container.members.listed())
        self._files: dict[str, list[str]] = {}
        data_dir = ""
        if any(n.startswith("data/") and n.endswith(".js") for n in names):
            data_dir = "data/"
        self.data_dir = data_dir
        for name in names:
            if not name.startswith(data_dir) or "/" in name[len(data_dir) :]:
                continue
            m = _DATA_FILE.match(name[len(data_dir) :])
            if m:
                self._files.setdefault(m.group("base"), []).append(name)
        for base, files in self._files.items():
            files.sort(key=_part_number)
            self._files[base] = files
        self._check_is_archive()
        self._manifest: dict[str, Any] | None = None
        self._nested: dict[str, zipfile.ZipFile] | None = None
        self._nested_handles: list[BinaryIO] = []
        self._account: Account | None = None
        #: Media folders that posts read so far refer to without finding the file.
        self._media_wanted: set[str] = set()
        self._tweet_base = "tweets" if "tweets" in self._files else "tweet"
        if data_dir == "":
            self.era = "2018-2019"
        elif self._tweet_base == "tweets":
            self.era = "2022+"
        else:
            self.era = "2020-2022"

    # ----------------------------------------------------------- housekeeping

    def _check_is_archive(self) -> None:
        names = self._c.members
        if "tweets.csv" in names or any(n.startswith("data/js/tweets/") for n in names.listed()):
            raise ArchiveError(
                f"{self.source.name} is an old-style Twitter archive (tweets.csv, before 2018): "
                "this era is not supported; request a new archive from X (Settings → "
                "Your account → Download an archive of your data)"
            )
        if not (
            self._files.get("account") or self._files.get("tweets") or self._files.get("tweet")
        ):
            raise ArchiveError(
                f"{self.source.name} is not an X archive: it has no data/account.js, "
                "data/tweets.js or data/manifest.js"
            )

    def close(self) -> None:
        for z in (self._nested or {}).values():
            z.close()
        for handle in self._nested_handles:
            handle.close()
        self._c.close()

    def _nested_media(self) -> dict[str, zipfile.ZipFile]:
        """2018–2019 archives keep media in nested zips (`tweet_media.zip`).

        They are indexed when stored without compression (then each file is
        read in place); a compressed nested zip would have to be inflated
        again for every file, so its media stay unmapped, with a warning.
        """
        if self._nested is None:
            import zipfile  # only for 2018–2019 archives

            self._nested = {}
            for name in self._c.members.listed():
                if not _NESTED_MEDIA.match(name) or is_private(name):
                    continue
                handle = self._c.seekable(name)
                if handle is None:
                    self._warnings.append(
                        f"media in {name} are in a compressed nested zip: not mapped to posts"
                    )
                    continue
                try:
                    self._nested[name] = zipfile.ZipFile(handle)
                    self._nested_handles.append(handle)
                except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
                    handle.close()
                    self._warnings.append(f"{name} is not a readable zip ({exc}): media not mapped")
        return self._nested

    def _nested_names(self) -> set[str]:
        return {
            f"{outer}/{info.filename}"
            for outer, z in self._nested_media().items()
            for info in z.infolist()
            if not info.is_dir()
        }

    def __enter__(self) -> XArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def warnings(self) -> list[str]:
        """Things worth telling the person that did not stop the reading."""
        return [*self._c.warnings, *self._warnings]

    @property
    def member_names(self) -> list[str]:
        """Every file in the archive (relative to its root), private ones included."""
        return sorted(self._c.members)

    def data_files(self, base: str) -> list[str]:
        """Member names of a data type's files in part order (`tweets`, `follower`…)."""
        return list(self._files.get(base, ()))

    def _open_data(self, name: str) -> BinaryIO:
        if is_private(name):
            raise ArchiveError(f"refusing to open the private file {name}", member=name)
        if self._c.size(name) > MAX_DATA_FILE_BYTES:
            raise ArchiveError(
                f"{name} is {self._c.size(name) >> 20} MiB: larger than any X data file "
                "(a zip bomb?)",
                member=name,
            )
        return self._c.open(name)

    def data_size(self, *bases: str) -> int:
        """Uncompressed bytes of the given data types (by default: what `summarize` streams).

        `progress`, when set, is called with byte counts that add up to this
        as those files are read.
        """
        bases = bases or (
            self._tweet_base,
            "community-tweet",
            "note-tweet",
            "following",
            "follower",
            "block",
            "mute",
            "like",
            "lists-created",
            "lists-member",
            "lists-subscribed",
        )
        return sum(self._c.size(n) for b in bases for n in self._files.get(b, ()))

    def _batches(
        self, name: str, decoder: msgspec.json.Decoder, owned: bool = False
    ) -> Iterator[list[Any]]:
        with self._open_data(name) as fh:
            yield from iter_batches(fh, name, decoder, on_bytes=self.progress, owned=owned)

    def _items(self, base: str, decoder: msgspec.json.Decoder) -> Iterator[Any]:
        for name in self._files.get(base, ()):
            for batch in self._batches(name, decoder):
                yield from batch

    def _read_small(self, name: str) -> Any:
        with self._open_data(name) as fh:
            return read_object(fh, name)

    # ------------------------------------------------------------ metadata

    @property
    def manifest(self) -> dict[str, Any]:
        """`data/manifest.js` as a dict ({} if absent or unreadable: it is only a hint)."""
        if self._manifest is None:
            self._manifest = {}
            name = f"{self.data_dir}manifest.js"
            if name in self._c.members:
                try:
                    value = self._read_small(name)
                except ArchiveError as exc:
                    self._warnings.append(f"manifest ignored: {exc}")
                    value = {}
                self._manifest = value if isinstance(value, dict) else {}
        return self._manifest

    @property
    def generated_at(self) -> datetime | None:
        """When X generated the archive: the manifest's date, else the zip's name."""
        info = self.manifest.get("archiveInfo")
        if isinstance(info, dict) and isinstance(info.get("generationDate"), str):
            when = parse_iso(info["generationDate"])
            if when:
                return when
        m = re.search(r"twitter-(\d{4})-(\d{2})-(\d{2})", self.source.name)
        if m:
            try:
                return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
            except ValueError:
                return None
        return None

    def account(self) -> Account:
        if self._account is not None:
            return self._account
        raw: dict[str, Any] = {}
        for name in self._files.get("account", ()):
            value = self._read_small(name)
            if isinstance(value, list) and value and isinstance(value[0], dict):
                inner = value[0].get("account", value[0])
                if isinstance(inner, dict):
                    raw = inner
                    break
        info = self.manifest.get("userInfo")
        user: dict[str, Any] = info if isinstance(info, dict) else {}
        acct_id = str(raw.get("accountId") or user.get("accountId") or "")
        username = str(raw.get("username") or user.get("userName") or "")
        display = str(raw.get("accountDisplayName") or user.get("displayName") or "")
        if not acct_id and not username:
            raise ArchiveError(
                f"{self.source.name}: account.js names no account (no accountId or username)",
                member=(self._files.get("account") or ["account.js"])[0],
            )
        created = parse_iso(raw.get("createdAt")) if isinstance(raw.get("createdAt"), str) else None
        self._account = Account(
            id=acct_id, username=username, display_name=display, created_at=created
        )
        return self._account

    def profile(self) -> Profile:
        desc: dict[str, Any] = {}
        raw: dict[str, Any] = {}
        for name in self._files.get("profile", ()):
            value = self._read_small(name)
            if isinstance(value, list) and value and isinstance(value[0], dict):
                inner = value[0].get("profile", value[0])
                if isinstance(inner, dict):
                    raw = inner
                    found = raw.get("description")
                    desc = found if isinstance(found, dict) else {}
                    break
        acct = self.account()

        def path_for(url: str) -> str | None:
            if not url:
                return None
            base = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            cand = f"{self.data_dir}profile_media/{acct.id}-{base}"
            return cand if cand in self._c.members else None

        avatar = str(raw.get("avatarMediaUrl") or "")
        header = str(raw.get("headerMediaUrl") or "")
        return Profile(
            bio=str(desc.get("bio") or ""),
            website=str(desc.get("website") or ""),
            location=str(desc.get("location") or ""),
            avatar_url=avatar,
            header_url=header,
            avatar_path=path_for(avatar),
            header_path=path_for(header),
        )

    def missing(self) -> list[Missing]:
        """Data files and media folders the manifest lists but the archive lacks.

        Only what the reader would read counts (not direct messages…). Media
        folders are judged from the posts read so far (a folder counts as
        missing when read posts refer to files in it): call this after
        `posts()` for a complete answer. Each one found is also a warning.
        """
        wanted = set(self._media_wanted)
        if self.manifest and self._files.get("profile"):
            try:
                profile = self.profile()
            except ArchiveError:
                profile = Profile()  # an unreadable profile is not for this question
            for url, path in (
                (profile.avatar_url, profile.avatar_path),
                (profile.header_url, profile.header_path),
            ):
                if url and not path and "default_profile" not in url:
                    wanted.add("profile_media")
        found = missing_members(
            self.manifest, self._c.members, self.data_dir, wanted, self._c.members.dirs()
        )
        messages = [item.message() for item in found]
        info = self.manifest.get("archiveInfo")
        partial = isinstance(info, dict) and str(info.get("isPartialArchive")).lower() == "true"
        if found and partial:
            messages.append(
                "X split this archive into several zip files (its manifest says so): the "
                "missing files are in the other parts; unzip every part into one folder "
                "and give that folder"
            )
        for message in messages:
            if message not in self._warnings:
                self._warnings.append(message)
        return found

    def private_files(self) -> list[str]:
        """Private members by name (folders as `dir/`): listed, never opened."""
        out: set[str] = set()
        # Private by folder: told by the folders alone (a zip's media are not all listed).
        for folder_path in self._c.members.dirs():
            parts = folder_path.split("/")
            for i, folder in enumerate(parts):
                if folder.startswith(PRIVATE_DIR_PREFIXES):
                    out.add("/".join(parts[: i + 1]) + "/")
                    break
        # Private by name: `_keep` lists every such member.
        for name in self._c.members.listed():
            folders = name.split("/")[:-1]
            if is_private(name) and not any(f.startswith(PRIVATE_DIR_PREFIXES) for f in folders):
                out.add(name)
        return sorted(out)

    def open_member(self, name: str) -> BinaryIO:
        """A media file (or any non-private member) as a binary stream.

        Names inside a 2019 nested media zip read `tweet_media.zip/<file>`.
        """
        import zipfile

        outer, _, inner = name.partition(".zip/")
        if inner and f"{outer}.zip" in self._nested_media():
            z = self._nested_media()[f"{outer}.zip"]
            try:
                info = z.getinfo(inner)
                if info.file_size > MAX_DATA_FILE_BYTES:
                    raise ArchiveError(f"{name} is too large (a zip bomb?)", member=name)
                return cast(BinaryIO, z.open(info))
            except KeyError:
                raise ArchiveError(f"no file named {name!r} in {self.source.name}") from None
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as exc:
                raise ArchiveError(f"cannot read {name} ({exc})", member=name) from exc
        if name not in self._c.members:
            raise ArchiveError(f"no file named {name!r} in {self.source.name}")
        if is_private(name):
            raise ArchiveError(f"refusing to open the private file {name}", member=name)
        return self._c.open(name)

    # ---------------------------------------------------------------- graph

    @_guarded
    def edges(self, kind: EdgeKind | str) -> Iterator[str]:
        """X account ids (decimal strings) of one relation, streamed."""
        for ids in self.edge_batches(kind):
            yield from ids

    @_guarded
    def edge_batches(self, kind: EdgeKind | str) -> Iterator[list[str]]:
        """The ids of `edges`, one list per decoded run: counting needs no per-id step."""
        kind = EdgeKind(kind)
        base, key = _WRAPPERS[kind]
        decoder = _GRAPH_DECODERS[kind]
        extract = _graph_ids(key)
        for name in self._files.get(base, ()):
            with self._open_data(name) as fh:
                yield from iter_batches(fh, name, decoder, on_bytes=self.progress, extract=extract)

    def following(self) -> Iterator[str]:
        return self.edges(EdgeKind.FOLLOWING)

    def followers(self) -> Iterator[str]:
        return self.edges(EdgeKind.FOLLOWER)

    def blocks(self) -> Iterator[str]:
        return self.edges(EdgeKind.BLOCK)

    def mutes(self) -> Iterator[str]:
        return self.edges(EdgeKind.MUTE)

    # ------------------------------------------------------ lists and likes

    @_guarded
    def lists(self) -> Iterator[ListRef]:
        for kind in ListKind:
            for item in self._items(f"lists-{kind.value}", _LIST_DECODER):
                info = item.userListInfo
                if info is None:
                    continue
                if info.url:
                    yield ListRef(kind, info.url)
                for url in info.urls or ():
                    yield ListRef(kind, url)

    @_guarded
    def likes(self) -> Iterator[Like]:
        for item in self._items("like", _LIKE_DECODER):
            if item.like is not None and item.like.tweetId:
                yield Like(
                    post_id=item.like.tweetId,
                    text=unescape(item.like.fullText or ""),
                    url=item.like.expandedUrl or "",
                )

    # ---------------------------------------------------------------- posts

    def _tweet_files(self) -> list[tuple[str, bool]]:
        """(member name, is community) for every file of own posts."""
        return [(n, False) for n in self._files.get(self._tweet_base, ())] + [
            (n, True) for n in self._files.get("community-tweet", ())
        ]

    def _decoders_for(self, name: str) -> tuple[tuple[msgspec.json.Decoder, ...], bool]:
        """Wrapped ({"tweet": …}) or bare (2019) objects: sniff the first item.

        The decoders are, in order: full, light (threads), census (counting).
        """
        with self._open_data(name) as fh:
            head = fh.read(4096)
        eq = head.find(b"=")
        wrapped = bool(_BARE_SNIFF.match(head[eq + 1 :])) if eq >= 0 else True
        if wrapped:
            return (TWEET_DECODER, LIGHT_DECODER, CENSUS_DECODER), True
        return (BARE_TWEET_DECODER, BARE_LIGHT_DECODER, BARE_CENSUS_DECODER), False

    def _notes(self, stats: PostStats, light: bool = False) -> NoteIndex:
        """The long-post notes; `light` keeps only what counting needs (see `NoteIndex`)."""

        def again() -> Iterator[Note]:
            # Not `_items`: reading the notes a second time must not move
            # the progress count (`on_bytes`) a second time.
            for name in self._files.get("note-tweet", ()):
                with self._open_data(name) as fh:
                    for batch in iter_batches(fh, name, NOTE_DECODER):
                        for item in batch:
                            if item.noteTweet is not None:
                                yield item.noteTweet

        index = NoteIndex(light=light, reload=again)
        for item in self._items("note-tweet", NOTE_DECODER):
            stats.notes += 1
            if item.noteTweet is not None:
                index.add(item.noteTweet)
        return index

    def _tweets(self, which: int) -> Iterator[tuple[Any, bool]]:
        """(tweet, is community) of every entry; `which`: 0 full, 1 light, 2 census."""
        for name, community in self._tweet_files():
            decoders, wrapped = self._decoders_for(name)
            for batch in self._batches(name, decoders[which], owned=which == 2):
                for item in batch:
                    t = item.tweet if wrapped else item
                    if t is not None:
                        yield t, community

    def _contexts(self, stats: PostStats, light: bool = False) -> tuple[PostContext, PostContext]:
        """What building a post needs (own and community posts); reads the notes."""
        acct = self.account()
        names: Any = self._c.members
        base = self.data_dir
        tweet_dirs: tuple[str, ...] = (f"{base}tweets_media", f"{base}tweet_media")
        community_dirs = (f"{base}community_tweet_media", *tweet_dirs)
        if self._nested_media():
            names = _Either(names, self._nested_names())
            tweet_dirs = (*tweet_dirs, *self._nested_media())
            community_dirs = (*community_dirs, *self._nested_media())
        ctx = PostContext(acct.id, acct.username, names, tweet_dirs, self._notes(stats, light))
        return ctx, replace(ctx, media_dirs=community_dirs, community=True)

    def _finisher(
        self,
        stats: PostStats,
        ctx: PostContext,
        cctx: PostContext,
        thread_root: Callable[[str, bool], str | None] | None,
    ) -> Callable[[Tweet, bool, tuple[str, ...]], Post]:
        """Build a final post, noting merged notes and media files not found."""

        def finish(t: Tweet, community: bool, edit_ids: tuple[str, ...]) -> Post:
            post = build_post(t, cctx if community else ctx, edit_ids, thread_root)
            if post.is_long:
                stats.notes_merged += 1
            for m in post.media:
                if m.path is None:
                    self._media_wanted.update(
                        ("community_tweet_media",) if community else ("tweets_media", "tweet_media")
                    )
                    break
            return post

        return finish

    def _final_versions(
        self,
        entries: Iterator[tuple[Any, bool]],
        stats: PostStats,
        ctx: PostContext,
        final_of: dict[str, str] | None,
    ) -> Iterator[tuple[Any, bool, tuple[str, ...]]]:
        """(tweet, is community, edit ids) of each post's last version, edits collapsed.

        `final_of` (from a first pass) maps each edit version to the last one
        present; without it the last id of the edit group is taken. Once all
        is read, notes of no version at all are reported (a warning).
        """
        # edit group → latest superseded version: (id, tweet, is community, entry number)
        held: dict[str, tuple[int, Any, bool, int]] = {}
        # Superseded versions, whose notes are theirs, not orphans: (entry number,
        # created_at, text, id), not the whole entry: there can be many.
        earlier: list[tuple[int, str | None, str, str]] = []
        done_groups: set[str] = set()
        for seq, (t, community) in enumerate(entries):
            stats.tweet_entries += 1
            info = t.edit_info
            if info is None:
                yield t, community, ()
                continue
            initial = info.initial  # the usual place (inlined: this runs for every entry)
            ids = initial.editTweetIds if initial is not None else None
            if not ids:
                ids = info.ids()
            if len(ids) > 1:
                tid = t.tid()
                group = ids[0]
                final = final_of.get(tid) if final_of is not None else ids[-1]
                if final is None:
                    final = ids[-1]
                if tid != final:
                    stats.superseded += 1
                    notes = ctx.notes
                    if notes:
                        when = parse_x_time(t.created_at)
                        # Only a version created near a note can take it (`match` looks ±1 s).
                        if when is not None and notes.near(int(when.timestamp())):
                            earlier.append((seq, t.created_at, t.raw_text(), tid))
                    prev = held.get(group)
                    if group not in done_groups and (prev is None or int(tid) > prev[0]):
                        t = t.detached() if hasattr(t, "detached") else t  # kept past its batch
                        held[group] = (int(tid) if tid.isdigit() else 0, t, community, seq)
                    continue
                done_groups.add(group)
                held.pop(group, None)
                all_ids = sorted(set(ids) | {tid}, key=lambda x: int(x) if x.isdigit() else 0)
                yield t, community, tuple(all_ids)
            else:
                yield t, community, ()
        # Edit groups whose last version is missing: keep the latest present one.
        for group, (_, t, community, _seq) in held.items():
            if group in done_groups:
                continue
            if isinstance(t, bytes):
                t = CensusTweet.attached(t)
            stats.superseded -= 1
            ids = t.edit_info.ids() if t.edit_info else []
            yield t, community, tuple(sorted(set(ids), key=lambda x: int(x) if x.isdigit() else 0))
        if ctx.notes:
            # A version longer than 280 characters has its own note: taken here, so
            # that only notes of no version at all are reported.
            kept = {seq for group, (*_, seq) in held.items() if group not in done_groups}
            for seq, created_at, text, tid in earlier:
                if seq not in kept:
                    ctx.notes.match(parse_x_time(created_at), unescape(text), tid)
        if ctx.notes is not None:
            left = stats.notes_unmatched = ctx.notes.unmatched()
            if left:
                shown = ", ".join(stats.notes_unmatched[:5])
                more = f" and {len(left) - 5} more" if len(left) > 5 else ""
                message = (
                    f"{len(left)} long-post note(s) in note-tweet.js match no post "
                    f"(note ids {shown}{more}): their post is absent from the archive or "
                    "kept only its short text"
                )
                if message not in self._warnings:
                    self._warnings.append(message)

    @_guarded
    def posts(self, *, threads: bool = True, stats: PostStats | None = None) -> Iterator[Post]:
        """Own posts (retweets included, marked), edits collapsed to their last version.

        With `threads` (the default) a first, light pass over the tweet files
        links self-replies into threads: every post but a retweet gets
        `thread_root_id` (its own id when it starts a thread). `threads=False`
        reads the files once and leaves `thread_root_id` unset.
        """
        stats = stats if stats is not None else PostStats()
        ctx, cctx = self._contexts(stats)
        final_of: dict[str, str] = {}  # edit version id → id of the last present version
        parent: dict[int, int] = {}  # self-reply → parent id
        present: set[int] = set()
        if threads:
            group_max: dict[str, int] = {}
            versions: list[tuple[str, str]] = []
            for t, _community in self._tweets(1):
                tid = t.tid()
                if not tid.isdigit():
                    continue
                ids = t.edit_info.ids() if t.edit_info else []
                is_rt = (t.full_text or "").startswith("RT @")
                if len(ids) > 1:
                    g = ids[0]
                    group_max[g] = max(group_max.get(g, 0), int(tid))
                    versions.append((tid, g))
                if not is_rt:
                    present.add(int(tid))
                    if (
                        is_self_reply(
                            t.in_reply_to_status_id_str,
                            t.in_reply_to_user_id_str,
                            t.in_reply_to_screen_name,
                            ctx,
                        )
                        and (t.in_reply_to_status_id_str or "").isdigit()
                    ):
                        parent[int(tid)] = int(t.in_reply_to_status_id_str)
            for tid, g in versions:
                final_of[tid] = str(group_max[g])
            for _tid, g in versions:
                final_of.setdefault(g, str(group_max[g]))
        roots: dict[int, int] = {}

        def root_of(pid: int) -> int:
            chain: list[int] = []
            cur = pid
            while True:
                if cur in roots:
                    found = roots[cur]
                    break
                par = parent.get(cur)
                if par is None:
                    found = cur
                    break
                par = int(final_of.get(str(par), par))
                if par not in present or par == cur or par in chain or len(chain) > 100_000:
                    found = cur
                    break
                chain.append(cur)
                cur = par
            for c in chain:
                roots[c] = found
            roots[cur] = found
            return found

        def thread_root(tid: str, is_rt: bool) -> str | None:
            if is_rt or not tid.isdigit():
                return None
            return str(root_of(int(tid)))

        finish = self._finisher(stats, ctx, cctx, thread_root if threads else None)
        for t, community, edit_ids in self._final_versions(
            self._tweets(0), stats, ctx, final_of if threads else None
        ):
            yield finish(t, community, edit_ids)

    def count_posts(self, stats: PostStats | None = None) -> PostCensus:
        """What `summarize` counts of `posts(threads=False)`, without building every post.

        Same counts, names and warnings (see `archive.census`); fills `stats`.
        """
        stats = stats if stats is not None else PostStats()
        try:
            ctx, cctx = self._contexts(stats, light=True)
            finish = self._finisher(stats, ctx, cctx, None)
            versions = self._final_versions(self._tweets(2), stats, ctx, None)
            return count_posts(versions, ctx, cctx, finish, self._media_wanted)
        except BAD_CONTENT as exc:
            raise ArchiveError(f"{self.source.name}: unexpected content ({exc!r})") from exc

    def names(self) -> dict[str, SeenName]:
        """X id → the most recent name the owner's posts give it (see `archive.names`).

        One pass over the posts; an importer that reads the posts anyway
        feeds a `NameIndex` instead (`index.watch(archive.posts())`).
        """
        index = NameIndex(self.account().id)
        for _ in index.watch(self.posts(threads=False)):
            pass
        return index.names()


class _Either:
    """Membership in either of two collections (the zip's members, a nested zip's)."""

    def __init__(self, first: Any, second: set[str]):
        self._first, self._second = first, second

    def __contains__(self, name: object) -> bool:
        return name in self._second or name in self._first


def _keep(name: str) -> bool:
    """Members the reader lists by name (data files, nested zips, private files by name).

    Media files are not among them: they are only looked up (`container.Members`).
    """
    if name.endswith((".js", ".zip", ".csv")):
        return True
    base = name.rsplit("/", 1)[-1]
    # is_private(base) implies this: the usual media file is ruled out at once.
    return base.startswith(PRIVATE_PREFIXES) and is_private(base)


def open_archive(path: Path | str, *, prefetch: bool | None = None) -> XArchive:
    """Open an X archive (a `.zip` or its unzipped folder); raises `ArchiveError`.

    `prefetch` inflates big members in a second thread (see `container`); by
    default the module's `PREFETCH`, off.
    """
    container = open_container(path, keep=_keep)
    if prefetch is not None:
        container.prefetch = prefetch
    try:
        return XArchive(container)
    except BAD_CONTENT as exc:
        container.close()
        raise ArchiveError(f"{Path(path).name} cannot be read: {exc}") from exc
    except BaseException:  # ArchiveError, or a bug: close, and let it surface
        container.close()
        raise
