"""Count what an archive holds, in one streaming pass (`hirondelle archive inspect`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hirondelle.archive.census import PostCensus
from hirondelle.archive.names import NameIndex
from hirondelle.archive.records import EdgeKind, ListKind

if TYPE_CHECKING:
    from hirondelle.archive.reader import PostStats, XArchive

__all__ = ["summarize"]


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _count(iterable) -> int:
    n = 0
    for _ in iterable:
        n += 1
    return n


def _count_named(batches, named: set[str]) -> tuple[int, int]:
    """(ids, ids the posts name) of one graph relation, a decoded batch at a time."""
    total = hits = 0
    for batch in batches:
        total += len(batch)
        if named:
            hits += sum(map(named.__contains__, batch))
    return total, hits


def _census_of_posts(archive: XArchive, stats: PostStats) -> PostCensus:
    """The reference count: every post built as the import builds it."""
    census = PostCensus()
    index = NameIndex(archive.account().id)
    for post in index.watch(archive.posts(threads=False, stats=stats)):
        census.add(post)
    census.named = set(index.names())
    return census


def summarize(
    archive: XArchive, progress: Callable[[int], None] | None = None, *, fast: bool = True
) -> dict[str, Any]:
    """The summary object of `inspect --json`.

    `progress` is called with counts of uncompressed bytes as data files are
    read; their total is `archive.data_size()`. Threads are not linked (one
    pass over the posts is enough to count). `fast` counts posts without
    building them (`XArchive.count_posts`); `fast=False` builds every post as
    the import does: the same result, the reference the tests compare with.
    """
    from hirondelle.archive.reader import PostStats

    previous = archive.progress
    archive.progress = progress
    try:
        account = archive.account()
        stats = PostStats()
        census = archive.count_posts(stats) if fast else _census_of_posts(archive, stats)
        named_ids = census.named
        graph = {
            key: _count_named(archive.edge_batches(kind), named_ids)
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
            "posts": census.posts,
            "retweets": census.retweets,
            "replies_to_others": census.replies_to_others,
            "thread_replies": census.thread_replies,
            "long_posts": census.long_posts,
            "community_posts": census.community,
            "media_items": census.media_items,
            "following": graph["following"][0],
            "followers": graph["followers"][0],
            "blocks": graph["blocks"][0],
            "mutes": graph["mutes"][0],
            "likes": _count(archive.likes()),
            "lists_created": lists[ListKind.CREATED],
            "lists_member": lists[ListKind.MEMBER],
            "lists_subscribed": lists[ListKind.SUBSCRIBED],
            "edit_versions_dropped": stats.superseded,
            "notes": stats.notes,
            "notes_unmatched": len(stats.notes_unmatched),
        }
        missing = archive.missing()  # after the posts: media folders are judged from them
        return {
            "account": {
                "id": account.id,
                "username": account.username,
                "display_name": account.display_name,
            },
            "generated_at": _iso(archive.generated_at),
            "first_post_at": _iso(census.first),
            "last_post_at": _iso(census.last),
            "era": archive.era,
            "counts": counts,
            # Accounts of each relation that the posts name (a username, often a
            # display name): what discovery can search for.
            "named": {key: hits for key, (_, hits) in graph.items()},
            "accounts_named": len(named_ids),
            "private_files_not_read": archive.private_files(),
            "missing": [m.as_dict() for m in missing],
            "warnings": list(archive.warnings),
        }
    finally:
        archive.progress = previous
