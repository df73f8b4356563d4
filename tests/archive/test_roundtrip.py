"""Generated archives of every era and layout read back exactly."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from hirondelle.archive import EdgeKind, open_archive, summarize
from tests.archive.conftest import assert_no_private_opened
from tests.support.x_archive import (
    PRIVATE_FILES,
    expected_likes,
    expected_lists,
    expected_posts,
    sample_spec,
    write_archive,
)

LAYOUTS = [
    # era, zipped, wrap_folder, macosx, parts
    ("2024", True, False, False, None),
    ("2024", True, True, True, {"tweets": 3, "follower": 2, "following": 2, "like": 2}),
    ("2024", False, False, False, {"tweets": 2, "block": 2, "mute": 2}),
    ("2024", False, True, True, None),
    ("2021", True, False, False, {"tweet": 3, "follower": 3}),
    ("2021", False, True, True, {"tweet": 2, "note-tweet": 2, "community-tweet": 2}),
    ("2019", True, False, False, None),
    ("2019", True, True, True, {"tweet": 2, "following": 2}),
    ("2019", False, False, False, {"tweet": 3}),
]


@pytest.mark.parametrize(("era", "zipped", "wrap", "macosx", "parts"), LAYOUTS)
def test_archive_reads_back_exactly(tmp_path, opened, era, zipped, wrap, macosx, parts) -> None:
    spec = sample_spec(3, n_posts=160, n_following=40, n_followers=55, n_likes=12)
    path = write_archive(
        tmp_path, spec, era=era, zipped=zipped, wrap_folder=wrap, macosx=macosx, parts=parts
    )
    with open_archive(path) as archive:
        assert archive.account() == spec.account
        profile = archive.profile()
        assert profile.bio == spec.profile.bio
        assert profile.website == spec.profile.website
        assert profile.avatar_url == spec.profile.avatar_url
        if era != "2019":
            assert profile.avatar_path == (f"data/profile_media/{spec.account.id}-avatar3.jpg")
            with archive.open_member(profile.avatar_path) as fh:
                assert fh.read().startswith(b"\x89PNG")
        posts = sorted(archive.posts(), key=lambda p: int(p.id))
        assert posts == expected_posts(spec, era)
        # Parts are written in shuffled order (as on X): compare as multisets.
        assert sorted(archive.following()) == sorted(spec.following)
        assert sorted(archive.followers()) == sorted(spec.followers)
        assert sorted(archive.edges(EdgeKind.BLOCK)) == sorted(spec.blocks)
        assert sorted(archive.mutes()) == sorted(spec.mutes)
        key = lambda like: like.post_id  # noqa: E731
        assert sorted(archive.likes(), key=key) == sorted(expected_likes(spec), key=key)
        assert sorted(archive.lists(), key=lambda r: (r.kind, r.url)) == sorted(
            expected_lists(spec), key=lambda r: (r.kind, r.url)
        )
        private = archive.private_files()
        assert {p.rsplit("/", 1)[-1] for p in private} >= set(PRIVATE_FILES)
        if era == "2019":
            assert archive.generated_at == datetime(2024, 5, 1, tzinfo=UTC)
        else:
            assert archive.generated_at == spec.generated_at
            assert "data/direct_messages_media/" in private
        summarize(archive)
    assert_no_private_opened(opened)
    assert opened, "the spy saw nothing: the test would pass vacuously"


def test_sample_spec_covers_every_edge_case() -> None:
    """The mixed spec the tests rely on really holds each kind of post."""
    spec = sample_spec(3, n_posts=160)
    kinds = {
        "retweet": any(t.retweet_of for t in spec.tweets),
        "reply": any(t.reply_to and t.reply_to_user_id != spec.account.id for t in spec.tweets),
        "self_reply": any(t.reply_to_user_id == spec.account.id for t in spec.tweets),
        "quote": any(t.quote for t in spec.tweets),
        "edit": any(t.edits for t in spec.tweets),
        "long": any(t.long for t in spec.tweets),
        "long_reply": any(t.long and t.reply_to for t in spec.tweets),
        "community": any(t.community for t in spec.tweets),
        "photo": any(m.kind == "photo" for t in spec.tweets for m in t.media),
        "video": any(m.kind == "video" for t in spec.tweets for m in t.media),
        "gif": any(m.kind == "animated_gif" for t in spec.tweets for m in t.media),
        "missing_media": any(not m.present for t in spec.tweets for m in t.media),
        "escaped": any("&" in t.text or "<" in t.text for t in spec.tweets),
        "astral": any("🌍" in t.text or "🐦" in t.text for t in spec.tweets),
    }
    assert all(kinds.values()), [k for k, v in kinds.items() if not v]


def test_summary_counts_match_the_spec(tmp_path) -> None:
    spec = sample_spec(5, n_posts=200, n_following=17, n_followers=23, n_likes=4)
    path = write_archive(tmp_path, spec, parts={"tweets": 3})
    expected = expected_posts(spec)
    own = [p for p in expected if not p.is_retweet]
    with open_archive(path) as archive:
        s = summarize(archive)
    c = s["counts"]
    assert s["account"] == {
        "id": spec.account.id,
        "username": spec.account.username,
        "display_name": spec.account.display_name,
    }
    assert c["tweet_entries"] == len(spec.tweets) + sum(len(t.edits) for t in spec.tweets)
    assert c["posts"] == len(own)
    assert c["retweets"] == sum(1 for t in spec.tweets if t.retweet_of)
    assert c["replies_to_others"] == sum(1 for p in own if p.is_reply_to_others)
    assert c["thread_replies"] == sum(1 for p in own if p.is_self_reply)
    assert c["long_posts"] == sum(1 for t in spec.tweets if t.long)
    assert c["community_posts"] == sum(1 for t in spec.tweets if t.community)
    assert c["media_items"] == sum(len(t.media) for t in spec.tweets)
    assert (c["following"], c["followers"], c["blocks"], c["mutes"], c["likes"]) == (
        17,
        23,
        3,
        2,
        4,
    )
    assert (c["lists_created"], c["lists_member"]) == (2, 3)
    assert s["first_post_at"] == min(p.created_at for p in own).isoformat()
    assert s["last_post_at"] == max(p.created_at for p in own).isoformat()
    assert s["generated_at"] == spec.generated_at.isoformat()
    assert "data/direct-messages.js" in s["private_files_not_read"]


def test_only_the_needed_files_are_opened(tmp_path, opened) -> None:
    """Not the viewer's assets, not tweetdeck.js, not README: only what a migration uses."""
    spec = sample_spec(8, n_posts=40)
    path = write_archive(tmp_path, spec, parts={"tweets": 2, "follower": 2})
    with open_archive(path) as archive:
        summarize(archive)
        list(archive.posts())
        archive.profile()
        list(archive.followers())
    allowed = re.compile(
        r"^data/(manifest|account|profile|tweets|note-tweet|community-tweet|following|follower"
        r"|block|mute|like|lists-created|lists-member|lists-subscribed)(-part\d+)?\.js$"
    )
    assert opened
    assert [n for n in opened if not allowed.match(n)] == []


def test_progress_adds_up_to_the_data_size(tmp_path) -> None:
    spec = sample_spec(8, n_posts=120, n_following=300, n_followers=400)
    path = write_archive(tmp_path, spec, parts={"tweets": 3, "follower": 2})
    seen: list[int] = []
    with open_archive(path) as archive:
        summarize(archive, progress=seen.append)
        assert all(n >= 0 for n in seen)
        assert sum(seen) == archive.data_size()
        assert archive.progress is None  # restored after the summary
