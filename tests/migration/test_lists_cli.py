"""`hirondelle lists` end to end against mastodon-mock (a stateful imitation of
Mastodon's REST API on 127.0.0.1, not Mastodon itself): import an archive with
lists, link people, rebuild a list from a file of handles, run it twice."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import PlanItem
from tests.support.mastodon_peer import TOKEN
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db

LIST = "https://twitter.com/i/lists/1234567890"


def invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def invoke_json(*args: str) -> dict:
    """Standard output only: progress bars go to standard error."""
    result = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_lists_show_and_rebuild_from_a_file(mastodon_peer, tmp_path):
    spec = sample_spec(seed=4, n_posts=2, n_following=4, n_followers=2)
    spec.lists_created = [LIST]
    spec.lists_subscribed = ["https://twitter.com/i/lists/42"]
    invoke("import", str(write_archive(tmp_path, spec)))
    for x_id, handle in zip(
        spec.following, ["bob@mock.local", "dave@remote.example"], strict=False
    ):
        assert_link(
            x_id, "mastodon", handle, evidence="roster", asserted_by="t", x_username=handle[:4]
        )
        set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    invoke("connect", "mastodon", "--server", mastodon_peer.base_url, "--token", TOKEN)

    shown = invoke("lists")
    assert LIST in shown
    assert "not rebuilt" in shown
    assert "belong to someone else" in shown
    data = invoke_json("lists")
    assert data["created"][0]["name"] == "X list 1234567890"
    assert data["subscribed"] == ["https://twitter.com/i/lists/42"]

    members = tmp_path / "members.csv"
    members.write_text("handle\n@bob@\nhttps://x.com/dave\n@ghost\n", encoding="utf-8")
    args = ["lists", "rebuild", "1234567890", "--name", "Mes oiseaux", "--to", "mastodon"]
    out = invoke_json(*args, "--members-file", str(members))
    assert out["members"] == 1  # dave; "@bob@" is no X handle, ghost is unknown
    assert {n["line"]: n["reason"] for n in out["not_found"]} == {
        "@bob@": "invalid",
        "@ghost": "unknown",
    }
    again = invoke_json(*args, "--all-found")
    assert (again["members"], again["added"]) == (2, 1)
    invoke(*args, "--all-found")  # a third time: nothing new

    titles = [lst["title"] for lst in mastodon_peer.get("/api/v1/lists")]
    assert titles.count("Mes oiseaux") == 1
    [list_id] = [lst["id"] for lst in mastodon_peer.get("/api/v1/lists")]
    accts = sorted(a["acct"] for a in mastodon_peer.get(f"/api/v1/lists/{list_id}/accounts"))
    assert accts == ["bob", "dave@remote.example"]
    assert set(PlanItem.objects.filter(kind="list_add").values_list("state", flat=True)) == {"done"}
    assert "created" in invoke("lists")


def test_rebuild_needs_members_and_an_own_list(mastodon_peer, tmp_path):
    spec = sample_spec(seed=4, n_posts=1, n_following=2, n_followers=1)
    spec.lists_created = [LIST]
    spec.lists_member = ["https://twitter.com/i/lists/77"]
    invoke("import", str(write_archive(tmp_path, spec)))
    invoke("connect", "mastodon", "--server", mastodon_peer.base_url, "--token", TOKEN)
    assert "Choose the members" in invoke("lists", "rebuild", LIST, "--to", "mastodon", code=2)
    out = invoke("lists", "rebuild", "77", "--to", "mastodon", "--all-found", code=1)
    assert "belong to someone else" in out
    out = invoke("lists", "rebuild", LIST, "--to", "bluesky", "--all-found", code=1)
    assert "No connected bluesky account" in out
