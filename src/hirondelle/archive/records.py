"""The typed records an X archive yields.

Plain frozen dataclasses: cheap to build by the million, easy to compare in
tests, and free of any storage concern. Every id is a decimal string (X ids do
not fit in a float, and old archives carry corrupted float ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "Account",
    "Edge",
    "EdgeKind",
    "Like",
    "ListKind",
    "ListRef",
    "Media",
    "MediaKind",
    "Mention",
    "Post",
    "Profile",
]


class EdgeKind(StrEnum):
    """A relation between the archive's owner and another X account."""

    FOLLOWING = "following"  # the owner follows them
    FOLLOWER = "follower"  # they follow the owner
    BLOCK = "block"
    MUTE = "mute"


@dataclass(frozen=True, slots=True)
class Edge:
    kind: EdgeKind
    account_id: str


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    username: str
    display_name: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    bio: str = ""
    website: str = ""  # as written in the archive: often a t.co link
    location: str = ""
    avatar_url: str = ""
    header_url: str = ""
    avatar_path: str | None = None  # member name inside the archive, if present
    header_path: str | None = None


class MediaKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    GIF = "animated_gif"


@dataclass(frozen=True, slots=True)
class Media:
    kind: MediaKind
    url: str  # media_url_https, or the best mp4 variant for video/GIF
    path: str | None  # member name of the file inside the archive; None if absent
    source_post_id: str | None = None  # set when the media belongs to someone else's post


@dataclass(frozen=True, slots=True)
class Mention:
    """An account a post names. `name` is its display name at that moment, if known.

    `name` is left out of comparisons: it is incidental (what the account
    called itself that day), not part of what the post says.
    """

    screen_name: str
    user_id: str | None = None
    name: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Post:
    """One of the owner's own posts, as the person last left it.

    `text` is final: t.co links replaced by their expanded URL, the trailing
    media link removed, HTML entities unescaped, and for long posts the full
    note text. Edits are collapsed to their last version (`id` is that
    version's id; `edit_ids` lists all of them, oldest first).
    """

    id: str
    created_at: datetime
    text: str
    lang: str = ""
    source: str = ""
    is_retweet: bool = False
    retweeted_screen_name: str | None = None
    reply_to_post_id: str | None = None
    reply_to_user_id: str | None = None
    reply_to_screen_name: str | None = None
    is_self_reply: bool = False  # replies to one of the owner's own posts
    thread_root_id: str | None = None  # first post of the thread this one belongs to
    quoted_post_id: str | None = None
    quoted_screen_name: str | None = None
    urls: tuple[str, ...] = ()  # expanded URLs, in text order
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    possibly_sensitive: bool = False
    is_long: bool = False  # full text merged from note-tweet.js
    is_community: bool = False  # from community-tweet.js
    edit_ids: tuple[str, ...] = field(default=())

    @property
    def is_reply_to_others(self) -> bool:
        return self.reply_to_post_id is not None and not self.is_self_reply


class ListKind(StrEnum):
    CREATED = "created"
    MEMBER = "member"
    SUBSCRIBED = "subscribed"


@dataclass(frozen=True, slots=True)
class ListRef:
    kind: ListKind
    url: str


@dataclass(frozen=True, slots=True)
class Like:
    post_id: str
    text: str = ""
    url: str = ""
