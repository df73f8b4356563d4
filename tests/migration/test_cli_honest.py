"""The command line tells the truth: failures counted apart, with their
reasons; errors as JSON when JSON was asked for; previews before any account
is connected; connection errors in one sentence.

Against mastodon-mock (a stateful imitation of Mastodon's REST API on
127.0.0.1, not Mastodon itself) where a server is needed.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.identity.services.directory import set_consent
from tests.support.mastodon_peer import TOKEN
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


def invoke(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _linked(tmp_path, people: dict[int, str]):
    spec = sample_spec(seed=3, n_posts=5, n_following=6, n_followers=4)
    invoke("import", str(write_archive(tmp_path, spec)))
    for index, handle in people.items():
        x_id = spec.following[index]
        invoke("directory", "link", x_id, "mastodon", handle, "--evidence", "roster")
        set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    return spec


def test_a_run_with_failures_never_says_all_done(mastodon_peer, tmp_path):
    _linked(
        tmp_path,
        {
            0: "bob@mock.local",
            1: "dave@remote.example",
            2: "nobody@mock.local",  # no such account on the server
            3: "ghost@nowhere.example",
        },
    )
    invoke("connect", "mastodon", "--server", mastodon_peer.base_url, "--token", TOKEN)
    invoke("plan")
    ran = invoke("run").output
    assert "2 done, 2 failed, 0 skipped, 0 to do (of 4)" in ran
    assert "4/4" not in ran
    listed = invoke("accounts").output
    assert "2 done, 2 failed, 0 skipped, 0 to do (of 4)" in listed
    # Each failure with the reason the network gave.
    assert "  1 failed: nobody@mock.local could not be found from this server." in listed
    assert "  1 failed: ghost@nowhere.example could not be found" in listed
    row = json.loads(invoke("accounts", "--json").output)[0]
    assert (row["done"], row["failed"], row["skipped"], row["open"]) == (2, 2, 0, 0)
    assert sum(f["count"] for f in row["failures"]) == 2
    assert all(f["reason"] for f in row["failures"])
