"""Which discovery candidates review ticks in advance: one pure rule, one place.

Discovery proposes; the person decides. A tick in advance is a bet that the
person would agree without reading, so it is placed only where an impostor
would have to fool both sides:

- a `two_way` candidate (the X side names the account and the account names
  the X account back);
- a `profile_claim` candidate whose account has a real history: it has posts
  and was not created in the last few weeks (`NEW_ACCOUNT_AGE`). An impostor's
  signature is the opposite: a week-old account with a claim and no posts;
- never a `name_match`;
- and never when two or more candidates *claiming* one X account compete on
  one network: both are shown, the person chooses. A `name_match` claims
  nothing (a stranger who shares a name), so it competes with no one: it
  never stops the real owner's `two_way` from being ticked.

Candidates on different networks do not compete: the same person often has a
Bluesky and a Mastodon account, and each network gets its own follow.

The evidence names are the values of `hirondelle.identity.models.Evidence`
(this package imports no Django; a test checks the names agree).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "DISCOVERY_EVIDENCE",
    "NEW_ACCOUNT_AGE",
    "CandidateFacts",
    "Choice",
    "Reason",
    "looks_like_impostor",
    "preselect",
]

#: Evidence kinds discovery produces, strongest first (same order as `Evidence`).
DISCOVERY_EVIDENCE = ("two_way", "profile_claim", "name_match")

#: Younger accounts have no "real history", whatever their bio says.
NEW_ACCOUNT_AGE = timedelta(days=28)


@dataclass(frozen=True, slots=True)
class CandidateFacts:
    """What the rule reads about one candidate account for one X account.

    `posts` and `created_at` are what the network says about the account;
    None when unknown (unknown never counts as a real history).
    """

    network: str
    evidence: str
    posts: int | None = None
    created_at: datetime | None = None


class Reason(StrEnum):
    """Why a candidate is or is not ticked in advance (for the page's wording)."""

    TWO_WAY = "two_way"  # ticked: both sides name each other
    CLAIM_WITH_HISTORY = "claim_with_history"  # ticked: lone claim, account with a past
    CLAIM_NO_HISTORY = "claim_no_history"  # not ticked: new or empty account
    NAME_ONLY = "name_only"  # not ticked: a name proves nothing
    SEVERAL = "several"  # not ticked: another candidate competes on this network


@dataclass(frozen=True, slots=True)
class Choice:
    preselected: bool
    reason: Reason


def _has_history(facts: CandidateFacts, now: datetime) -> bool:
    return (
        facts.posts is not None
        and facts.posts > 0
        and facts.created_at is not None
        and facts.created_at <= now - NEW_ACCOUNT_AGE
    )


def looks_like_impostor(*, posts: int | None, created_at: datetime | None, now: datetime) -> bool:
    """A recent account with no posts: what an impostor's claim looks like.

    Review says so next to such a candidate. Unknown facts are no evidence
    either way (False).
    """
    recent = created_at is not None and created_at > now - NEW_ACCOUNT_AGE
    return recent and posts is not None and posts == 0


def preselect(candidates: Sequence[CandidateFacts], *, now: datetime) -> list[Choice]:
    """The choice for each candidate of ONE X account, in the same order.

    Raises ValueError for an evidence kind discovery does not produce: a
    stronger link (domain, roster…) is matching's business, not a candidate.
    """
    for c in candidates:
        if c.evidence not in DISCOVERY_EVIDENCE:
            raise ValueError(
                f"{c.evidence!r} is not discovery evidence: use one of "
                + ", ".join(DISCOVERY_EVIDENCE)
            )
    per_network = Counter(c.network for c in candidates if c.evidence != "name_match")
    out: list[Choice] = []
    for c in candidates:
        if c.evidence == "name_match":
            out.append(Choice(False, Reason.NAME_ONLY))
        elif per_network[c.network] > 1:
            out.append(Choice(False, Reason.SEVERAL))
        elif c.evidence == "two_way":
            out.append(Choice(True, Reason.TWO_WAY))
        elif _has_history(c, now):
            out.append(Choice(True, Reason.CLAIM_WITH_HISTORY))
        else:
            out.append(Choice(False, Reason.CLAIM_NO_HISTORY))
    return out
