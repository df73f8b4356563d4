"""How long a post may be on each network, and how each network counts.

Bluesky counts grapheme clusters (300) and UTF-8 bytes (3,000). Mastodon
counts grapheme clusters too (500 by default), but every link counts as 23
characters whatever its length, and a mention ``@user@host`` counts only its
``@user`` part. A Mastodon-API server publishes its own numbers in its
instance document: `mastodon_limits` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hirondelle.compose._patterns import (
    GRAPHEME,
    MASTODON_MENTION,
    URL,
    one_code_point_per_grapheme,
    trim_url,
)
from hirondelle.compose.errors import ComposeError
from hirondelle.networks.base import Network

__all__ = [
    "BLUESKY",
    "MASTODON",
    "Limits",
    "byte_length",
    "fits",
    "grapheme_length",
    "limits_for",
    "mastodon_limits",
    "weighted_length",
]


@dataclass(frozen=True, slots=True)
class Limits:
    """One network's limits for a post. Every number may be a server's own."""

    network: Network
    max_graphemes: int
    max_bytes: int | None = None  # Bluesky: 3,000 UTF-8 bytes
    url_weight: int | None = None  # Mastodon: every link counts this many characters
    mention_local_only: bool = False  # Mastodon: "@user@host" counts as "@user"
    max_images: int = 4
    max_videos: int = 1
    max_image_bytes: int = 2_000_000
    max_video_bytes: int = 100_000_000

    def __post_init__(self) -> None:
        if self.max_graphemes < 1:
            raise ComposeError(
                f"a post limit must be at least 1 character, not {self.max_graphemes}"
            )
        if self.max_bytes is not None and self.max_bytes < 4:
            raise ComposeError(f"a byte limit must be at least 4 bytes, not {self.max_bytes}")


BLUESKY = Limits(
    network=Network.BLUESKY,
    max_graphemes=300,
    max_bytes=3000,
    max_image_bytes=2_000_000,
    max_video_bytes=100_000_000,
)

MASTODON = Limits(
    network=Network.MASTODON,
    max_graphemes=500,
    url_weight=23,
    mention_local_only=True,
    max_image_bytes=16 * 1024 * 1024,
    max_video_bytes=99 * 1024 * 1024,
)


def limits_for(network: Network | str) -> Limits:
    """The default limits of a network (Mastodon's are a server's defaults)."""
    try:
        network = Network(network)
    except ValueError:
        raise ComposeError(
            f"unknown network {network!r}: choose one of {', '.join(n.value for n in Network)}"
        ) from None
    return BLUESKY if network is Network.BLUESKY else MASTODON


def _positive(section: Mapping[str, Any], key: str, default: int) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ComposeError(
            f"the server's instance document gives {key}={value!r}; expected a positive "
            "integer (is this a Mastodon-API server? read it from /api/v2/instance)"
        )
    return value


def mastodon_limits(instance: Mapping[str, Any]) -> Limits:
    """Limits read from a server's `/api/v2/instance` (or v1) document.

    Missing values keep Mastodon's defaults: many fediverse servers publish only
    part of the `configuration` section.
    """
    if not isinstance(instance, Mapping):
        raise ComposeError("the instance document must be a JSON object (from /api/v2/instance)")
    configuration = instance.get("configuration") or {}
    statuses = configuration.get("statuses") or {}
    media = configuration.get("media_attachments") or {}
    # Mastodon 3.x and some forks put the text limit at the top level.
    max_chars = statuses.get("max_characters", instance.get("max_toot_chars", 500))
    return replace(
        MASTODON,
        max_graphemes=_positive({"max_characters": max_chars}, "max_characters", 500),
        url_weight=_positive(statuses, "characters_reserved_per_url", 23),
        max_images=_positive(statuses, "max_media_attachments", 4),
        max_image_bytes=_positive(media, "image_size_limit", MASTODON.max_image_bytes),
        max_video_bytes=_positive(media, "video_size_limit", MASTODON.max_video_bytes),
    )


def grapheme_length(text: str) -> int:
    """Grapheme clusters in `text`: emoji families and flags count one each."""
    if one_code_point_per_grapheme(text):
        return len(text)
    if text.isascii():
        return len(text) - text.count("\r\n")
    return len(GRAPHEME.findall(text))


def byte_length(text: str) -> int:
    return len(text.encode("utf-8"))


def _link_placeholder(url_weight: int) -> Any:
    placeholder = "x" * url_weight

    def link(match: Any) -> str:
        url = trim_url(match.group(0))
        return placeholder + match.group(0)[len(url) :]

    return link


def weighted_length(text: str, limits: Limits) -> int:
    """The length the network compares with `limits.max_graphemes`.

    Mirrors Mastodon's validator: links become `url_weight` placeholder
    characters, and mentions keep only their ``@user`` part.
    """
    if limits.url_weight is not None:
        text = URL.sub(_link_placeholder(limits.url_weight), text)
    if limits.mention_local_only:
        text = MASTODON_MENTION.sub(lambda m: "@" + m.group(2), text)
    return grapheme_length(text)


def fits(text: str, limits: Limits) -> bool:
    """Whether the network accepts `text` as one post."""
    if limits.max_bytes is not None and byte_length(text) > limits.max_bytes:
        return False
    return weighted_length(text, limits) <= limits.max_graphemes
