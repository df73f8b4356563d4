""" "Follow all of them": a person follows a whole roster, in the background, exactly once.

Each official becomes one follow item on the person's connected account,
keyed the way planning keys a follow of the same account, so a follow the
person's own archive already planned is not planned twice. The ordinary
runner then carries them out within the network's budgets.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hirondelle.institutions.models import Institution, Official, RosterFollow
from hirondelle.institutions.services import audit
from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services.keys import item_key
from hirondelle.migration.tasks import schedule
from hirondelle.networks.base import ActionKind, Network

__all__ = ["follow_roster", "targets"]


def targets(institution: Institution, network: str) -> list[tuple[Official, str, str]]:
    """(official, target id, handle) for everyone reachable on `network`."""
    found = []
    for o in institution.officials.order_by("name", "pk"):
        if network == Network.BLUESKY and o.bluesky_did:
            found.append((o, o.bluesky_did, o.bluesky_handle))
        elif (
            network == Network.MASTODON
            and o.fediverse_address
            and o.fediverse_state
            in (
                Official.Fediverse.APPROVED,
                Official.Fediverse.CLAIMED,
                Official.Fediverse.ADOPTED,
            )
        ):
            found.append((o, "", o.fediverse_address))
    return found


def follow_roster(institution: Institution, account: ConnectedAccount) -> int:
    """Queue a follow of every official on this account; returns how many were new."""
    now = timezone.now()
    items = [
        PlanItem(
            account=account,
            kind=ActionKind.FOLLOW,
            origin=PlanItem.Origin.ARCHIVE,
            x_id=str(o.x_id_value),
            target_id=target_id,
            target_handle=handle,
            key=item_key(account.pk, ActionKind.FOLLOW, target_id or handle),
            next_attempt_at=now,
        )
        for o, target_id, handle in targets(institution, account.network)
        if o.bluesky_did != account.remote_id
    ]
    with transaction.atomic():
        before = PlanItem.objects.filter(account=account, kind=ActionKind.FOLLOW).count()
        PlanItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
        added = PlanItem.objects.filter(account=account, kind=ActionKind.FOLLOW).count() - before
        row, _ = RosterFollow.objects.get_or_create(
            institution=institution, user=account.user, network=account.network
        )
        row.queued += added
        row.save(update_fields=["queued"])
        audit.record(
            institution, f"follow-all: {added} follows queued for {account}", user=account.user
        )
    if added:
        schedule(account)
    return added
