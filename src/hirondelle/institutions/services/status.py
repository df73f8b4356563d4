"""Where an institution stands: per-official states and the counts the pages show."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hirondelle.institutions.models import Institution, Official

__all__ = ["InstitutionStatus", "fediverse_step", "status"]


@dataclass(frozen=True)
class InstitutionStatus:
    total: int
    bluesky: Counter
    fediverse: Counter
    on_bluesky: int
    on_fediverse: int
    bluesky_verified: int
    relme_verified: int
    history_imported: int
    arrived: int
    #: registered on the institution's server, not yet approved by its admin
    fedi_awaiting_approval: int = 0
    #: approved; the profile waits for the official to confirm their e-mail
    fedi_awaiting_email: int = 0
    #: full-name handles: in use, waiting (with the reason saved per official)
    full_name_handles: int = 0
    full_name_waiting: int = 0
    #: claim e-mails: sent, still to send, and interrupted runs that may not have sent
    invited: int = 0
    to_invite: int = 0
    invite_uncertain: int = 0
    #: verification as the AppView last showed it: valid / invalid / none
    appview: Counter | None = None


def status(institution: Institution) -> InstitutionStatus:
    officials = list(institution.officials.all())
    bluesky = Counter(o.bluesky_state for o in officials)
    fediverse = Counter(o.fediverse_state for o in officials)
    arrived_states = {Official.Bluesky.CLAIMED, Official.Bluesky.ADOPTED}
    fedi_arrived = {Official.Fediverse.CLAIMED, Official.Fediverse.ADOPTED}
    return InstitutionStatus(
        total=len(officials),
        bluesky=bluesky,
        fediverse=fediverse,
        on_bluesky=sum(1 for o in officials if o.bluesky_did),
        on_fediverse=sum(1 for o in officials if o.fediverse_url),
        bluesky_verified=sum(1 for o in officials if o.bluesky_verified),
        relme_verified=sum(1 for o in officials if o.relme_verified),
        history_imported=sum(1 for o in officials if o.history_imported_at),
        arrived=sum(
            1
            for o in officials
            if o.bluesky_state in arrived_states or o.fediverse_state in fedi_arrived
        ),
        fedi_awaiting_approval=fediverse[Official.Fediverse.REGISTERED],
        fedi_awaiting_email=sum(
            1
            for o in officials
            if o.fediverse_state == Official.Fediverse.APPROVED and not o.relme_set
        ),
        full_name_handles=sum(1 for o in officials if o.second_handle_at),
        full_name_waiting=sum(
            1 for o in officials if o.second_handle and o.bluesky_did and not o.second_handle_at
        ),
        invited=sum(1 for o in officials if o.invite_sent_at),
        to_invite=sum(
            1
            for o in officials
            if o.bluesky_state == Official.Bluesky.CREATED and not o.invite_sent_at
        ),
        invite_uncertain=sum(
            1 for o in officials if o.invite_sent_at and o.bluesky_state == Official.Bluesky.CREATED
        ),
        appview=Counter(o.appview_verification for o in officials if o.appview_verification),
    )


def fediverse_step(official: Official) -> str:
    """Where an official's fediverse account stands, in words (for `institution status`)."""
    F = Official.Fediverse
    return {
        F.PENDING: "to register",
        F.REGISTERED: "awaiting approval",
        F.APPROVED: "approved, awaiting e-mail confirmation",
        F.CLAIMED: "claimed",
        F.ADOPTED: "adopted",
    }.get(official.fediverse_state, official.fediverse_state)
