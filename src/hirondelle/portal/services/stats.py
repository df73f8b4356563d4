"""Figures for the statistics page: the person's own, and the site's, without names.

Public figures are counts only; nothing here returns who anyone is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, Min, OuterRef, Q

from hirondelle.identity.models import Consent, Link
from hirondelle.migration.models import Direction, Edge, Migration, PlanItem
from hirondelle.migration.services.matching import NETWORKS, graph_is_larger
from hirondelle.networks.base import ActionKind

__all__ = ["PersonalStats", "PublicStats", "personal_stats", "public_stats"]


@dataclass
class PersonalStats:
    following: int
    reachable: dict[str, int] = field(default_factory=dict)  # network -> people found
    followed: dict[str, int] = field(default_factory=dict)  # network -> follows done
    timeline: dict[str, list[tuple[date, float]]] = field(default_factory=dict)  # % over time

    def share(self, network: str) -> float:
        return 100.0 * self.reachable.get(network, 0) / self.following if self.following else 0.0


@dataclass
class PublicStats:
    members: int
    findable: int
    links: dict[str, int]
    reconnections: int
    timeline: dict[str, list[tuple[date, float]]] = field(default_factory=dict)


def _cumulative(firsts: list[tuple[str, object]], scale: float = 1.0) -> dict:
    """(network, first date) rows → cumulative points per network."""
    per_day: dict[str, Counter] = {n: Counter() for n in NETWORKS}
    for network, when in firsts:
        if when is not None and network in per_day:
            per_day[network][when.date()] += 1
    out = {}
    for network, days in per_day.items():
        total, points = 0, []
        for day in sorted(days):
            total += days[day]
            points.append((day, total * scale))
        out[network] = points
    return out


def personal_stats(migration: Migration) -> PersonalStats:
    """How much of my X following is reachable on each network, and followed, over time."""
    graph = Edge.objects.filter(
        migration=migration, direction=Direction.FOLLOWING, gone_at=None
    ).values("x_account_id")
    following = graph.count()
    if graph_is_larger(migration, Link._meta.db_table, Direction.FOLLOWING):
        in_graph = Exists(graph.filter(x_account_id=OuterRef("x_account_id")))
    else:
        in_graph = Q(x_account_id__in=graph)
    links = (
        Link.objects.usable()
        .findable()
        .filter(in_graph)
        .exclude(x_account_id=migration.x_account_id)
        .values("network", "x_account_id")
        .annotate(first=Min("asserted_at"))
        .order_by()
    )
    rows = [(r["network"], r["first"]) for r in links]
    stats = PersonalStats(following=following)
    stats.reachable = dict(Counter(network for network, _ in rows))
    done = (
        PlanItem.objects.filter(
            account__user=migration.owner, kind=ActionKind.FOLLOW, state=PlanItem.State.DONE
        )
        .values_list("account__network")
        .order_by()
    )
    stats.followed = dict(Counter(n for (n,) in done))
    stats.timeline = _cumulative(rows, 100.0 / following if following else 0.0)
    return stats


def public_stats() -> PublicStats:
    """Counts over the whole site; links counted only where their owner consented."""
    consented = Link.objects.usable().findable()
    firsts = (
        consented.values("network", "x_account_id").annotate(first=Min("asserted_at")).order_by()
    )
    rows = [(r["network"], r["first"]) for r in firsts]
    return PublicStats(
        members=Migration.objects.values("owner").distinct().count(),
        findable=Consent.objects.filter(findable=True).count(),
        links=dict(Counter(n for n, _ in rows)),
        reconnections=PlanItem.objects.filter(
            kind=ActionKind.FOLLOW, state=PlanItem.State.DONE
        ).count(),
        timeline=_cumulative(rows),
    )
