"""Matching a graph against the directory: trust, consent, conflicts, reverse lookup."""

from datetime import UTC, datetime

import pytest

from hirondelle.identity.models import Evidence, User, XAccount
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import Direction, Migration
from hirondelle.migration.services import matching
from hirondelle.migration.services.importing import write_edges
from hirondelle.migration.services.matching import (
    count_matches,
    graph_is_larger,
    match_migration,
    migrations_containing,
)
from hirondelle.portal.services import later, stats

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True, params=["edges first", "links first"])
def join_order(request, monkeypatch):
    """Every test here runs with the join starting from each side: same answers."""
    links_first = request.param == "links first"
    for module in (matching, later, stats):
        monkeypatch.setattr(module, "graph_is_larger", lambda *a, **k: links_first)
    return request.param


def person_on(
    x,
    handle,
    evidence,
    network="mastodon",
    *,
    findable=True,
    followable=True,
    follows=False,
    uri="",
):
    made = assert_link(x, network, handle, uri, evidence=evidence, asserted_by="t", asserted_at=T0)
    set_consent(x, findable=findable, auto_followable=followable, auto_follow_arrivals=follows)
    return made


def test_counts_split_auto_and_review_by_trust(graph):
    migration = graph({"following": [1, 2, 3, 4], "mutes": [4]})
    person_on(1, "one@a.social", "roster")
    person_on(2, "two@a.social", "self")  # below the default threshold
    person_on(3, "three.bsky.social", "domain", network="bluesky", uri="did:plc:three")
    counts = match_migration(migration).counts()
    assert counts["following"] == {
        "mastodon": {"auto": 1, "review": 1},
        "bluesky": {"auto": 1, "review": 0},
    }
    assert counts["mutes"] == {
        "mastodon": {"auto": 0, "review": 0},
        "bluesky": {"auto": 0, "review": 0},
    }
    assert set(counts) == {"following", "followers", "blocks", "mutes"}
    assert count_matches(migration) == counts


def test_trust_threshold_is_the_persons_choice(graph):
    migration = graph({"following": [2]})
    person_on(2, "two@a.social", "self")
    assert match_migration(migration).counts()["following"]["mastodon"] == {"auto": 0, "review": 1}
    migration.trust_threshold = Evidence.SELF
    migration.save()
    assert match_migration(migration).counts()["following"]["mastodon"] == {"auto": 1, "review": 0}
    strict = match_migration(migration, trust="x_oauth").matches("following", "mastodon")
    assert [(m.auto, m.review) for m in strict] == [(False, "below_trust")]


def test_rows_carry_what_the_plan_needs(graph):
    migration = graph({"following": [5]})
    made = person_on(5, "five@a.social", "domain", uri="https://a.social/users/five")
    (match,) = match_migration(migration).matches("following", "mastodon")
    assert (match.x_id, match.handle, match.account_uri, match.link_id, match.auto) == (
        5,
        "five@a.social",
        "https://a.social/users/five",
        made.pk,
        True,
    )


def test_no_findable_consent_means_never_matched_for_others(graph):
    migration = graph({"following": [6], "blocks": [6]})
    person_on(6, "six@a.social", "x_oauth", findable=False)
    assert list(match_migration(migration)) == []
    XAccount.objects.create(id=77)
    assert_link(77, "mastodon", "nobody@a.social", evidence="x_oauth", asserted_by="t")
    graph({"following": [77]})
    assert list(match_migration(migration)) == []  # no consent row at all: not findable


def test_consents_are_separate(graph):
    migration = graph({"following": [1, 2], "followers": [1, 2], "blocks": [1]})
    person_on(1, "one@a.social", "x_oauth", followable=False, follows=True)
    person_on(2, "two@a.social", "x_oauth", followable=True, follows=False)
    result = match_migration(migration)
    following = {m.x_id: m.review for m in result.matches("following", "mastodon")}
    followers = {m.x_id: m.review for m in result.matches("followers", "mastodon")}
    blocks = {m.x_id: m.review for m in result.matches("blocks", "mastodon")}
    # Following someone (or following a follower back) needs their consent to be
    # followed automatically; following arrivals is their own choice, not ours.
    assert following == {1: "not_followable", 2: None}
    assert followers == {1: "not_followable", 2: None}
    assert blocks == {1: None}


