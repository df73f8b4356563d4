"""Reconnect people as others arrive, in the background, both ways.

When a link becomes current (someone new is found on a network), everyone
whose X graph says they follow that X account, and who chose to follow
arrivals automatically, gets a follow queued on their connected account for
that network, provided the arriving person agreed to be followed
automatically and the link is at or above that person's trust threshold.
Nobody has to keep a page open. The other direction (the newcomer following
people already here) is the newcomer's own plan.
"""

from __future__ import annotations

from django.utils import timezone

from hirondelle.identity.models import Evidence, Link
from hirondelle.migration.models import ConnectedAccount, Direction, Migration, PlanItem
from hirondelle.migration.services.keys import item_key
from hirondelle.networks.base import ActionKind

__all__ = ["queue_arrival"]


def queue_arrival(link: Link) -> list[ConnectedAccount]:
    """Queue follows of this newly current link; returns the accounts to wake."""
    if link.state != Link.State.CURRENT:
        return []
    consent = getattr(link.x_account, "consent", None)
    if consent is None or not (consent.findable and consent.auto_followable):
        return []
    strength = Evidence(link.evidence).strength
    followers = (
        Migration.objects.filter(
            edges__x_account_id=link.x_account_id,
            edges__direction=Direction.FOLLOWING,
            edges__gone_at__isnull=True,
            x_account__consent__auto_follow_arrivals=True,
        )
        .exclude(x_account_id=link.x_account_id)
        .select_related("owner")
    )
    target = link.network_account
    now = timezone.now()
    items, accounts = [], []
    for migration in followers:
        if Evidence(migration.trust_threshold).strength > strength:
            continue
        for account in ConnectedAccount.objects.filter(
            user=migration.owner, network=link.network, status=ConnectedAccount.Status.ACTIVE
        ):
            accounts.append(account)
            items.append(
                PlanItem(
                    account=account,
                    kind=ActionKind.FOLLOW,
                    origin=PlanItem.Origin.ARRIVAL,
                    x_id=str(link.x_account_id),
                    target_id=target.uri,
                    target_handle=target.handle,
                    key=item_key(account.pk, ActionKind.FOLLOW, target.uri or target.handle),
                    next_attempt_at=now,
                )
            )
    PlanItem.objects.bulk_create(items, ignore_conflicts=True)
    return accounts
