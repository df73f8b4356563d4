"""Who of the person's X network arrived after their archive was imported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from hirondelle.identity.models import Link
from hirondelle.migration.models import Direction, Edge, Migration, PlanItem
from hirondelle.migration.services.faces import want_faces
from hirondelle.migration.services.matching import graph_is_larger
from hirondelle.portal.services.faces import Face, face_of

NO_FACE = Face()

__all__ = ["Arrival", "arrivals_since", "record_visit"]


@dataclass(frozen=True)
class Arrival:
    network: str
    handle: str
    evidence: str
    asserted_at: datetime
    directions: tuple[str, ...]
    queued: bool  # a follow is planned or done on one of my accounts
    link_id: int = 0  # for the "Report" link
    evidence_code: str = ""  # for the proof in words
    follow_state: str = ""  # the follow's state: done, pending, in_flight, failed, or ""
    face: Face = NO_FACE  # their name and avatar, as stored (read in the background)


def record_visit(user) -> datetime | None:
    """Note that the person opened the "Later arrivals" page now; returns their
    previous visit (None the first time)."""
    from django.utils import timezone

    from hirondelle.portal.models import ArrivalsVisit

    previous = ArrivalsVisit.objects.filter(user=user).values_list("seen_at", flat=True).first()
    ArrivalsVisit.objects.update_or_create(user=user, defaults={"seen_at": timezone.now()})
    return previous


def arrivals_since(
    migration: Migration, *, since: datetime | None = None, limit: int = 500
) -> list[Arrival]:
    """Consented links to people of my graph, newer than `since` (by default my
    first import, so a newer archive sent later hides no one), newest first."""
    since = since or migration.created_at
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
    rank = {PlanItem.State.FAILED: 1, PlanItem.State.PENDING: 2, PlanItem.State.IN_FLIGHT: 2}
    states: dict[tuple[str, str], str] = {}
    for network, x_id, state in (
        PlanItem.objects.filter(
            account__user=migration.owner,
            kind="follow",
            x_id__in=[str(i) for i in ids],
        )
        .exclude(state=PlanItem.State.SKIPPED)
        .values_list("account__network", "x_id", "state")
    ):
        key = (network, x_id)
        if rank.get(state, 3) > rank.get(states.get(key, ""), 0):
            states[key] = state
    queued = set(states)
    want_faces(link.network_account for link in links)
    return [
        Arrival(
            network=link.network,
            handle=link.network_account.handle,
            evidence=link.get_evidence_display(),
            asserted_at=link.asserted_at,
            directions=tuple(sorted(directions.get(link.x_account_id, []))),
            queued=(link.network, str(link.x_account_id)) in queued,
            follow_state=states.get((link.network, str(link.x_account_id)), ""),
            link_id=link.pk,
            evidence_code=str(link.evidence),
            face=face_of(link.network_account),
        )
        for link in links
    ]
