"""How each network counts a post's length."""

from __future__ import annotations

import pytest

from hirondelle.compose import (
    BLUESKY,
    MASTODON,
    ComposeError,
    byte_length,
    fits,
    grapheme_length,
    limits_for,
    mastodon_limits,
    weighted_length,
)
from hirondelle.networks.base import Network


@pytest.mark.parametrize(
    ("text", "graphemes", "code_points"),
    [
        ("👍🏽", 1, 2),
        ("👨‍👩‍👧‍👦", 1, 7),
        ("🇫🇷🇺🇦", 2, 4),
        ("e\u0301", 1, 2),
        ("שלום", 4, 4),
        ("\r\n", 1, 2),
        ("abc", 3, 3),
    ],
)
def test_graphemes_not_code_points(text: str, graphemes: int, code_points: int) -> None:
    assert len(text) == code_points
    assert grapheme_length(text) == graphemes


def test_bluesky_counts_graphemes_and_bytes() -> None:
    assert fits("é" * 300, BLUESKY)
    assert not fits("é" * 301, BLUESKY)
    family = "👨‍👩‍👧‍👦"
    assert byte_length(family) == 25
    assert fits(family * 120, BLUESKY)  # 120 graphemes, 3,000 bytes
    assert not fits(family * 121, BLUESKY)  # 121 graphemes but 3,025 bytes


def test_mastodon_counts_every_link_as_23() -> None:
    long_link = "https://example.com/" + "a" * 200
    assert weighted_length(long_link, MASTODON) == 23
    assert weighted_length("https://x.co", MASTODON) == 23
    assert weighted_length(f"voir {long_link}.", MASTODON) == 5 + 23 + 1
    assert fits(" ".join([long_link] * 20), MASTODON)
    # Not a link for Mastodon either when glued to a word: counted as written.
    assert weighted_length("abc" + long_link, MASTODON) == 3 + len(long_link)


def test_mastodon_counts_only_the_user_part_of_a_mention() -> None:
    assert weighted_length("@alice@mastodon.social", MASTODON) == len("@alice")
    assert weighted_length("@alice", MASTODON) == len("@alice")
    assert weighted_length("moi@example.com", MASTODON) == len("moi@example.com")


def test_limits_for_networks() -> None:
    assert limits_for("bluesky") is BLUESKY
    assert limits_for(Network.MASTODON) is MASTODON
    with pytest.raises(ComposeError, match="unknown network 'threads'"):
        limits_for("threads")


def test_mastodon_limits_from_the_instance_document() -> None:
    instance = {
        "configuration": {
            "statuses": {
                "max_characters": 5000,
                "max_media_attachments": 6,
                "characters_reserved_per_url": 25,
            },
            "media_attachments": {"image_size_limit": 10_485_760, "video_size_limit": 41_943_040},
        }
    }
    limits = mastodon_limits(instance)
    assert (limits.max_graphemes, limits.max_images, limits.url_weight) == (5000, 6, 25)
    assert (limits.max_image_bytes, limits.max_video_bytes) == (10_485_760, 41_943_040)
    assert limits.network is Network.MASTODON
    # Older servers and forks: partial documents keep Mastodon's defaults.
    assert mastodon_limits({"max_toot_chars": 1000}).max_graphemes == 1000
    assert mastodon_limits({}) == MASTODON


@pytest.mark.parametrize(
    "instance",
    [
        {"configuration": {"statuses": {"max_characters": "500"}}},
        {"configuration": {"statuses": {"max_characters": 0}}},
        {"configuration": {"statuses": {"characters_reserved_per_url": True}}},
        ["not", "an", "object"],
    ],
)
def test_bad_instance_documents_are_refused(instance) -> None:
    with pytest.raises(ComposeError, match="instance document"):
        mastodon_limits(instance)


def test_the_one_grapheme_per_code_point_shortcut_is_exact() -> None:
    """Text the shortcut accepts never joins characters: check every pair."""
    from hirondelle.compose._patterns import GRAPHEME, one_code_point_per_grapheme

    simple = [
        chr(c)
        for c in range(0x110000)
        if not 0xD800 <= c < 0xE000 and one_code_point_per_grapheme(chr(c))
    ]
    assert len(simple) > 800  # Latin scripts and common punctuation
    assert not one_code_point_per_grapheme("e\u0301")
    assert not one_code_point_per_grapheme("👍")
    assert not one_code_point_per_grapheme("\r\n")
    for left in simple:
        joined = left.join(simple)
        assert len(GRAPHEME.findall(joined)) == len(joined), repr(left)
