"""Matching a migration's X graph against the directory, and the reverse.

`match_migration` answers "who of the people in my archive moved where, and
may we act on it alone?". Each direction is one semi-join of the graph edges
with the usable, consented links, streamed; the trust decision is
`identity.services.trust.decide`.

`migrations_containing` answers the portal's reverse question when a new link
arrives ("whose graph has this X id?") with one range of the `edge_reverse`
index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, OuterRef

from hirondelle.identity.models import (
    Consent,
    Evidence,
    Link,
    LinkConflict,
    NetworkAccount,
    x_id_from_db,
    x_id_to_db,
)
from hirondelle.identity.services.trust import decide
from hirondelle.migration.models import Direction, Edge, Migration

__all__ = [
    "ConflictInfo",
    "Match",
    "MatchResult",
    "count_matches",
    "graph_conflicts",
    "graph_is_larger",
    "iter_matches",
    "match_migration",
    "migrations_containing",
]

NETWORKS = ("mastodon", "bluesky")


@dataclass(frozen=True, slots=True)
class Match:
    """One person of the graph found on one network."""

    x_id: int
    direction: str  # following, followers, blocks, mutes
    network: str
    handle: str
    account_uri: str  # actor URI or DID; "" while only the handle is known
    link_id: int
    evidence: str
    auto: bool
    review: str | None = None  # why it needs review (see identity.services.trust.Review)


@dataclass(frozen=True, slots=True)
class ConflictInfo:
    x_id: int
    network: str
    winner_link_id: int | None  # None: tied, review only
    contenders: int
    resolved: bool


@dataclass
class MatchResult:
    trust: Evidence
    _by: dict[tuple[str, str], list[Match]] = field(default_factory=lambda: defaultdict(list))
    conflicts: list[ConflictInfo] = field(default_factory=list)

    def add(self, match: Match) -> None:
        self._by[match.direction, match.network].append(match)

    def matches(self, direction: str, network: str) -> list[Match]:
        return self._by.get((direction, network), [])

    def __iter__(self) -> Iterator[Match]:
        for matches in self._by.values():
            yield from matches

    def counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """The `hirondelle match --json` shape: direction → network → auto/review."""
        return {
            d.key: {
                n: {
                    "auto": sum(1 for m in self.matches(d.key, n) if m.auto),
                    "review": sum(1 for m in self.matches(d.key, n) if not m.auto),
                }
                for n in NETWORKS
            }
            for d in Direction
        }


def _threshold(migration: Migration, trust: Evidence | str | None) -> Evidence:
    return Evidence.parse(str(trust or migration.trust_threshold))


def graph_is_larger(migration: Migration, table: str, direction: Direction | None = None) -> bool:
    """Whether the graph has more edges than `table` has rows (by its largest id).

    Decides which side a join starts from: with an empty or small directory,
    starting from the links and probing the edges' primary key costs a few
    lookups, where starting from two million edges costs two million. The
    largest id is an index's last entry (no count) and an upper bound of
    the rows; the graph's size comes from the import's counts.
    """
    counts = migration.counts or {}
    keys = [direction.key] if direction is not None else [d.key for d in Direction]
    graph = sum(int(counts.get(k, 0)) for k in keys)
    if not graph:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        (largest,) = cursor.fetchone()
    return (largest or 0) < graph


def _join(links_first: bool, *, accounts: bool) -> str:
    """FROM and WHERE of one direction's edges joined to usable, consented links.

    The join starts from the edges' primary-key range, or, when the directory
    is the smaller side, from the links, probing the edges' primary key. On
    SQLite `CROSS JOIN` fixes that order (its planner has no statistics for
    an empty or fresh table); PostgreSQL plans from its statistics, which the
    import refreshes (`ANALYZE` after the bulk load).
    """
    edge, link = Edge._meta.db_table, Link._meta.db_table
    consent, account = Consent._meta.db_table, NetworkAccount._meta.db_table
    if links_first:
        tables = f"{link} l CROSS JOIN {consent} c CROSS JOIN {edge} e"
        on = "c.x_account_id = l.x_account_id AND e.x_account_id = l.x_account_id AND "
    else:
        tables = (
            f"{edge} e JOIN {link} l ON l.x_account_id = e.x_account_id "
            f"JOIN {consent} c ON c.x_account_id = e.x_account_id"
        )
        on = ""
    if accounts:
        tables += f" JOIN {account} a ON a.id = l.network_account_id"
    return (
        f"FROM {tables} WHERE {on}"
        "e.migration_id = %s AND e.direction = %s AND e.gone_at IS NULL "
        "AND e.x_account_id <> %s AND l.state IN (%s, %s) AND c.findable = %s"
    )


def _match_sql(links_first: bool = False) -> str:
    """One direction of one migration's present graph, joined to usable, consented links.

    Plain SQL, portable across SQLite and PostgreSQL, reaching links, consents
    and accounts by their indexes, with no detour through the X account table.
    """
    return (
        "SELECT e.x_account_id, l.network, a.handle, a.uri, l.id, l.evidence, l.strength, "
        "l.state, c.auto_followable, c.auto_follow_arrivals " + _join(links_first, accounts=True)
    )


def _params(migration: Migration, direction: Direction) -> list:
    return [
        migration.pk,
        int(direction),
        migration.x_account_id,
        Link.State.CURRENT.value,
        Link.State.CONTESTED.value,
        True,
    ]


def iter_matches(
    migration: Migration,
    *,
    trust: Evidence | str | None = None,
    directions: tuple[Direction, ...] = tuple(Direction),
    chunk: int = 20_000,
) -> Iterator[Match]:
    """Stream matches without holding them: for counts over millions of edges."""
    threshold = _threshold(migration, trust)
    for direction in directions:
        key = direction.key
        params = _params(migration, direction)
        sql = _match_sql(graph_is_larger(migration, Link._meta.db_table, direction))
        # A server-side cursor on PostgreSQL: memory stays bounded by `chunk`.
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(chunk):
                for x_id, network, handle, uri, link_id, ev, strength, state, able, follows in rows:
                    review = decide(
                        strength=strength,
                        state=state,
                        threshold=threshold,
                        direction=key,
                        auto_followable=bool(able),
                        auto_follow_arrivals=bool(follows),
                    )
                    yield Match(
                        x_id_from_db(x_id),
                        key,
                        network,
                        handle,
                        uri,
                        link_id,
                        ev,
                        review is None,
                        review,
                    )


def match_migration(migration: Migration, *, trust: Evidence | str | None = None) -> MatchResult:
    """Every match of the migration's present graph, per direction and network.

    `trust` overrides the migration's own threshold (a "what if" for the
    page). Conflicts touching the graph are listed, so they can be shown.
    """
    result = MatchResult(_threshold(migration, trust))
    for match in iter_matches(migration, trust=result.trust):
        result.add(match)
    result.conflicts = graph_conflicts(migration)
    return result


def _count_sql(links_first: bool = False) -> str:
    """Matches of one direction grouped by what the trust decision reads."""
    return (
        "SELECT l.network, l.strength, l.state, c.auto_followable, c.auto_follow_arrivals, "
        "COUNT(*) " + _join(links_first, accounts=False) + " "
        "GROUP BY l.network, l.strength, l.state, c.auto_followable, c.auto_follow_arrivals"
    )


def count_matches(migration: Migration, *, trust: Evidence | str | None = None) -> dict:
    """The same counts as `match_migration(...).counts()`, without fetching the rows.

    The database groups matches by everything `decide` reads (a few dozen
    groups at most); the same decision then runs once per group.
    """
    threshold = _threshold(migration, trust)
    counts = {d.key: {n: {"auto": 0, "review": 0} for n in NETWORKS} for d in Direction}
    with connection.cursor() as cursor:
        for direction in Direction:
            sql = _count_sql(graph_is_larger(migration, Link._meta.db_table, direction))
            cursor.execute(sql, _params(migration, direction))
            for network, strength, state, able, follows, n in cursor.fetchall():
                review = decide(
                    strength=strength,
                    state=state,
                    threshold=threshold,
                    direction=direction.key,
                    auto_followable=bool(able),
                    auto_follow_arrivals=bool(follows),
                )
                counts[direction.key][network]["auto" if review is None else "review"] += n
    return counts


def graph_conflicts(migration: Migration) -> list[ConflictInfo]:
    """Conflicts about X accounts in the migration's present graph, to be shown.

    Conflicts are few: each one probes the graph's edges (`edge_reverse`)
    rather than the whole graph being listed, unless the graph is the smaller.
    """
    conflicts = LinkConflict.objects.all()
    if graph_is_larger(migration, LinkConflict._meta.db_table):
        edges = Edge.objects.filter(
            migration=migration, gone_at=None, x_account_id=OuterRef("x_account_id")
        )
        conflicts = conflicts.filter(Exists(edges))
    else:
        graph = Edge.objects.filter(migration=migration, gone_at=None).values("x_account_id")
        conflicts = conflicts.filter(x_account_id__in=graph)
    return [
        ConflictInfo(
            x_id_from_db(c.x_account_id), c.network, c.winner_id, c.contenders, not c.is_open
        )
        for c in conflicts.order_by("x_account_id")
    ]


def migrations_containing(
    x_account_id: int | str, *, direction: Direction | None = None
) -> list[tuple[int, int]]:
    """(migration id, direction) of every present edge to this X account.

    One range of the `edge_reverse` index (an index-only scan on PostgreSQL);
    directions come back as plain ints equal to `Direction` members, because
    building a million enum objects would cost more than the query.
    """
    sql = (
        f"SELECT migration_id, direction FROM {Edge._meta.db_table} "
        "WHERE x_account_id = %s AND gone_at IS NULL"
    )
    params: list[int] = [x_id_to_db(x_account_id)]
    if direction is not None:
        sql += " AND direction = %s"
        params.append(int(direction))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
