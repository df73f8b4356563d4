"""Which candidates review ticks in advance (pure rule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hirondelle.discovery import (
    NEW_ACCOUNT_AGE,
    CandidateFacts,
    Reason,
    looks_like_impostor,
    preselect,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=900)
NEW = NOW - timedelta(days=6)


def one(evidence, posts=None, created_at=None, network="bluesky"):
    (choice,) = preselect([CandidateFacts(network, evidence, posts, created_at)], now=NOW)
    return choice.preselected, choice.reason


def test_a_lone_two_way_candidate_is_ticked_whatever_its_age():
    assert one("two_way", 0, NEW) == (True, Reason.TWO_WAY)


def test_a_lone_claim_is_ticked_only_from_an_account_with_a_past():
    assert one("profile_claim", 120, OLD) == (True, Reason.CLAIM_WITH_HISTORY)
    assert one("profile_claim", 0, OLD) == (False, Reason.CLAIM_NO_HISTORY)
    assert one("profile_claim", 120, NEW) == (False, Reason.CLAIM_NO_HISTORY)
    assert one("profile_claim", None, OLD) == (False, Reason.CLAIM_NO_HISTORY)
    assert one("profile_claim", 5, None) == (False, Reason.CLAIM_NO_HISTORY)
    edge = NOW - NEW_ACCOUNT_AGE
    assert one("profile_claim", 1, edge)[0]
    assert not one("profile_claim", 1, edge + timedelta(seconds=1))[0]


def test_a_name_match_is_never_ticked():
    assert one("name_match", 10_000, OLD) == (False, Reason.NAME_ONLY)


def test_two_candidates_on_one_network_are_both_left_to_the_person():
    owner = CandidateFacts("bluesky", "two_way", 500, OLD)
    impostor = CandidateFacts("bluesky", "profile_claim", 0, NEW)
    assert [c.reason for c in preselect([owner, impostor], now=NOW)] == [
        Reason.SEVERAL,
        Reason.SEVERAL,
    ]
    rival = CandidateFacts("bluesky", "profile_claim", 900, OLD)  # a claim with a history
    assert [c.preselected for c in preselect([rival, impostor], now=NOW)] == [False, False]


def test_a_stranger_with_the_same_name_does_not_hide_the_owner():
    owner = CandidateFacts("bluesky", "two_way", 500, OLD)
    stranger = CandidateFacts("bluesky", "name_match", 10, OLD)
    assert [(c.preselected, c.reason) for c in preselect([owner, stranger], now=NOW)] == [
        (True, Reason.TWO_WAY),
        (False, Reason.NAME_ONLY),
    ]


def test_one_candidate_per_network_do_not_compete():
    both = preselect(
        [
            CandidateFacts("bluesky", "two_way"),
            CandidateFacts("mastodon", "profile_claim", 40, OLD),
        ],
        now=NOW,
    )
    assert [c.preselected for c in both] == [True, True]


def test_only_discovery_evidence_is_accepted():
    with pytest.raises(ValueError, match="two_way, profile_claim, name_match"):
        preselect([CandidateFacts("bluesky", "domain")], now=NOW)


def test_the_impostor_signature_is_a_new_empty_account():
    assert looks_like_impostor(posts=0, created_at=NEW, now=NOW)
    assert not looks_like_impostor(posts=3, created_at=NEW, now=NOW)
    assert not looks_like_impostor(posts=0, created_at=OLD, now=NOW)
    assert not looks_like_impostor(posts=None, created_at=NEW, now=NOW)
    assert not looks_like_impostor(posts=0, created_at=None, now=NOW)


_FACTS = st.builds(
    CandidateFacts,
    network=st.sampled_from(["bluesky", "mastodon"]),
    evidence=st.sampled_from(["two_way", "profile_claim", "name_match"]),
    posts=st.none() | st.integers(0, 10_000),
    created_at=st.none() | st.datetimes(timezones=st.just(UTC)),
)


@given(st.lists(_FACTS, max_size=6))
def test_no_impostor_or_name_is_ever_ticked_and_competitors_never_are(candidates):
    choices = preselect(candidates, now=NOW)
    assert len(choices) == len(candidates)
    for facts, choice in zip(candidates, choices, strict=True):
        competing = (
            sum(1 for c in candidates if c.network == facts.network and c.evidence != "name_match")
            > 1
        )
        if choice.preselected:
            assert not competing
            assert facts.evidence != "name_match"
            if facts.evidence == "profile_claim":
                assert not looks_like_impostor(
                    posts=facts.posts, created_at=facts.created_at, now=NOW
                )
                assert facts.posts
                assert facts.created_at <= NOW - NEW_ACCOUNT_AGE
