from datetime import UTC, datetime, timedelta

import pytest

from hirondelle.identity.models import Evidence, Link, LinkConflict, NetworkAccount
from hirondelle.identity.services.directory import (
    InvalidLink,
    LinkRow,
    assert_link,
    merge_links,
    resolve_conflict,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def link(x, handle, evidence, uri="", network="mastodon", at=T0, by="someone"):
    return assert_link(x, network, handle, uri, evidence=evidence, asserted_by=by, asserted_at=at)


def test_a_link_is_normalised_and_current():
    made = link(" 42 ", "@Ada@Example.Social", "self", "https://example.social/users/ada")
    assert made.network_account.handle == "ada@example.social"
    assert made.state == Link.State.CURRENT
    assert made.strength == Evidence.SELF.strength
    assert made.x_account_id == 42


@pytest.mark.parametrize(
    ("x", "network", "handle", "uri", "message"),
    [
        ("abc", "mastodon", "a@b.c", "", "not an X account id"),
        ("1", "mastodon", "ada", "", "user@host"),
        ("1", "bluesky", "ada@bsky.social", "", "Bluesky handle"),
        ("1", "bluesky", "ada.bsky.social", "https://x", "DID"),
        ("1", "mastodon", "a@b.c", "did:plc:x", "actor URI"),
        ("1", "myspace", "a@b.c", "", "mastodon or bluesky"),
    ],
)
def test_bad_links_are_refused_with_a_reason(x, network, handle, uri, message):
    with pytest.raises(InvalidLink, match=message):
        link(x, handle, "self", uri, network=network)
    assert not Link.objects.exists()


def test_reasserting_keeps_the_strongest_evidence():
    link(1, "a@b.social", "domain")
    link(1, "a@b.social", "self", at=T0 + timedelta(days=1))  # weaker, newer: ignored
    assert Link.objects.get().evidence == "domain"
    link(1, "a@b.social", "x_oauth", by="portal")
    only = Link.objects.get()
    assert (only.evidence, only.strength, only.asserted_by) == (
        "x_oauth",
        Evidence.X_OAUTH.strength,
        "portal",
    )


def test_stronger_evidence_wins_a_conflict_and_the_conflict_is_recorded():
    forged = link(7, "impostor@evil.example", "self")
    real = link(7, "famous@news.example", "roster")
    forged.refresh_from_db()
    assert real.state == Link.State.CURRENT
    assert forged.state == Link.State.SUPERSEDED
    conflict = LinkConflict.objects.get()
    assert (conflict.x_account_id, conflict.network) == (7, "mastodon")
    assert conflict.winner_id == real.pk
    assert conflict.contenders == 2
    assert conflict.is_open


def test_other_networks_do_not_conflict():
    link(7, "a@b.social", "self")
    link(7, "a.bsky.social", "self", network="bluesky")
    assert set(Link.objects.values_list("state", flat=True)) == {Link.State.CURRENT}
    assert not LinkConflict.objects.exists()


def test_a_tie_is_contested_and_needs_someone_to_choose():
    a = link(8, "one@b.social", "self")
    b = link(8, "two@b.social", "self")
    a.refresh_from_db()
    assert {a.state, b.state} == {Link.State.CONTESTED}
    conflict = LinkConflict.objects.get()
    assert conflict.winner_id is None
    with pytest.raises(InvalidLink, match="tied"):
        resolve_conflict(conflict)
    kept = resolve_conflict(conflict, keep=b)
    a.refresh_from_db()
    conflict.refresh_from_db()
    assert (kept.state, a.state) == (Link.State.CURRENT, Link.State.REJECTED)
    assert not conflict.is_open


def test_resolving_keeps_the_winner_and_a_new_contender_reopens():
    link(9, "weak@b.social", "self")
    strong = link(9, "strong@b.social", "domain")
    resolve_conflict(LinkConflict.objects.get())
    assert not LinkConflict.objects.get().is_open
    assert Link.objects.get(network_account__handle="weak@b.social").state == "rejected"
    # A rejected link asserted again stays rejected: the decision stands.
    link(9, "weak@b.social", "x_oauth")
    assert Link.objects.get(network_account__handle="weak@b.social").state == "rejected"
    strong.refresh_from_db()
    assert strong.state == Link.State.CURRENT
    link(9, "third@b.social", "bridge")
    conflict = LinkConflict.objects.get()
    assert conflict.is_open
    assert conflict.winner_id == strong.pk


def test_a_moved_handle_follows_the_uri():
    link(1, "ada.bsky.social", "self", "did:plc:old", network="bluesky")
    # The handle now belongs to another DID (a domain handle changed hands).
    link(2, "ada.bsky.social", "self", "did:plc:new", network="bluesky")
    old = NetworkAccount.objects.get(uri="did:plc:old")
    new = NetworkAccount.objects.get(uri="did:plc:new")
    assert new.handle == "ada.bsky.social"
    assert old.handle == "did:plc:old"


def test_a_known_handle_gets_its_uri_later():
    link(1, "a@b.social", "roster")
    link(1, "a@b.social", "roster", "https://b.social/users/a")
    assert NetworkAccount.objects.get().uri == "https://b.social/users/a"
    assert Link.objects.count() == 1


def test_merge_is_batched_and_counts():
    rows = [
        LinkRow.make(i, "mastodon", f"u{i}@b.social", evidence="self", asserted_by="t")
        for i in range(1, 26)
    ]
    stats = merge_links(rows, batch_size=7)
    assert (stats.created, stats.strengthened, stats.unchanged) == (25, 0, 0)
    again = merge_links(rows, batch_size=10)
    assert (again.created, again.unchanged) == (0, 25)
    assert Link.objects.count() == 25


def test_consents_start_unticked():
    from hirondelle.identity.models import Consent, XAccount

    consent = Consent.objects.create(x_account=XAccount.objects.create(id=5))
    assert (consent.findable, consent.auto_followable, consent.auto_follow_arrivals) == (
        False,
        False,
        False,
    )
