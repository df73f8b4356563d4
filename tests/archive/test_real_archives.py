"""What real archives do that tidy ones do not: trimmed zips, long posts, retweets."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from click.testing import CliRunner

from hirondelle.archive import open_archive, summarize
from hirondelle.cli import main
from tests.support.x_archive import MediaSpec, TweetSpec, sample_spec, snowflake, write_archive


def _with_media(spec):
    """Make sure the spec has posts with media files (to lose their folder)."""
    when = spec.tweets[-1].created_at
    rng = random.Random(1)
    for n in range(2):
        when = when + timedelta(hours=1)
        spec.tweets.append(
            TweetSpec(
                id=snowflake(when, rng),
                created_at=when,
                text=f"a picture {n}",
                media=(MediaSpec("photo", f"pic{n}"),),
            )
        )
    return spec


# ------------------------------------------------------------------ missing files


def test_files_the_manifest_lists_and_the_zip_lacks_are_named(tmp_path) -> None:
    spec = _with_media(sample_spec(3, n_posts=30, n_following=5, n_followers=8))
    path = write_archive(
        tmp_path,
        spec,
        parts={"follower": 2},
        omit=("data/following.js", "data/follower-part1.js", "data/like.js", "data/tweets_media/"),
    )
    with open_archive(path) as archive:
        summary = summarize(archive)
    missing = {m["path"]: m["type"] for m in summary["missing"]}
    assert missing == {
        "data/following.js": "following",
        "data/follower-part1.js": "follower",
        "data/like.js": "like",
        "data/tweets_media/": "tweets_media",
    }
    assert summary["counts"]["following"] == 0
    assert 0 < summary["counts"]["followers"] < 8
    assert any("data/following.js" in w for w in summary["warnings"])
    assert any("data/tweets_media/" in w for w in summary["warnings"])


def test_a_complete_archive_misses_nothing(tmp_path) -> None:
    spec = _with_media(sample_spec(3, n_posts=30))
    with open_archive(write_archive(tmp_path, spec)) as archive:
        summary = summarize(archive)
    assert summary["missing"] == []
    assert not any("manifest lists" in w for w in summary["warnings"])


def test_an_archive_without_media_does_not_need_the_media_folder(tmp_path) -> None:
    spec = sample_spec(3, n_posts=10)
    spec.tweets = [t for t in spec.tweets if not t.media]
    path = write_archive(tmp_path, spec, omit=("data/tweets_media/",))
    with open_archive(path) as archive:
        assert summarize(archive)["missing"] == []


def test_private_files_are_not_called_missing(tmp_path) -> None:
    """A trimmed upload lacks direct messages on purpose: that is no loss."""
    spec = sample_spec(3, n_posts=10)
    path = write_archive(tmp_path, spec, omit=("data/direct-messages.js",))
    with open_archive(path) as archive:
        assert summarize(archive)["missing"] == []


def test_inspect_says_what_is_missing(tmp_path) -> None:
    spec = sample_spec(3, n_posts=10, n_following=4)
    path = write_archive(tmp_path, spec, omit=("data/following.js",))
    out = CliRunner().invoke(main, ["archive", "inspect", "--json", str(path)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["missing"] == [{"type": "following", "path": "data/following.js"}]
    table = CliRunner().invoke(main, ["archive", "inspect", str(path)])
    assert table.exit_code == 0, table.output
    line = next(ln for ln in table.output.splitlines() if ln.startswith("Following"))
    assert "missing from the archive" in line
    assert "Missing from this archive" in table.output
    assert "data/following.js" in table.output
