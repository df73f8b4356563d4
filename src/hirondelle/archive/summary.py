"""Count what an archive holds, in one streaming pass (`hirondelle archive inspect`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hirondelle.archive.names import NameIndex
from hirondelle.archive.records import EdgeKind, ListKind

if TYPE_CHECKING:
    from hirondelle.archive.reader import XArchive

__all__ = ["summarize"]


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _count(iterable) -> int:
    n = 0
    for _ in iterable:
        n += 1
    return n


def _count_named(ids, named: dict) -> tuple[int, int]:
    """(ids, ids the posts name) of one graph relation."""
    total = hits = 0
    for x_id in ids:
        total += 1
        hits += x_id in named
    return total, hits


def summarize(archive: XArchive, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """The summary object of `inspect --json`.

    `progress` is called with counts of uncompressed bytes as data files are
    read; their total is `archive.data_size()`. Threads are not linked (one
    pass over the posts is enough to count).
    """
    from hirondelle.archive.reader import PostStats

    previous = archive.progress
    archive.progress = progress
    try:
        account = archive.account()
        stats = PostStats()
        posts = retweets = replies_to_others = thread_replies = long_posts = 0
        community = media_items = 0
        first = last = None
        index = NameIndex(account.id)
        for post in index.watch(archive.posts(threads=False, stats=stats)):
            if post.is_retweet:
                retweets += 1
                continue
            posts += 1
            if post.is_self_reply:
                thread_replies += 1
            elif post.reply_to_post_id is not None:
                replies_to_others += 1
            long_posts += post.is_long
            community += post.is_community
            media_items += len(post.media)
            if first is None or post.created_at < first:
                first = post.created_at
            if last is None or post.created_at > last:
                last = post.created_at
        named_ids = index.names()
        graph = {
            key: _count_named(archive.edges(kind), named_ids)
            for key, kind in (
                ("following", EdgeKind.FOLLOWING),
                ("followers", EdgeKind.FOLLOWER),
                ("blocks", EdgeKind.BLOCK),
                ("mutes", EdgeKind.MUTE),
            )
        }
        lists = {kind: 0 for kind in ListKind}
        for ref in archive.lists():
            lists[ref.kind] += 1
        counts = {
            "tweet_entries": stats.tweet_entries,
            "posts": posts,
            "retweets": retweets,
            "replies_to_others": replies_to_others,
            "thread_replies": thread_replies,
            "long_posts": long_posts,
            "community_posts": community,
            "media_items": media_items,
            "following": graph["following"][0],
            "followers": graph["followers"][0],
            "blocks": graph["blocks"][0],
            "mutes": graph["mutes"][0],
            "likes": _count(archive.likes()),
            "lists_created": lists[ListKind.CREATED],
            "lists_member": lists[ListKind.MEMBER],
            "lists_subscribed": lists[ListKind.SUBSCRIBED],
            "edit_versions_dropped": stats.superseded,
        }
        return {
            "account": {
                "id": account.id,
                "username": account.username,
                "display_name": account.display_name,
            },
            "generated_at": _iso(archive.generated_at),
            "first_post_at": _iso(first),
            "last_post_at": _iso(last),
            "era": archive.era,
            "counts": counts,
            # Accounts of each relation that the posts name (a username, often a
            # display name): what discovery can search for.
            "named": {key: hits for key, (_, hits) in graph.items()},
            "accounts_named": len(named_ids),
            "private_files_not_read": archive.private_files(),
            "warnings": list(archive.warnings),
        }
    finally:
        archive.progress = previous
