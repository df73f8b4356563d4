"""Who of the person's X network arrived after their archive was imported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from hirondelle.identity.models import Link
from hirondelle.migration.models import Direction, Edge, Migration, PlanItem
from hirondelle.migration.services.matching import graph_is_larger

__all__ = ["Arrival", "arrivals_since"]


@dataclass(frozen=True)
class Arrival:
    network: str
    handle: str
    evidence: str
    asserted_at: datetime
    directions: tuple[str, ...]
    queued: bool  # a follow is planned or done on one of my accounts
    link_id: int = 0  # for the "Report" link


def arrivals_since(migration: Migration, *, limit: int = 500) -> list[Arrival]:
    """Consented links to people of my graph, newer than my last import, newest first."""
    since = migration.imported_at or migration.created_at
    graph = Edge.objects.filter(
        migration=migration,
        direction__in=[Direction.FOLLOWING, Direction.FOLLOWERS],
        gone_at=None,
    )
    # Start from the smaller side: a few new links probe the graph's edges;
    # a big directory is narrowed by the graph (see `graph_is_larger`).
    if graph_is_larger(migration, Link._meta.db_table):
        in_graph = Exists(graph.filter(x_account_id=OuterRef("x_account_id")))
    else:
        in_graph = Q(x_account_id__in=graph.values("x_account_id"))
    links = list(
        Link.objects.usable()
        .findable()
        .filter(in_graph, asserted_at__gt=since)
        .exclude(x_account_id=migration.x_account_id)
        .select_related("network_account")
        .order_by("-asserted_at")[:limit]
    )
    ids = [link.x_account_id for link in links]
    directions: dict[int, list[str]] = {}
    for x_id, direction in graph.filter(x_account_id__in=ids).values_list(
        "x_account_id", "direction"
    ):
        directions.setdefault(x_id, []).append(Direction(direction).key)
    queued = set(
        PlanItem.objects.filter(account__user=migration.owner, x_id__in=[str(i) for i in ids])
        .exclude(state=PlanItem.State.SKIPPED)
        .values_list("account__network", "x_id")
    )
    return [
        Arrival(
            network=link.network,
            handle=link.network_account.handle,
            evidence=link.get_evidence_display(),
            asserted_at=link.asserted_at,
            directions=tuple(sorted(directions.get(link.x_account_id, []))),
            queued=(link.network, str(link.x_account_id)) in queued,
            link_id=link.pk,
        )
        for link in links
    ]
