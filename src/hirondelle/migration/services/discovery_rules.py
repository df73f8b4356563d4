"""How discovery reads what it found: claims, evidence and preselection.

A thin layer between the network answers (`PublicProfile`) and the pure
claim rules, so the service stays about fetching and recording. The rules
themselves (what counts as a claim, what each evidence proves, which
candidate may be ticked in advance) are pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hirondelle.networks.search import PublicProfile, bridged_native

__all__ = [
    "Decision",
    "XClaims",
    "bridged_native",
    "evidence_for",
    "norm",
    "preselect",
    "relevant",
    "strength",
    "x_side_claims",
]

#: an account younger than this, with a claim and no posts, is an impostor's signature
NEW_ACCOUNT = timedelta(weeks=4)
_STRENGTH = {"two_way": 3, "profile_claim": 2, "name_match": 1}

_FEDI = re.compile(r"@?\b([a-z0-9_]{1,64})@((?:[a-z0-9-]{1,63}\.)+[a-z]{2,63})\b", re.IGNORECASE)
_BSKY_LINK = re.compile(r"bsky\.app/profile/((?:[a-z0-9-]{1,63}\.)+[a-z]{2,63})", re.IGNORECASE)
_BSKY_HANDLE = re.compile(
    r"(?<![@\w.])((?:[a-z0-9-]{1,63}\.)+(?:bsky\.social|[a-z]{2,63}))\b", re.IGNORECASE
)
_FEDI_LINK = re.compile(
    r"https?://((?:[a-z0-9-]{1,63}\.)+[a-z]{2,63})/@([a-z0-9_]{1,64})\b", re.IGNORECASE
)


def norm(text: str) -> str:
    """Case, spaces and punctuation removed: ``Alice_B.`` and ``alice b`` agree."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def strength(evidence: str) -> int:
    return _STRENGTH.get(evidence, 0)


@dataclass(frozen=True)
class XClaims:
    """Addresses the X display name itself gives (the X side's own claim)."""

    bluesky: tuple[str, ...] = ()
    fediverse: tuple[str, ...] = ()


def x_side_claims(display_name: str) -> XClaims:
    text = display_name or ""
    fediverse = [f"{u}@{h}".lower() for u, h in _FEDI.findall(text)]
    fediverse += [f"{u}@{h}".lower() for h, u in _FEDI_LINK.findall(text)]
    rest = _FEDI.sub(" ", _FEDI_LINK.sub(" ", text))
    bluesky = [h.lower() for h in _BSKY_LINK.findall(rest)]
    rest = _BSKY_LINK.sub(" ", rest)
    if "🦋" in text or "bsky" in text.casefold():
        bluesky += [h.lower() for h in _BSKY_HANDLE.findall(rest)]
    else:
        bluesky += [
            h.lower() for h in _BSKY_HANDLE.findall(rest) if h.lower().endswith(".bsky.social")
        ]
    return XClaims(tuple(dict.fromkeys(bluesky)), tuple(dict.fromkeys(fediverse)))


def _claim_patterns(username: str) -> list[re.Pattern[str]]:
    u = re.escape(username)
    return [
        re.compile(rf"(?:https?://)?(?:www\.|mobile\.)?(?:x|twitter)\.com/@?{u}\b", re.IGNORECASE),
        re.compile(
            rf"@{u}\b[^\n]{{0,20}}\b(?:on|sur)\s+(?:x|twitter)\b|(?:x|twitter)\s*[:：]\s*@?{u}\b",
            re.IGNORECASE,
        ),
    ]


def _claim_in(text: str, username: str) -> tuple[int, int] | None:
    for pattern in _claim_patterns(username):
        m = pattern.search(text or "")
        if m:
            return m.start(), m.end()
    return None


@dataclass(frozen=True)
class Decision:
    evidence: str
    claim: dict = field(default_factory=dict)  # where the claim was read, for highlighting


def _profile_claim(profile: PublicProfile, username: str) -> tuple[dict | None, bool]:
    """(where the profile names the X account, whether a verified field does)."""
    span = _claim_in(profile.description, username)
    if span:
        return {"where": "description", "start": span[0], "end": span[1]}, False
    for f in profile.fields:
        span = _claim_in(f"{f.name}: {f.value}", username) or _claim_in(f.value, username)
        if span:
            return {"where": "field", "field": f.name, "verified": f.verified}, f.verified
    span = _claim_in(profile.display_name, username)
    if span:
        return {"where": "display_name", "start": span[0], "end": span[1]}, False
    return None, False


def _x_names(profile: PublicProfile, claims: XClaims, bridged_from: str = "") -> bool:
    names = claims.bluesky if profile.network == "bluesky" else claims.fediverse
    if profile.handle in names or (
        bridged_from and bridged_from in claims.bluesky + claims.fediverse
    ):
        return True
    native = bridged_native(profile)
    return native is not None and native[1] in claims.bluesky + claims.fediverse


def _same_name(named, profile: PublicProfile) -> bool:
    first = profile.handle.split("@", 1)[0].split(".", 1)[0]
    u = norm(named.username)
    return bool(u) and (
        norm(first) == u
        or (bool(named.display_name) and norm(profile.display_name) == norm(named.display_name))
    )


def relevant(named, profile: PublicProfile, claims: XClaims) -> bool:
    """Worth a closer look: it names the X account, is named by it, or has its name."""
    return (
        _claim_in(profile.description, named.username) is not None
        or _x_names(profile, claims)
        or _same_name(named, profile)
        or any(_claim_in(f.value, named.username) for f in profile.fields)
    )


def evidence_for(named, profile: PublicProfile, *, bridged_from: str = "") -> Decision | None:
    """two_way, profile_claim or name_match; None when it is nobody we looked for."""
    claims = x_side_claims(named.display_name)
    claim, verified = _profile_claim(profile, named.username)
    x_names = _x_names(profile, claims, bridged_from)
    if (claim and x_names) or verified:
        return Decision("two_way", {**(claim or {}), "x_side": x_names})
    if claim:
        return Decision("profile_claim", claim)
    if x_names:
        return Decision("profile_claim", {"where": "x_display_name", "x_side": True})
    if _same_name(named, profile):
        return Decision("name_match", {})
    return None


def _created(profile: PublicProfile) -> datetime | None:
    try:
        when = datetime.fromisoformat(profile.created_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def has_history(profile: PublicProfile, now: datetime) -> bool:
    created = _created(profile)
    return bool(profile.posts) and created is not None and now - created >= NEW_ACCOUNT


def preselect(found: Sequence[tuple[PublicProfile, Decision]], *, now: datetime) -> list[bool]:
    """Tick in advance only a two_way candidate, or a lone profile_claim from an
    account with a real history; never a name_match; two claimants: neither."""
    claimants = [d for _, d in found if d.evidence in ("two_way", "profile_claim")]
    if len(claimants) != 1:
        return [False] * len(found)
    return [
        d.evidence == "two_way" or (d.evidence == "profile_claim" and has_history(p, now))
        for p, d in found
    ]