def test_a_forged_claim_loses_to_stronger_evidence_and_is_shown(graph):
    migration = graph({"following": [7]})
    person_on(7, "impostor@evil.example", "self")
    person_on(7, "famous@news.example", "roster")
    result = match_migration(migration)
    assert [m.handle for m in result] == ["famous@news.example"]
    assert [(c.x_id, c.network, c.contenders, c.resolved) for c in result.conflicts] == [
        (7, "mastodon", 2, False)
    ]


def test_a_tie_is_only_ever_proposed_for_review(graph):
    migration = graph({"following": [8]})
    person_on(8, "one@a.social", "x_oauth")
    person_on(8, "two@a.social", "x_oauth")
    result = match_migration(migration)
    assert sorted((m.handle, m.auto, m.review) for m in result) == [
        ("one@a.social", False, "contested"),
        ("two@a.social", False, "contested"),
    ]


def test_gone_edges_are_not_matched(graph):
    migration = graph({"following": [9]})
    person_on(9, "nine@a.social", "roster")
    migration.edges.update(gone_at=T0)
    assert list(match_migration(migration)) == []


def test_reverse_lookup_finds_every_migration_containing_an_x_id(migration, graph):
    graph({"following": [42], "followers": [42]})
    other = Migration.objects.create(
        owner=User.objects.create(username="bob"),
        x_account=XAccount.objects.create(id=2000),
        generation=1,
    )
    write_edges(other.pk, Direction.FOLLOWING, [42, 43], 1, fresh=True)
    found = sorted(migrations_containing(42))
    assert found == sorted(
        [
            (migration.pk, Direction.FOLLOWING),
            (migration.pk, Direction.FOLLOWERS),
            (other.pk, Direction.FOLLOWING),
        ]
    )
    assert migrations_containing(42, direction=Direction.FOLLOWERS) == [
        (migration.pk, Direction.FOLLOWERS)
    ]
    assert migrations_containing(44) == []


def test_the_join_starts_from_the_smaller_side(graph):
    migration = graph({"followers": [1, 2, 3]})
    assert not graph_is_larger(migration, "identity_link")  # no counts: the edges first
    migration.counts = {"followers": 3, "following": 0}
    assert graph_is_larger(migration, "identity_link")  # an empty directory: links first
    person_on(1, "one@a.social", "roster")
    person_on(2, "two@a.social", "roster")
    person_on(3, "three@a.social", "roster")
    assert not graph_is_larger(migration, "identity_link")  # as many links as edges
    assert graph_is_larger(migration, "identity_link", Direction.FOLLOWERS) is False
    assert graph_is_larger(migration, "identity_link", Direction.FOLLOWING) is False


def test_arrivals_and_personal_figures_either_way(graph, migration):
    graph({"following": [1, 2, 4], "followers": [1, 3]})
    person_on(1, "one@a.social", "roster")
    person_on(2, "two.bsky.social", "domain", network="bluesky", uri="did:plc:two")
    person_on(3, "three@a.social", "roster", findable=False)
    person_on(5, "five@a.social", "roster")  # not in the graph
    # Arrivals count from the first import (a newer archive sent later hides no one).
    migration.created_at = migration.imported_at = datetime(2025, 1, 1, tzinfo=UTC)
    arrivals = later.arrivals_since(migration)
    assert sorted((a.handle, a.directions) for a in arrivals) == [
        ("one@a.social", ("followers", "following")),
        ("two.bsky.social", ("following",)),
    ]
    figures = stats.personal_stats(migration)
    assert (figures.following, figures.reachable) == (3, {"mastodon": 1, "bluesky": 1})
