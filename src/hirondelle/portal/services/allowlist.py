"""The archive members a migration needs: the only files an upload may carry.

No Django here, so the benchmark and any client can share the exact rule the
server applies. Everything else in an archive (direct messages, IP logs,
contacts, ads data, the viewer's assets…) is refused.
"""

from __future__ import annotations

import re

__all__ = ["is_allowed"]

_PART = r"(?:-part[0-9]{1,3})?\.js"
_GRAPH = re.compile(
    r"(?:data/)?(?:account|profile|manifest|"
    r"(?:follower|following|block|mute|lists-created|lists-member|lists-subscribed)"
    r"(?:-part[0-9]{1,3})?)\.js"
)
_POSTS = re.compile(r"(?:data/)?(?:tweets|tweet|note-tweet|community-tweet)" + _PART)
_MEDIA = re.compile(
    r"data/(?:tweets_media|tweet_media|community_tweet_media|profile_media)/"
    r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}"
)


def is_allowed(name: str, *, republish: bool) -> bool:
    """Whether the importer reads this archive member (posts only when republishing)."""
    if ".." in name or name.startswith("/") or "\\" in name:
        return False
    if _GRAPH.fullmatch(name):
        return True
    return republish and bool(_POSTS.fullmatch(name) or _MEDIA.fullmatch(name))
