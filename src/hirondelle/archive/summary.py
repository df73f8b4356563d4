"""Count what an archive holds, in one streaming pass (`hirondelle archive inspect`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

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
        for post in archive.posts(threads=False, stats=stats):
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
            "following": _count(archive.edges(EdgeKind.FOLLOWING)),
            "followers": _count(archive.edges(EdgeKind.FOLLOWER)),
            "blocks": _count(archive.edges(EdgeKind.BLOCK)),
            "mutes": _count(archive.edges(EdgeKind.MUTE)),
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
            "first_post_at": _iso(first),
            "last_post_at": _iso(last),
            "era": archive.era,
            "counts": counts,
            "private_files_not_read": archive.private_files(),
            "missing": [m.as_dict() for m in missing],
            "warnings": list(archive.warnings),
        }
    finally:
        archive.progress = previous
