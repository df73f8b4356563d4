"""`hirondelle archive inspect`: readable summary, exact JSON, clean errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hirondelle.cli import main
from tests.support.x_archive import expected_posts, sample_spec, write_archive

COUNT_KEYS = {
    "tweet_entries",
    "posts",
    "retweets",
    "replies_to_others",
    "thread_replies",
    "long_posts",
    "community_posts",
    "media_items",
    "following",
    "followers",
    "blocks",
    "mutes",
    "likes",
    "lists_created",
    "lists_member",
}


def test_inspect_json_has_every_key(tmp_path) -> None:
    spec = sample_spec(2, n_posts=60, n_following=21, n_followers=34)
    path = write_archive(tmp_path, spec, parts={"tweets": 2})
    result = CliRunner().invoke(main, ["archive", "inspect", "--json", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"account", "generated_at", "first_post_at", "last_post_at", "counts"} <= set(data)
    assert "private_files_not_read" in data
    assert set(data["account"]) == {"id", "username", "display_name"}
    assert set(data["counts"]) >= COUNT_KEYS
    assert data["counts"]["followers"] == 34
    assert data["counts"]["posts"] == sum(1 for p in expected_posts(spec) if not p.is_retweet)
    assert "data/direct-messages.js" in data["private_files_not_read"]


def test_inspect_prints_a_readable_summary(tmp_path) -> None:
    spec = sample_spec(2, n_posts=20, n_following=7)
    result = CliRunner().invoke(main, ["archive", "inspect", str(write_archive(tmp_path, spec))])
    assert result.exit_code == 0, result.output
    assert f"@{spec.account.username}" in result.output
    assert "Following" in result.output
    assert "private files left unread" in result.output


def test_inspect_fails_cleanly_on_bad_input(tmp_path) -> None:
    bad = tmp_path / "archive.zip"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    result = CliRunner().invoke(main, ["archive", "inspect", str(bad)])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_inspect_shows_how_many_of_the_graph_the_posts_name(tmp_path) -> None:
    from tests.support.x_archive import add_names

    spec = sample_spec(4, n_posts=10, n_following=30, n_followers=20)
    truth = add_names(spec, 4)
    path = str(write_archive(tmp_path, spec))
    data = json.loads(CliRunner().invoke(main, ["archive", "inspect", "--json", path]).output)
    assert data["named"] == {
        "following": truth.named(spec.following),
        "followers": truth.named(spec.followers),
        "blocks": truth.named(spec.blocks),
        "mutes": truth.named(spec.mutes),
    }
    text = CliRunner().invoke(main, ["archive", "inspect", path]).output
    assert f"{truth.named(spec.following)} of 30 followed" in text
