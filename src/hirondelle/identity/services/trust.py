"""Deciding whether a matched link may be acted on without the person looking.

Pure decisions over values the matcher already fetched, so the rule lives in
one place for the command line, the portal and the arrival queue.
"""

from __future__ import annotations

from enum import StrEnum

from hirondelle.identity.models import Evidence, Link

__all__ = ["Review", "decide"]


class Review(StrEnum):
    """Why a match is proposed for review instead of acted on."""

    BELOW_TRUST = "below_trust"  # evidence weaker than the person's threshold
    CONTESTED = "contested"  # tied with another link for the same X account
    NOT_FOLLOWABLE = "not_followable"  # they did not agree to be followed automatically
    #: They did not agree to follow arrivals automatically. Not produced by
    #: `decide` (that is the arrival queue's concern); kept for the pages' wording.
    NO_AUTO_FOLLOW = "no_auto_follow"


def decide(
    *,
    strength: int,
    state: str,
    threshold: Evidence,
    direction: str,
    auto_followable: bool,
    auto_follow_arrivals: bool,
) -> Review | None:
    """None when the match may be acted on automatically, else the reason to review it.

    `direction` is the migration's view. "following" and "followers" both
    become follows of that person (the plan follows followers back only when
    asked), so both need their consent to be followed automatically;
    "blocks" and "mutes" need no consent. Whether *they* follow arrivals
    automatically (`auto_follow_arrivals`) is their own plan's business: the
    arrival queue reads it, not this decision.
    """
    del auto_follow_arrivals  # part of the signature so callers pass every consent
    if state == Link.State.CONTESTED:
        return Review.CONTESTED
    if strength < threshold.strength:
        return Review.BELOW_TRUST
    if direction in ("following", "followers") and not auto_followable:
        return Review.NOT_FOLLOWABLE
    return None
