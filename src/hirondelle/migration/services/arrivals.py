"""Reconnect people as others arrive, in the background, both ways.

When the directory changes (a new link, a stronger one, a new consent), the
people whose X graph says they follow one of those X accounts, and who chose
to follow arrivals automatically, get a follow queued on their connected
account for that network, provided the arriving person agreed to be followed
automatically and the link is at or above the follower's trust threshold.
Nobody has to keep a page open. The other direction (the newcomer following
people already here) is the newcomer's own plan.

One indexed range per changed X account (`edge_reverse`), and the plan
items' keys make noticing the same arrival twice harmless.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from hirondelle.identity.models import Evidence, Link
from hirondelle.migration.models import ConnectedAccount, Direction, Edge, Migration, PlanItem
from hirondelle.migration.services.keys import item_key
from hirondelle.networks.base import ActionKind

__all__ = ["queue_arrival", "queue_arrivals"]


def queue_arrivals(x_ids: Iterable[int]) -> list[ConnectedAccount]:
    """Queue the follows these X accounts' current links call for.

    Returns the connected accounts that got new work (to be woken up).
    """
    links = list(
        Link.objects.filter(
            x_account_id__in=list(x_ids),
            state=Link.State.CURRENT,
            x_account__consent__findable=True,
            x_account__consent__auto_followable=True,
        ).select_related("network_account")
    )
    if not links:
        return []
    by_x: dict[int, list[Link]] = {}
    for link in links:
        by_x.setdefault(link.x_account_id, []).append(link)
    edges = Edge.objects.filter(
        x_account_id__in=list(by_x),
        direction=Direction.FOLLOWING,
        gone_at__isnull=True,
        migration__x_account__consent__auto_follow_arrivals=True,
    ).values_list("migration_id", "x_account_id")
    followers: dict[int, list[int]] = {}
    for migration_id, x_id in edges:
        followers.setdefault(migration_id, []).append(x_id)
    if not followers:
        return []
    migrations = Migration.objects.in_bulk(list(followers))
    accounts_by_user: dict[int, list[ConnectedAccount]] = {}
    for account in ConnectedAccount.objects.filter(
        user_id__in={m.owner_id for m in migrations.values()},
        status=ConnectedAccount.Status.ACTIVE,
    ):
        accounts_by_user.setdefault(account.user_id, []).append(account)
    now = timezone.now()
    items, woken = [], {}
    for migration_id, x_ids_followed in followers.items():
        migration = migrations[migration_id]
        threshold = Evidence(migration.trust_threshold).strength
        for x_id in x_ids_followed:
            if x_id == migration.x_account_id:
                continue
            for link in by_x[x_id]:
                if link.strength < threshold:
                    continue
                target = link.network_account
                for account in accounts_by_user.get(migration.owner_id, []):
                    if account.network != link.network:
                        continue
                    woken[account.pk] = account
                    items.append(
                        PlanItem(
                            account=account,
                            kind=ActionKind.FOLLOW,
                            origin=PlanItem.Origin.ARRIVAL,
                            x_id=str(link.x_account_id),
                            target_id=target.uri,
                            target_handle=target.handle,
                            key=item_key(
                                account.pk, ActionKind.FOLLOW, target.uri or target.handle
                            ),
                            next_attempt_at=now,
                        )
                    )
    PlanItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
    return list(woken.values())


def queue_arrival(link: Link) -> list[ConnectedAccount]:
    """The same for one link (the admin and tests)."""
    return queue_arrivals([link.x_account_id]) if link.state == Link.State.CURRENT else []
