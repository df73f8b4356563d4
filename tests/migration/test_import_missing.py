"""An archive whose manifest lists files it lacks: the import says so and stores it."""

import json

import pytest
from click.testing import CliRunner

from hirondelle.identity.models import User
from hirondelle.migration.services.importing import POST_DATA, import_archive
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return User.objects.create(username="local")


def test_import_warns_about_files_the_archive_lacks(tmp_path, owner):
    spec = sample_spec(seed=5, n_posts=10, n_following=6, n_followers=9)
    path = write_archive(tmp_path, spec, omit=("data/follower.js", "data/like.js"))
    result = import_archive(path, owner=owner)
    assert result.counts["followers"] == 0
    # Likes are never imported: their absence is no loss and not warned about.
    assert [m.as_dict() for m in result.missing] == [
        {"type": "follower", "path": "data/follower.js"}
    ]
    assert any("data/follower.js" in w for w in result.warnings)
    result.migration.refresh_from_db()
    assert {"type": "follower", "path": "data/follower.js"} in result.migration.import_warnings
    # A complete re-import clears the warning.
    again = import_archive(write_archive(tmp_path / "full", spec), owner=owner)
    again.migration.refresh_from_db()
    assert again.missing == []
    assert again.migration.import_warnings == []


def test_posts_left_out_on_purpose_are_not_warned_about(tmp_path, owner):
    spec = sample_spec(seed=5, n_posts=10)
    path = write_archive(
        tmp_path, spec, omit=("data/tweets.js", "data/note-tweet.js", "data/community-tweet.js")
    )
    assert {m.type for m in import_archive(path, owner=owner).missing} == {
        "tweets",
        "note-tweet",
        "community-tweet",
    }
    assert import_archive(path, owner=owner, left_out=POST_DATA).missing == []


def test_cli_import_warns(tmp_path, owner, monkeypatch):
    from hirondelle.cli import main

    monkeypatch.setattr("hirondelle.cli.importing.local_user", lambda: owner)
    monkeypatch.setattr("hirondelle.cli.importing.ensure_database", lambda: None)
    spec = sample_spec(seed=5, n_posts=5, n_following=3)
    path = write_archive(tmp_path, spec, omit=("data/following.js",))
    out = CliRunner().invoke(main, ["import", str(path)])
    assert out.exit_code == 0, out.output
    assert "Warning: the manifest lists data/following.js" in out.output
    out = CliRunner().invoke(main, ["import", "--json", str(path)])
    assert json.loads(out.stdout)["missing"] == [{"type": "following", "path": "data/following.js"}]
