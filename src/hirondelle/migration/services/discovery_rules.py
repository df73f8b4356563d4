"""How discovery reads what it found: claims, evidence and preselection.

A thin layer between the network answers (`PublicProfile`) and the pure
rules of `hirondelle.discovery` (what counts as a claim, which candidate is
ticked in advance), so the service stays about fetching and recording.

Evidence, per X account and found account:
- `two_way`: the X display name names the account and the account names the
  X account back (bio, profile field or its own name), or a profile field
  whose link the Mastodon server verified names it;
- `profile_claim`: one side only names the other: the account claims the X
  account (anyone can write that), or the X display name names an account
  that says nothing back;
- `name_match`: the same username (first label of the handle) or the same
  display name, nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hirondelle.discovery import (
    NEW_ACCOUNT_AGE,
    CandidateFacts,
    addresses_in,
    looks_like_impostor,
    x_usernames_in,
    x_usernames_in_fields,
)
from hirondelle.discovery import preselect as preselect_rule
from hirondelle.identity.models import Evidence
from hirondelle.networks.search import PublicProfile, bridged_native

__all__ = [
    "NEW_ACCOUNT_AGE",
    "Decision",
    "XClaims",
    "bridged_native",
    "created_at",
    "evidence_for",
    "looks_like_impostor",
    "norm",
    "preselect",
    "relevant",
    "strength",
    "x_side_claims",
]


def norm(text: str) -> str:
    """Case, spaces and punctuation removed: ``Alice_B.`` and ``alice b`` agree."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def strength(evidence: str) -> int:
    try:
        return Evidence(evidence).strength
    except ValueError:
        return 0


@dataclass(frozen=True)
class XClaims:
    """Addresses the X display name itself gives (the X side's own claim)."""

    bluesky: tuple[str, ...] = ()
    fediverse: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        return self.bluesky + self.fediverse


def x_side_claims(display_name: str) -> XClaims:
    found = addresses_in(display_name or "")
    bluesky = tuple(dict.fromkeys(a.address for a in found if a.network == "bluesky"))
    fediverse = tuple(dict.fromkeys(a.address for a in found if a.network == "mastodon"))
    return XClaims(bluesky, fediverse)


@dataclass(frozen=True)
class Decision:
    evidence: str
    claim: dict = field(default_factory=dict)  # where the claim was read, for highlighting


def _profile_claim(profile: PublicProfile, username: str) -> tuple[dict | None, bool]:
    """(where the profile names the X account, whether a verified field does)."""
    key = username.lower()
    for claim in x_usernames_in(profile.description):
        if claim.key == key:
            return {"where": "description", "start": claim.start, "end": claim.end}, False
    for f in profile.fields:
        if any(c.key == key for c in x_usernames_in_fields([(f.name, f.value)])):
            return {"where": "field", "field": f.name, "verified": f.verified}, f.verified
    for claim in x_usernames_in(profile.display_name):
        if claim.key == key:
            return {"where": "display_name", "start": claim.start, "end": claim.end}, False
    return None, False


def _x_names(profile: PublicProfile, claims: XClaims, bridged_from: str = "") -> bool:
    """The X display name names this account (or the account it mirrors or is mirrored by)."""
    if profile.handle in claims.all or profile.account in claims.all:
        return True
    if bridged_from and bridged_from in claims.all:
        return True
    native = bridged_native(profile)
    return native is not None and native[1] in claims.all


def _same_name(named, profile: PublicProfile) -> bool:
    first = profile.handle.split("@", 1)[0].split(".", 1)[0]
    u = norm(named.username)
    display = norm(named.display_name or "")
    return bool(u) and (
        norm(first) == u or (bool(display) and norm(profile.display_name) == display)
    )


def relevant(named, profile: PublicProfile, claims: XClaims) -> bool:
    """Worth reading in full: it names the X account, is named by it, or has its name."""
    return (
        _x_names(profile, claims)
        or _same_name(named, profile)
        or _profile_claim(profile, named.username)[0] is not None
    )


def evidence_for(named, profile: PublicProfile, *, bridged_from: str = "") -> Decision | None:
    """two_way, profile_claim or name_match; None when it is nobody we looked for."""
    claims = x_side_claims(named.display_name)
    claim, verified = _profile_claim(profile, named.username)
    x_names = _x_names(profile, claims, bridged_from)
    if (claim and x_names) or verified:
        return Decision(Evidence.TWO_WAY.value, {**(claim or {}), "x_side": x_names})
    if claim:
        return Decision(Evidence.PROFILE_CLAIM.value, claim)
    if x_names:
        return Decision(Evidence.PROFILE_CLAIM.value, {"where": "x_display_name", "x_side": True})
    if _same_name(named, profile):
        return Decision(Evidence.NAME_MATCH.value, {})
    return None


def created_at(profile: PublicProfile | dict) -> datetime | None:
    """The account's creation date, as the network says, if readable."""
    value = profile.get("created_at") if isinstance(profile, dict) else profile.created_at
    try:
        when = datetime.fromisoformat(str(value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def preselect(found: Sequence[tuple[PublicProfile, Decision]], *, now: datetime) -> list[bool]:
    """The pure rule (`hirondelle.discovery.preselect`) over one X account's candidates."""
    facts = [
        CandidateFacts(p.network, d.evidence, posts=p.posts, created_at=created_at(p))
        for p, d in found
    ]
    return [choice.preselected for choice in preselect_rule(facts, now=now)]
