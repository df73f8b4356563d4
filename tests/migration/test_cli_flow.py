"""The command line, end to end, against mastodon-mock (a stateful imitation
of Mastodon's REST API on 127.0.0.1, not Mastodon itself): import an
archive, add links to the directory, connect with a pasted token, plan,
dry-run, run, and find the follows, the block and the mute on the server."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.identity.services.directory import set_consent
from hirondelle.migration.models import PlanItem
from tests.support.mastodon_peer import TOKEN
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_import_match_connect_plan_run(mastodon_peer, tmp_path):
    spec = sample_spec(seed=3, n_posts=5, n_following=6, n_followers=4)
    archive = write_archive(tmp_path, spec)
    invoke("import", str(archive))

    people = {
        spec.following[0]: "bob",  # a local account on the mock server
        spec.following[1]: "dave@remote.example",
        spec.blocks[0]: "erin@other.example",
        spec.mutes[0]: "carol",
    }
    for x_id, handle in people.items():
        address = handle if "@" in handle else f"{handle}@mock.local"  # the mock's own domain
        invoke("directory", "link", x_id, "mastodon", address, "--evidence", "roster")
        # Their consent would come with a signed snapshot or a roster.
        set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    matched = json.loads(invoke("match", "--json"))
    assert matched["following"]["mastodon"]["auto"] == 2
    assert matched["blocks"]["mastodon"]["auto"] == 1
    assert matched["mutes"]["mastodon"]["auto"] == 1

    assert "Connected alice" in invoke(
        "connect", "mastodon", "--server", mastodon_peer.base_url, "--token", TOKEN
    )
    plan = json.loads(invoke("plan", "--json"))["accounts"][0]
    assert plan["total"] == {"follow": 2, "block": 1, "mute": 1}
    assert "4 to do" in invoke("run", "--dry-run")
    invoke("run")
    again = json.loads(invoke("accounts", "--json"))[0]
    errors = list(
        PlanItem.objects.exclude(last_error="").values_list("target_handle", "last_error")
    )
    assert again["items"] == {
        "follow": {"done": 2},
        "block": {"done": 1},
        "mute": {"done": 1},
    }, errors

    me = mastodon_peer.get("/api/v1/accounts/verify_credentials")
    following = {a["acct"] for a in mastodon_peer.get(f"/api/v1/accounts/{me['id']}/following")}
    assert following == {"bob", "dave@remote.example"}
    blocked = {a["acct"] for a in mastodon_peer.get("/api/v1/blocks")}
    muted = {a["acct"] for a in mastodon_peer.get("/api/v1/mutes")}
    assert blocked == {"erin@other.example"}
    assert muted == {"carol"}


def test_republish_to_mastodon_states_the_date_and_keeps_threads(mastodon_peer, tmp_path):
    spec = sample_spec(seed=4, n_posts=12, n_following=2)
    invoke("import", str(write_archive(tmp_path, spec)))
    invoke("connect", "mastodon", "--server", mastodon_peer.base_url, "--token", TOKEN)
    preview = json.loads(invoke("republish", "--to", "mastodon", "--dry-run", "--json"))
    assert preview["parts"] >= preview["posts"] > 0
    invoke("republish", "--to", "mastodon", "--language", "en")
    again = invoke("republish", "--to", "mastodon", "--language", "en")
    assert "0 newly planned" in again  # planning twice adds nothing, posts nothing twice

    me = mastodon_peer.get("/api/v1/accounts/verify_credentials")
    statuses = mastodon_peer.get(f"/api/v1/accounts/{me['id']}/statuses", limit=40)
    ours = [s for s in statuses if "Originally posted on X" in s["content"]]
    assert len(ours) == preview["parts"]
    assert {s["visibility"] for s in ours} == {"unlisted"}
    published = {s["id"] for s in ours}
    replies = [s for s in ours if s["in_reply_to_id"]]
    assert replies, "the sample archive has threads and long posts split into threads"
    assert all(s["in_reply_to_id"] in published for s in replies)
    done = PlanItem.objects.filter(kind="post", state="done").count()
    assert done == preview["parts"]


def test_a_post_sent_before_a_crash_is_found_after_the_key_is_forgotten(mastodon_peer, tmp_path):
    """Mastodon forgets an Idempotency-Key after about an hour: a post it
    accepted just before a crash must be found by its text, not sent again."""
    from datetime import timedelta

    from django.utils import timezone

    spec = sample_spec(seed=5, n_posts=6, n_following=2)
    invoke("import", str(write_archive(tmp_path, spec)))
    invoke("connect", "mastodon", "--server", mastodon_peer.base_url, "--token", TOKEN)
    invoke("republish", "--to", "mastodon", "--language", "fr")
    me = mastodon_peer.get("/api/v1/accounts/verify_credentials")
    before = mastodon_peer.get(f"/api/v1/accounts/{me['id']}/statuses", limit=40)

    # The worker died after the server accepted these posts and before it
    # recorded them; by the time the run resumes, the keys are forgotten.
    lost = list(PlanItem.objects.filter(kind="post", state="done").order_by("position")[:3])
    assert lost
    for item in lost:
        published = item.remote_id
        item.state = PlanItem.State.IN_FLIGHT
        item.locked_until = timezone.now() - timedelta(seconds=1)
        item.key = f"{item.key}-forgotten"
        item.remote_id = ""
        item.save()
        item.published = published
    invoke("run")

    after = mastodon_peer.get(f"/api/v1/accounts/{me['id']}/statuses", limit=40)
    assert sorted(s["id"] for s in after) == sorted(s["id"] for s in before)
    for item in lost:
        item.refresh_from_db()
        assert item.state == PlanItem.State.DONE
        assert item.remote_id == item.published
