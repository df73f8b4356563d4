"""Claim e-mails (the PDS's password-reset e-mail), paced within the PDS's limits.

`com.atproto.server.requestPasswordReset` allows 15 requests an hour and 50 a
day per client address. Hirondelle asks from one address, so 600 officials
take eleven days unless the PDS operator sets PDS_RATE_LIMIT_BYPASS_KEY and
gives it to Hirondelle. Every ask is counted (`ResetEmail`), from the
background invitations and from the portal's claim page alike, and each
official is invited once: the time is saved before the PDS is asked, so a
run killed at any moment never sends a second invitation (an official whose
e-mail may not have left asks for a code again on the claim page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hirondelle.institutions.models import Institution, Official, ResetEmail, Server
from hirondelle.institutions.services import audit
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.networks.errors import NetworkError, RateLimited
from hirondelle.networks.institution.pds import (
    RESET_EMAILS_PER_DAY,
    RESET_EMAILS_PER_HOUR,
    PdsClient,
    reset_email_slots,
)

__all__ = [
    "InviteRound",
    "expected_duration",
    "invite_warning",
    "schedule",
    "send_due",
    "send_one",
    "take_slot",
    "to_invite",
]


@dataclass
class InviteRound:
    sent: int = 0
    left: int = 0
    #: when the next e-mail may go (None: nothing left, or no limit)
    next_at: datetime | None = None
    failed: int = 0


def _bypass(server: Server) -> bool:
    return bool(server.secret("bypass_key"))


def to_invite(institution: Institution):
    """Officials whose account is ready and who were never invited, oldest first."""
    return institution.officials.filter(
        bluesky_state=Official.Bluesky.CREATED, profile_written=True, invite_sent_at__isnull=True
    ).order_by("pk")


def _sent_recently(server: Server, now: datetime) -> list[datetime]:
    return list(
        ResetEmail.objects.filter(server=server, sent_at__gt=now - timedelta(days=1)).values_list(
            "sent_at", flat=True
        )
    )


def next_slot(server: Server, now: datetime | None = None) -> datetime:
    """When this server's PDS accepts the next reset e-mail from Hirondelle."""
    now = now or timezone.now()
    if _bypass(server):
        return now
    return reset_email_slots(1, _sent_recently(server, now), now)[0]


def expected_duration(institution: Institution, count: int | None = None) -> timedelta:
    """How long sending `count` (default: every pending) invitation takes at the PDS's pace."""
    server = institution.server(Server.Kind.PDS)
    if server is None:
        return timedelta(0)
    if count is None:
        count = to_invite(institution).count() + (
            institution.officials.filter(
                bluesky_state=Official.Bluesky.PENDING, existing_bluesky=""
            ).count()
        )
    if count == 0 or _bypass(server):
        return timedelta(0)
    now = timezone.now()
    return reset_email_slots(count, _sent_recently(server, now), now)[-1] - now


def _words(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return "less than an hour"
    if hours < 1.5:
        return "about an hour"
    if hours < 48:
        return f"about {round(hours)} hours"
    return f"about {round(hours / 24)} days"


def invite_warning(institution: Institution, count: int) -> str:
    """What the planner says before provisioning: how long the claim e-mails take."""
    server = institution.server(Server.Kind.PDS)
    if not count or server is None or _bypass(server):
        return ""
    duration = expected_duration(institution, count)
    return (
        f"{count} claim e-mails: the PDS sends {RESET_EMAILS_PER_HOUR} an hour and "
        f"{RESET_EMAILS_PER_DAY} a day from one address (requestPasswordReset), so they "
        f"take {_words(duration)}; Hirondelle sends them in the background at that pace "
        "(`hirondelle institution invite`). Set PDS_RATE_LIMIT_BYPASS_KEY on the PDS and "
        "give it to Hirondelle (--bypass-key) to send them all at once."
    )


def take_slot(
    server: Server, official: Official, *, now: datetime | None = None, first: bool = False
) -> bool | datetime:
    """Record one reset e-mail to `official` if the PDS accepts one now.

    True: recorded, ask the PDS. A datetime: the PDS accepts the next one then.
    False (with `first`): another worker invited this official meanwhile.
    Holding the server's row while counting and recording means two workers,
    or a worker and the claim page, never both take the last slot of the hour.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Server.objects.select_for_update().filter(pk=server.pk).exists()
        if first and Official.objects.filter(pk=official.pk, invite_sent_at__isnull=False).exists():
            return False
        at = next_slot(server, now)
        if at > now:
            return at
        ResetEmail.objects.create(server=server, official=official, sent_at=now)
        Official.objects.filter(pk=official.pk, invite_sent_at__isnull=True).update(
            invite_sent_at=now, updated_at=now
        )
    if official.invite_sent_at is None:
        official.invite_sent_at = now
    return True


def send_one(official: Official, pds: PdsClient, *, user=None) -> bool:
    """Ask the PDS for the reset e-mail whose slot `take_slot` recorded; False if refused."""
    try:
        pds.request_password_reset(official.email)
    except RateLimited:
        raise
    except NetworkError as exc:
        audit.record(official, f"claim e-mail refused by the PDS: {exc}", user=user)
        return False
    if official.bluesky_state == Official.Bluesky.CREATED:
        official.bluesky_state = Official.Bluesky.INVITED
        official.save(update_fields=["bluesky_state", "updated_at"])
    audit.record(official, "claim e-mail sent by the PDS", user=user)
    return True


def send_due(
    institution: Institution, *, user=None, transport=None, now: datetime | None = None
) -> InviteRound:
    """Send every invitation the PDS accepts now; say when the next one may go."""
    from hirondelle.institutions.services.bluesky import _server, pds_client

    server = _server(institution)
    result = InviteRound()
    with pds_client(server, transport=transport) as pds:
        for official in to_invite(institution):
            taken = take_slot(server, official, now=now, first=True)
            if taken is False:
                continue
            if not isinstance(taken, bool):
                result.next_at = taken
                break
            try:
                if send_one(official, pds, user=user):
                    result.sent += 1
                else:
                    result.failed += 1
            except RateLimited as exc:
                # Someone else on this address used the budget: wait as the PDS says.
                result.next_at = timezone.now() + timedelta(seconds=exc.retry_after or 3600)
                break
    result.left = to_invite(institution).count()
    if not result.left:
        result.next_at = None
    return result


def schedule(institution: Institution, at: datetime | None = None) -> bool:
    """Queue the background sender for `at` (now by default), at most once per server."""
    from hirondelle.institutions import tasks

    server = institution.server(Server.Kind.PDS)
    if server is None:
        raise InstitutionError(f"{institution.slug} has no PDS.")
    at = at or timezone.now()
    stale = timezone.now() - timedelta(hours=1)
    updated = (
        Server.objects.filter(pk=server.pk)
        .filter(
            Q(invites_wake_at__isnull=True)
            | Q(invites_wake_at__gt=at)
            | Q(invites_wake_at__lt=stale)
        )
        .update(invites_wake_at=at)
    )
    if updated:
        transaction.on_commit(
            lambda: tasks.send_invitations.using(run_after=at).enqueue(institution.pk)
        )
    return bool(updated)
