"""Which directory entries a person may report: only those the portal showed them.

The report page takes a link id from the address; answering only for links
of the person's own present graph (what their review and "since then"
pages list) keeps it from becoming an oracle for arbitrary link ids. The
one addition: links claiming an X account that X itself confirmed is the
person's own, since nobody is better placed to say they are false.
"""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q

from hirondelle.identity.models import Link
from hirondelle.migration.models import ConnectedAccount, Edge
from hirondelle.portal.services.current import current_migration
from hirondelle.portal.services.x_signin import proven_x_accounts

__all__ = ["claims_on_me", "reportable_link"]


def reportable_link(user, link_id: int, *, proven_x_ids: Collection[int] = ()) -> Link | None:
    """The link if this person's pages can show it, else None (the view answers 404).

    `proven_x_ids`: the person's proven X accounts (stored ids, from
    `portal.services.x_signin.proven_x_accounts`).
    """
    links = Link.objects.usable().select_related("network_account", "x_account")
    if proven_x_ids:
        own = links.filter(pk=link_id, x_account_id__in=list(proven_x_ids)).first()
        if own is not None:
            return own
    migration = current_migration(user)
    if migration is None:
        return None
    graph = Edge.objects.filter(migration=migration, gone_at=None).values("x_account_id")
    return (
        links.findable()
        .filter(pk=link_id, x_account_id__in=graph)
        .exclude(x_account_id=migration.x_account_id)
        .first()
    )


def claims_on_me(user, *, limit: int = 50) -> list[Link]:
    """Directory entries that say one of my proven X accounts is someone else's account.

    Only for X accounts X itself confirmed are mine; my own connected
    accounts are not listed. Each can be reported (and the report is flagged
    as coming from the proven owner).
    """
    proven = [x.id for x in proven_x_accounts(user)]
    if not proven:
        return []
    mine = Q(pk__in=[])
    for account in ConnectedAccount.objects.filter(user=user):
        mine |= Q(network=account.network, network_account__handle=account.handle.lower())
        if account.remote_id:
            mine |= Q(network=account.network, network_account__uri=account.remote_id)
    return list(
        Link.objects.usable()
        .filter(x_account_id__in=proven)
        .exclude(mine)
        .select_related("network_account", "x_account")
        .order_by("network", "network_account__handle")[:limit]
    )
