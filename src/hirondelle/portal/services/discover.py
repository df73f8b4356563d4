"""The discovery step of the page: its consent, its progress, and what it found
shown as people (the X side as the archive knew it, and each candidate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from hirondelle.identity.models import NetworkAccount
from hirondelle.migration.models import CandidateFace, DiscoveryCandidate, Migration
from hirondelle.migration.services import discovery
from hirondelle.migration.services.candidate_faces import directory_faces, want_candidate_faces
from hirondelle.migration.services.discovery_rules import created_at, looks_like_impostor
from hirondelle.migration.services.faces import want_faces
from hirondelle.networks.faces import clean_display_name
from hirondelle.portal.services.faces import Face, face_of

NO_FACE = Face()

__all__ = ["CandidateCard", "PersonFound", "people_found", "start"]


@dataclass
class CandidateCard:
    """One candidate as the page shows it."""

    row: DiscoveryCandidate
    bio_before: str = ""
    bio_claim: str = ""
    bio_after: str = ""
    created: datetime | None = None
    warn_new: bool = False  # young, claims the X account, has never posted
    #: profile fields (Mastodon): name, value, verified by their server, is the claim
    fields: list[tuple[str, str, bool, bool]] = field(default_factory=list)
    #: the avatar served by this site (the directory's, or this person's own
    #: copy); never the profile's own URL (a visitor's browser loads nothing remote)
    face: Face = NO_FACE

    @property
    def profile(self) -> dict:
        return self.row.profile or {}

    @property
    def name(self) -> str:
        """The display name as read, filtered like the directory's (no bidi overrides)."""
        return clean_display_name(self.profile.get("display_name"))


@dataclass
class PersonFound:
    x_id: int
    x_username: str
    x_display_name: str
    x_seen_in: str
    candidates: list[CandidateCard] = field(default_factory=list)

    @property
    def contested(self) -> bool:
        claims = [c for c in self.candidates if c.row.evidence in ("two_way", "profile_claim")]
        return len({(c.row.network, c.row.account) for c in claims}) > 1

    @property
    def seen_url(self) -> str:
        if not self.x_seen_in.isdigit():
            return ""
        return f"https://x.com/{self.x_username or 'i'}/status/{self.x_seen_in}"


def _card(row: DiscoveryCandidate, now: datetime) -> CandidateCard:
    profile = row.profile or {}
    card = CandidateCard(row)
    bio = str(profile.get("description") or "")
    claim = profile.get("claim") or {}
    start, end = claim.get("start"), claim.get("end")
    if (
        claim.get("where") == "description"
        and isinstance(start, int)
        and isinstance(end, int)
        and 0 <= start < end <= len(bio)
    ):
        card.bio_before, card.bio_claim, card.bio_after = bio[:start], bio[start:end], bio[end:]
    else:
        card.bio_before = bio
    claimed_field = claim.get("field") if claim.get("where") == "field" else None
    for f in profile.get("fields") or ():
        if isinstance(f, dict):
            name, value = str(f.get("name") or ""), str(f.get("value") or "")
            card.fields.append((name, value, bool(f.get("verified")), name == claimed_field))
    card.created = created_at(profile)
    posts = profile.get("posts")
    card.warn_new = row.evidence in ("two_way", "profile_claim") and looks_like_impostor(
        posts=posts if isinstance(posts, int) else None, created_at=card.created, now=now
    )
    return card


def people_found(migration: Migration) -> list[PersonFound]:
    """Candidates grouped by X account, strongest evidence first."""
    now = timezone.now()
    people: dict[int, PersonFound] = {}
    for row in discovery.candidates_for(migration):
        person = people.setdefault(
            row.x_account_id,
            PersonFound(row.x_account_id, row.x_username, row.x_display_name, row.x_seen_in),
        )
        person.candidates.append(_card(row, now))
    _faces(migration, [c for p in people.values() for c in p.candidates])
    return list(people.values())


def _faces(migration: Migration, cards: list[CandidateCard]) -> None:
    """The face of each proposal: the directory's when it holds the account
    with a stored picture (one query per network), else this person's own
    copy (`CandidateFace`, one query), else the initial while a worker fetches
    it. Missing pictures are asked for in the background; nothing is sent here.

    A proposal that is only this person's is never added to the shared
    directory to get one: its picture belongs to their migration."""
    known: dict[tuple[str, str], NetworkAccount] = {}
    for network in ("bluesky", "mastodon"):
        uris = {c.row.account for c in cards if c.row.network == network}
        for uri, found in directory_faces(network, uris).items():
            known[(network, uri)] = found
    want_faces(known.values())
    own = {
        (f.network, f.account): f
        for f in CandidateFace.objects.filter(
            migration=migration, state=CandidateFace.State.STORED
        ).only("id", "network", "account", "digest")
    }
    for card in cards:
        key = (card.row.network, card.row.account)
        account = known.get(key)
        if account is not None:
            card.face = face_of(account)
        if not card.face.avatar and key in own:
            face = own[key]
            url = reverse("portal:proposal_avatar", args=[face.pk, face.digest])
            card.face = Face(name=card.face.name, avatar=url)
    want_candidate_faces(migration, (c.row for c in cards if not c.face.avatar), known=known)


def start(migration: Migration, *, consent: bool) -> None:
    """The person said yes: record it and hand the search to a worker."""
    discovery.start_discovery(migration, consent=consent)
    discovery.queue_discovery(migration)
