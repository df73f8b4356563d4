"""Count own posts without building them (`hirondelle archive inspect`).

`XArchive.posts()` builds every `Post` (links expanded, mentions, media
files found, notes merged): the import needs all of it, a count does not.
Here each tweet entry is decoded into a `CensusTweet` (the counted fields;
entities left as raw JSON) and counted directly. A post whose count depends
on more goes through the very code the import uses: one that may have a
long-post note (a note created within a second of it) is built with
`build_post`, and media are resolved with `media_of`. Edits are collapsed by
the same loop as `posts()`. So the counts are those of the full reader, by
construction; `tests/archive/test_census.py` checks it on every generated
era and edge case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hirondelle.archive.names import NameIndex, is_named
from hirondelle.archive.records import Post
from hirondelle.archive.tweets import (
    _EMPTY,
    _EMPTY_OBJECT,
    _RT,
    NEAR_MASK,
    CensusTweet,
    PostContext,
    Tweet,
    is_self_reply,
    media_of,
    parse_x_time,
)

__all__ = ["PostCensus", "count_posts"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The media folders a post's missing file counts against (as `XArchive.posts` does).
_MEDIA = ("tweets_media", "tweet_media")
_COMMUNITY_MEDIA = ("community_tweet_media",)  # what `build_post` gives a post without a date


@dataclass
class PostCensus:
    """What `summarize` reports about own posts (retweets are counted apart)."""

    posts: int = 0
    retweets: int = 0
    replies_to_others: int = 0
    thread_replies: int = 0
    long_posts: int = 0
    community: int = 0
    media_items: int = 0
    first: datetime | None = None
    last: datetime | None = None
    #: X ids the posts name (the keys of `NameIndex.names()`).
    named: set[str] = field(default_factory=set)

    def add(self, post: Post) -> None:
        """Count one built post, exactly as `summarize` counts `posts()`."""
        if post.is_retweet:
            self.retweets += 1
            return
        self.posts += 1
        if post.is_self_reply:
            self.thread_replies += 1
        elif post.reply_to_post_id is not None:
            self.replies_to_others += 1
        self.long_posts += post.is_long
        self.community += post.is_community
        self.media_items += len(post.media)
        self._date(post.created_at)

    def _date(self, when: datetime) -> None:
        if self.first is None or when < self.first:
            self.first = when
        if self.last is None or when > self.last:
            self.last = when


def count_posts(
    versions: Iterable[tuple[CensusTweet, bool, tuple[str, ...]]],
    ctx: PostContext,
    cctx: PostContext,
    finish: Callable[[Tweet, bool, tuple[str, ...]], Post],
    media_wanted: set[str],
) -> PostCensus:
    """Count the final versions of own posts (`(tweet, is community, edit ids)`).

    `finish` is the reader's own way to build a post (it also records notes
    and missing media); `media_wanted` is the reader's set of media folders
    that posts refer to without the file.
    """
    census = PostCensus()
    built = NameIndex(ctx.own_id)  # names of the posts built in full
    named = census.named
    own = ctx.own_id
    # A post created within a second of a note may be a long post
    # (`NoteIndex.match` looks ±1 s).
    near = ctx.notes.near if ctx.notes else None
    # A clear bit (second mod 2**20) rules that out at once; a set one asks `near`.
    bits = ctx.notes.near_bits() if ctx.notes else b""
    rt_match = _RT.match
    first = last = None
    posts = retweets = thread_replies = replies_to_others = community_posts = media_items = 0
    for t, community, edit_ids in versions:
        raw = t.full_text
        if raw is None:
            raw = t.text or ""
        is_rt = raw[:4] == "RT @" and rt_match(raw) is not None
        created = parse_x_time(t.created_at)
        if (
            near is not None
            and not is_rt
            and created is not None
            and bits[((second := int(created.timestamp())) & NEAR_MASK) >> 3] >> (second & 7) & 1
            and near(second)
        ):
            # It may be a long post: build it the import's way.
            post = finish(t.full(), community, edit_ids)
            built.add(post)
            census.add(post)
            continue
        e = t.entities
        ext = t.extended_entities
        media = None
        if (ext is not None and (len(ext) > 4 or ext not in _EMPTY_OBJECT)) or (
            e is not None and e.media is not None and (len(e.media) > 4 or e.media not in _EMPTY)
        ):
            media = t.media()
            folders = _COMMUNITY_MEDIA if community else _MEDIA
            if media and not media_wanted.issuperset(folders):  # else: known to be missing
                found = media_of(media, t.id_str or t.tid(), edit_ids, cctx if community else ctx)
                if any(m.path is None for m in found):
                    media_wanted.update(folders)
        if e is not None and e.user_mentions is not None:
            um = e.user_mentions
            if len(um) > 4 or um not in _EMPTY:
                for x in t.mentions():
                    name, uid = x.screen_name, x.id_str
                    if (
                        uid
                        and uid not in named
                        and uid != own
                        and name
                        and is_named(uid, name, own)
                    ):
                        named.add(uid)
        reply_user, reply_name = t.in_reply_to_user_id_str, t.in_reply_to_screen_name
        if (
            reply_user
            and reply_user not in named
            and reply_user != own
            and reply_name
            and is_named(reply_user, reply_name, own)
        ):
            named.add(reply_user)
        if is_rt:
            retweets += 1
            continue
        posts += 1
        reply_to = t.in_reply_to_status_id_str
        if reply_to:
            if is_self_reply(reply_to, reply_user, reply_name, ctx):
                thread_replies += 1
            else:
                replies_to_others += 1
        community_posts += community
        if media:
            media_items += len(media)
        when = created or _EPOCH
        if first is None or when < first:
            first = when
        if last is None or when > last:
            last = when
    census.posts += posts
    census.retweets += retweets
    census.thread_replies += thread_replies
    census.replies_to_others += replies_to_others
    census.community += community_posts
    census.media_items += media_items
    for bound in (first, last):
        if bound is not None:
            census._date(bound)
    named.update(built.names())
    return census
