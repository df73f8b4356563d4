"""The command line tells the truth: failures counted apart, with their
reasons; errors as JSON when JSON was asked for; previews before any account
is connected; connection errors in one sentence.

Against mastodon-mock (a stateful imitation of Mastodon's REST API on
127.0.0.1, not Mastodon itself) where a server is needed.
"""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.identity.services.directory import set_consent
from hirondelle.migration.models import PlanItem
from tests.support.mastodon_peer import TOKEN
from tests.support.ports import free_port
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


def test_previews_work_before_any_account_is_connected(tmp_path):
    _linked(tmp_path, {0: "bob@mock.local", 1: "dave@remote.example"})
    preview = invoke("plan", "--dry-run").output
    assert "mastodon (no account connected yet): 2 follow" in preview
    assert "published limits" in preview
    networks = {
        n["network"]: n
        for n in json.loads(invoke("plan", "--dry-run", "--json").output)["networks"]
    }
    assert networks["mastodon"]["actions"] == {"follow": 2}
    assert networks["mastodon"]["accounts"] == []
    assert networks["bluesky"]["actions"] == {}
    posts = json.loads(invoke("republish", "--to", "bluesky", "--dry-run", "--json").output)
    assert posts["parts"] >= posts["posts"] > 0
    assert posts["eta_seconds"] >= 0
    text = invoke("republish", "--to", "mastodon", "--dry-run").output
    assert "no mastodon account connected yet" in text
    assert not PlanItem.objects.exists()  # a preview plans nothing
    # Without --dry-run, an account is needed, and the error says what to do.
    refused = invoke("republish", "--to", "mastodon", code=1).output
    assert "hirondelle connect mastodon" in refused


def _json_commands(group=main, prefix=()):
    ctx = click.Context(group)  # list_commands/get_command: the main group imports lazily
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if hasattr(command, "commands"):
            yield from _json_commands(command, (*prefix, name))
        elif any("--json" in getattr(p, "opts", ()) for p in command.params):
            yield (*prefix, name)


@pytest.mark.parametrize("path", list(_json_commands()), ids=" ".join)
def test_every_json_command_reports_errors_as_json(path):
    result = CliRunner().invoke(main, [*path, "--json", "--no-such-option"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "error": "No such option '--no-such-option'.",
        "exit_code": 2,
    }


def test_a_failing_json_command_says_why_in_json():
    result = CliRunner().invoke(main, ["plan", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "error": "Nothing imported yet: run `hirondelle import ARCHIVE` first.",
        "exit_code": 1,
    }
    text = CliRunner().invoke(main, ["plan"])  # without --json: words on stderr
    assert text.exit_code == 1
    assert text.stdout == ""
    assert "Error: Nothing imported yet" in text.stderr


@pytest.mark.parametrize("network", ["mastodon", "bluesky"])
def test_a_connection_error_is_one_plain_sentence(network):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    args = (
        ["connect", "mastodon", "--server", closed, "--token", "t"]
        if network == "mastodon"
        else ["connect", "bluesky", "--handle", "a.test", "--app-password", "p", "--pds", closed]
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert message.startswith("Error: Could not reach ")
    assert closed in message
    assert message.endswith(": the connection was refused.")
    assert "\n" not in message  # one sentence
    assert "retry" not in message.lower()
