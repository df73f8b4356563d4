"""Names the archive gives to X ids: the most recent username and display name of each.

The graph files list bare X ids. The person's own posts name many of those
accounts: mentions (`entities.user_mentions`: id, username, the display name
of that moment), replies (`in_reply_to_user_id_str` with
`in_reply_to_screen_name`), long posts (note mentions) and community posts.
Quotes and retweets name a username with no id: they only confirm a name
already tied to an id elsewhere (a username can change hands; it is never
trusted alone).

Streaming: `NameIndex.watch(posts)` feeds on the posts as another consumer
reads them (the importer), so naming costs no extra pass over the archive.
Memory grows with the number of distinct accounts named, not with posts.

What an archive says about other people is only the uploader's word: these
names serve that person's migration and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hirondelle.archive.records import Post

__all__ = ["NameIndex", "NameSource", "SeenName", "is_named"]


class NameSource(StrEnum):
    """Where a name was read."""

    MENTION = "mention"  # entities.user_mentions of a post
    REPLY = "reply"  # in_reply_to_user_id_str + in_reply_to_screen_name
    NOTE = "note"  # a mention in a long post (note-tweet.js)
    COMMUNITY = "community"  # a mention in a community post
    QUOTE = "quote"  # a quoted post's URL (username only)
    RETWEET = "retweet"  # "RT @username:" (username only)


@dataclass(frozen=True, slots=True)
class SeenName:
    """The archive's latest word on one X id.

    `username`, `seen_at`, `post_id` and `source` come from the most recent
    post naming the id; `display_name` is the most recent one shown (replies
    carry none), `display_name_seen_at` when it was.
    """

    x_id: str
    username: str
    seen_at: datetime
    post_id: str
    source: NameSource
    display_name: str = ""
    display_name_seen_at: datetime | None = None


# Per id, mutable while reading: [seen_at, post_id, source, username, display, display_at]
_State = list


class NameIndex:
    """Collects names from posts; `names()` gives the result.

    `own_id` (the archive owner's X id) is never named: a person's own
    username comes from account.js.
    """

    def __init__(self, own_id: str = "") -> None:
        self.own_id = own_id
        self._by_id: dict[str, _State] = {}
        # username (lower case) → latest (seen_at, post_id, source, username as written)
        self._loose: dict[str, tuple[datetime, str, NameSource, str]] = {}
        self.posts = 0

    # ------------------------------------------------------------------ feeding

    def watch(self, posts: Iterable[Post]) -> Iterator[Post]:
        """Yield `posts` unchanged, learning names from each on the way."""
        for post in posts:
            self.add(post)
            yield post

    def add(self, post: Post) -> None:
        self.posts += 1
        when, pid = post.created_at, post.id
        if post.is_community:
            mention_source = NameSource.COMMUNITY
        elif post.is_long:
            mention_source = NameSource.NOTE
        else:
            mention_source = NameSource.MENTION
        for m in post.mentions:
            if m.user_id:
                self._seen(m.user_id, m.screen_name, m.name, when, pid, mention_source)
            elif m.screen_name:
                self._loose_seen(m.screen_name, when, pid, mention_source)
        if post.reply_to_screen_name:
            if post.reply_to_user_id:
                self._seen(
                    post.reply_to_user_id,
                    post.reply_to_screen_name,
                    "",
                    when,
                    pid,
                    NameSource.REPLY,
                )
            else:
                self._loose_seen(post.reply_to_screen_name, when, pid, NameSource.REPLY)
        if post.quoted_screen_name:
            self._loose_seen(post.quoted_screen_name, when, pid, NameSource.QUOTE)
        if post.retweeted_screen_name:
            self._loose_seen(post.retweeted_screen_name, when, pid, NameSource.RETWEET)

    def _seen(
        self,
        x_id: str,
        username: str,
        display: str,
        when: datetime,
        pid: str,
        source: NameSource,
    ) -> None:
        if not is_named(x_id, username, self.own_id):
            return
        display = display.strip()
        state = self._by_id.get(x_id)
        if state is None:
            self._by_id[x_id] = [when, pid, source, username, display, when if display else None]
            return
        if (when, pid) > (state[0], state[1]):
            state[0], state[1], state[2], state[3] = when, pid, source, username
        if display and (state[5] is None or when >= state[5]):
            state[4], state[5] = display, when

    def _loose_seen(self, username: str, when: datetime, pid: str, source: NameSource) -> None:
        if not _is_username(username):
            return
        key = username.lower()
        held = self._loose.get(key)
        if held is None or (when, pid) > (held[0], held[1]):
            self._loose[key] = (when, pid, source, username)

    # ------------------------------------------------------------------ result

    def names(self) -> dict[str, SeenName]:
        """X id → its latest name. Username-only sightings (quotes, retweets,
        replies and note mentions without an id) move an id's "last seen"
        forward only when exactly one id last went by that username."""
        holders: dict[str, list[str]] = {}
        for x_id, state in self._by_id.items():
            holders.setdefault(state[3].lower(), []).append(x_id)
        out: dict[str, SeenName] = {}
        for x_id, (when, pid, source, username, display, display_at) in self._by_id.items():
            loose = self._loose.get(username.lower())
            if loose is not None and len(holders[username.lower()]) == 1 and loose[0] > when:
                when, pid, source, username = loose
            out[x_id] = SeenName(x_id, username, when, pid, source, display, display_at)
        return out

    def __len__(self) -> int:
        return len(self._by_id)


def is_named(x_id: str, username: str, own_id: str) -> bool:
    """Whether a sighting (id, username) names an account: the rule of `NameIndex`."""
    return x_id.isdigit() and x_id != own_id and _is_username(username)


def _is_username(value: str) -> bool:
    """X usernames: 1–15 characters of [A-Za-z0-9_] (older accounts: up to 20)."""
    return 0 < len(value) <= 20 and value.isascii() and value.replace("_", "a").isalnum()
