"""Consent, review, run, progress, later and stats, through the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hirondelle.identity.models import Consent, Link
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.tasks import advance_account
from hirondelle.portal.models import ReviewChoice
from tests.portal.conftest import user_of

pytestmark = pytest.mark.django_db


def _directory(spec, *, strong: int, weak: int, at=None):
    """`strong` people I follow proven by their website, `weak` only by their word."""
    people = spec.following[: strong + weak]
    for i, x_id in enumerate(people):
        evidence = "domain" if i < strong else "self"
        assert_link(
            x_id,
            "bluesky",
            f"friend{i}.test",
            f"did:plc:friend{i}",
            evidence=evidence,
            asserted_by="test",
            asserted_at=at,
        )
        set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    return people


def test_consent_checkboxes_start_unticked_and_save_separately(alice, alice_migration) -> None:
    page = alice.get("/consent/").content.decode()
    assert page.count('type="checkbox"') == 3
    assert "checked" not in page
    response = alice.post("/consent/", {"auto_follow_arrivals": "on"})
    assert response.status_code == 302
    consent = Consent.objects.get(x_account_id=alice_migration.x_account_id)
    assert (consent.findable, consent.auto_followable, consent.auto_follow_arrivals) == (
        False,
        False,
        True,
    )
    assert consent.given_by == user_of(alice)
    # My own word links my X account to my new account (self evidence).
    link = Link.objects.get(x_account_id=alice_migration.x_account_id)
    assert (link.network_account.handle, link.evidence) == ("alice.test", "self")
    assert alice.get("/consent/").content.decode().count("checked") == 1


def test_review_groups_by_evidence_and_explains(alice, alice_migration, archive_folder) -> None:
    spec, _ = archive_folder
    _directory(spec, strong=3, weak=2)
    response = alice.get("/review/", headers={"accept-language": "en"})
    page = response.context["page"]
    assert page.counts["bluesky"]["auto"] == 3
    assert page.counts["bluesky"]["review"] == 2
    assert [g.evidence for g in page.groups] == ["domain", "self"]
    html = response.content.decode()
    assert "friend0.test" in html
    assert "friend4.test" in html
    assert "For you to check" in html
    assert "weaker than the level you trust" in html
    searched = alice.get("/review/?q=friend4").context["page"]
    assert [r.match.handle for g in searched.groups for r in g.rows] == ["friend4.test"]


def test_review_choices_shape_the_plan(alice, alice_migration, archive_folder) -> None:
    spec, _ = archive_folder
    people = _directory(spec, strong=3, weak=2)
    shown = [f"bluesky:{x}" for x in people]
    # Keep two of the automatic ones, drop one, approve one that needed review.
    picked = [shown[0], shown[1], shown[3]]
    alice.post("/review/", {"shown": shown, "pick": picked, "direction": "following"})
    assert ReviewChoice.objects.filter(migration=alice_migration, chosen=True).count() == 3
    response = alice.post("/run/start", {})
    assert response.status_code == 302
    items = PlanItem.objects.filter(account__user=user_of(alice), kind="follow")
    pending = set(items.filter(state="pending").values_list("x_id", flat=True))
    assert pending == {people[0], people[1], people[3]}
    assert items.filter(state="skipped").values_list("x_id", flat=True).get() == people[2]
    account = ConnectedAccount.objects.get(user=user_of(alice))
    assert account.wake_at is not None  # a worker was asked to start


def test_progress_follows_the_worker(alice, alice_migration, archive_folder, fake_networks) -> None:
    spec, _ = archive_folder
    _directory(spec, strong=4, weak=0)
    alice.post("/run/start", {})
    before = alice.get("/run/progress.json").json()["accounts"][0]
    assert before["total"] == 4
    assert before["finished"] == 0
    account = ConnectedAccount.objects.get(user=user_of(alice))
    advance_account.call(account.pk)  # what the background worker does
    after = alice.get("/run/progress.json").json()["accounts"][0]
    assert after["finished"] == 4
    assert after["items"]["follow"]["done"] == 4
    assert len(fake_networks.server.follows) == 4
    # Starting again plans nothing twice.
    alice.post("/run/start", {})
    assert alice.get("/run/progress.json").json()["accounts"][0]["total"] == 4


def test_later_lists_who_came_since(alice, alice_migration, archive_folder) -> None:
    spec, _ = archive_folder
    _directory(spec, strong=1, weak=0, at=timezone.now() - timedelta(days=30))
    assert_link(
        spec.following[5],
        "bluesky",
        "newcomer.test",
        "did:plc:newcomer",
        evidence="domain",
        asserted_by="test",
        asserted_at=timezone.now() + timedelta(minutes=1),
    )
    set_consent(spec.following[5], findable=True, auto_followable=False, auto_follow_arrivals=False)
    arrivals = alice.get("/later/").context["arrivals"]
    assert [a.handle for a in arrivals] == ["newcomer.test"]
    assert arrivals[0].directions[0] == "following"


def test_stats_show_shares_and_never_unconsented_names(
    alice, alice_migration, archive_folder
) -> None:
    spec, _ = archive_folder
    _directory(spec, strong=4, weak=0)
    assert_link(
        spec.following[10],
        "mastodon",
        "secret@example.test",
        "https://example.test/u/secret",
        evidence="domain",
        asserted_by="test",
    )  # no consent: must never appear, nor count
    response = alice.get("/stats/")
    mine = response.context["mine"]
    assert mine.following == len(set(spec.following))
    assert mine.reachable == {"bluesky": 4}
    html = response.content.decode()
    assert "<svg" in html
    assert "polyline" in html
    assert "secret" not in html
    anonymous = alice.__class__().get("/stats/")
    assert anonymous.context["site"].links == {"bluesky": 4}
    assert "friend0" not in anonymous.content.decode()


def test_trust_level_moves_matches_between_automatic_and_review(
    alice, alice_migration, archive_folder
) -> None:
    spec, _ = archive_folder
    _directory(spec, strong=3, weak=2)
    assert alice.get("/review/").context["page"].counts["bluesky"]["auto"] == 3
    alice.post("/review/", {"trust": "self"})
    alice_migration.refresh_from_db()
    assert alice_migration.trust_threshold == "self"
    assert alice.get("/review/").context["page"].counts["bluesky"]["auto"] == 5
    alice.post("/review/", {"trust": "x_oauth"})
    assert alice.get("/review/").context["page"].counts["bluesky"]["auto"] == 0
    alice.post("/review/", {"trust": "nonsense"})
    alice_migration.refresh_from_db()
    assert alice_migration.trust_threshold == "x_oauth"
