"""What a person's own archive already says about where their people went (offline).

`offline_discovery` reads only the database (the names the import kept in
`ArchiveName`) and the pure claim rules: it makes no network request. It
counts, per part of the graph, the accounts the archive names and those whose
X display name carries a new address, and lists the people found by such
claims alone (not already matched in the directory on that network).

`match_advice` explains a match that found little or nothing: why (no
directory imported, nobody of this network in it yet) and what to do next.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum

from django.db.models import Count

from hirondelle.discovery import AddressClaim, addresses_in
from hirondelle.identity.models import Link, x_id_from_db
from hirondelle.migration.models import ArchiveName, Direction, Edge, Migration
from hirondelle.migration.services.matching import iter_matches

__all__ = [
    "ClaimFound",
    "GraphNames",
    "MatchAdvice",
    "NamedAccount",
    "OfflineDiscovery",
    "Why",
    "graph_names",
    "match_advice",
    "named_accounts",
    "offline_discovery",
]


@dataclass
class GraphNames:
    """One part of the graph: accounts, those the archive names, those with a claim."""

    total: int = 0
    named: int = 0
    claims: int = 0


@dataclass(frozen=True, slots=True)
class ClaimFound:
    """Someone of the graph whose X display name names a new address."""

    x_id: int
    x_username: str
    display_name: str  # the X display name the address was read from
    network: str
    address: str
    directions: tuple[str, ...]
    seen_at: datetime
    post_id: str  # the person's own post where the name was seen


@dataclass
class OfflineDiscovery:
    graph: dict[str, GraphNames] = field(default_factory=dict)
    found_by_claims: list[ClaimFound] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The `hirondelle discover --offline --json` shape."""
        return {
            "graph": {key: asdict(g) for key, g in self.graph.items()},
            "found_by_claims": [
                {
                    "x_id": str(c.x_id),
                    "x_username": c.x_username,
                    "network": c.network,
                    "address": c.address,
                    "display_name": c.display_name,
                    "directions": list(c.directions),
                    "seen_at": c.seen_at.isoformat(),
                    "post_id": c.post_id,
                }
                for c in self.found_by_claims
            ],
        }


@dataclass
class _Read:
    graph: dict[str, GraphNames]
    names: dict[int, ArchiveName]  # stored X id → name
    claims: dict[int, list]  # stored X id → its display name's AddressClaims
    directions: dict[int, list[str]]  # stored X id → parts of the graph (with a claim)


def _read(migration: Migration) -> _Read:
    graph = {d.key: GraphNames() for d in Direction}
    for direction, n in (
        Edge.objects.present()
        .filter(migration=migration)
        .values_list("direction")
        .annotate(n=Count("*"))
        .order_by()
    ):
        graph[Direction(direction).key].total = n
    names = {
        row.x_account_id: row
        for row in ArchiveName.objects.filter(migration=migration).only(
            "x_account_id", "username", "display_name", "seen_at", "post_id"
        )
    }
    claims = {x: addresses_in(row.display_name) for x, row in names.items() if row.display_name}
    claims = {x: found for x, found in claims.items() if found}
    directions: dict[int, list[str]] = defaultdict(list)
    for x, direction in (
        Edge.objects.present()
        .filter(
            migration=migration,
            x_account_id__in=ArchiveName.objects.filter(migration=migration).values("x_account_id"),
        )
        .values_list("x_account_id", "direction")
        .order_by("direction")
    ):
        key = Direction(direction).key
        graph[key].named += 1
        if x in claims:
            graph[key].claims += 1
            directions[x].append(key)
    return _Read(graph, names, claims, directions)


def graph_names(migration: Migration) -> dict[str, GraphNames]:
    """Per part of the graph: accounts, named by the archive, with a claim."""
    return _read(migration).graph


def offline_discovery(migration: Migration) -> OfflineDiscovery:
    """Counts and claim-found people from the archive's names; no network request."""
    read = _read(migration)
    result = OfflineDiscovery(graph=read.graph)
    names, claims, directions = read.names, read.claims, read.directions
    if not claims:
        return result
    claimed = {x_id_from_db(x) for x in claims}
    matched = {(m.x_id, m.network) for m in iter_matches(migration) if m.x_id in claimed}
    for x, found in claims.items():
        if x not in directions:
            continue  # named, but no longer in the graph
        row = names[x]
        seen: set[tuple[str, str]] = set()
        for claim in found:
            key = (claim.network.value, claim.address)
            if key in seen or (x_id_from_db(x), claim.network.value) in matched:
                continue
            seen.add(key)
            result.found_by_claims.append(
                ClaimFound(
                    x_id=x_id_from_db(x),
                    x_username=row.username,
                    display_name=row.display_name,
                    network=claim.network.value,
                    address=claim.address,
                    directions=tuple(directions[x]),
                    seen_at=row.seen_at,
                    post_id=row.post_id,
                )
            )
    result.found_by_claims.sort(key=lambda c: (c.x_username.lower(), c.network, c.address))
    return result


@dataclass(frozen=True, slots=True)
class NamedAccount:
    """One account of the graph that the archive names: what a search starts from."""

    x_id: int
    username: str
    display_name: str
    seen_at: datetime
    post_id: str
    directions: tuple[str, ...]
    claims: tuple[AddressClaim, ...]  # addresses its X display name names
    matched: frozenset[str]  # networks the directory already found it on


def named_accounts(migration: Migration) -> list[NamedAccount]:
    """Every named account of the present graph, with its claims and existing matches.

    The starting list for a search of the networks (`discover --search`):
    skip a network in `matched`, search by `username` and `display_name`,
    check the `claims` first. Ordered by username.
    """
    names = {
        row.x_account_id: row
        for row in ArchiveName.objects.filter(migration=migration).only(
            "x_account_id", "username", "display_name", "seen_at", "post_id"
        )
    }
    directions: dict[int, list[str]] = defaultdict(list)
    for x, direction in (
        Edge.objects.present()
        .filter(
            migration=migration,
            x_account_id__in=ArchiveName.objects.filter(migration=migration).values("x_account_id"),
        )
        .values_list("x_account_id", "direction")
        .order_by("direction")
    ):
        directions[x].append(Direction(direction).key)
    wanted = {x_id_from_db(x) for x in directions}
    matched: dict[int, set[str]] = defaultdict(set)
    for m in iter_matches(migration):
        if m.x_id in wanted:
            matched[m.x_id].add(m.network)
    out = [
        NamedAccount(
            x_id=x_id_from_db(x),
            username=row.username,
            display_name=row.display_name,
            seen_at=row.seen_at,
            post_id=row.post_id,
            directions=tuple(directions[x]),
            claims=tuple(addresses_in(row.display_name)),
            matched=frozenset(matched.get(x_id_from_db(x), ())),
        )
        for x, row in names.items()
        if x in directions
    ]
    return sorted(out, key=lambda a: (a.username.lower(), a.x_id))


# --------------------------------------------------------------------------- advice


class Why(StrEnum):
    """Why a match found little or nothing."""

    NO_DIRECTORY = "no_directory"  # no directory imported: nobody is known here at all
    NOBODY_YET = "nobody_yet"  # the directory knows people, none of this graph yet
    FEW = "few"  # a few found, most of the people followed not (yet)


#: Below this share of the accounts followed found, a match counts as "few".
FEW_SHARE = 0.1


@dataclass(frozen=True)
class MatchAdvice:
    """What to tell a person whose match found little; `why` is None when all is well."""

    why: Why | None
    found: int  # matches of the people followed (any network)
    following: int
    named_following: int  # of them, named by the archive (searchable by name)
    claims_following: int  # of them, with a new address in their X display name

    def as_dict(self) -> dict:
        return {**asdict(self), "why": self.why.value if self.why else None}


def match_advice(migration: Migration, counts: dict) -> MatchAdvice:
    """Explain `counts` (the `count_matches` shape) when they are low."""
    found = sum(c["auto"] + c["review"] for c in counts.get("following", {}).values())
    found_any = found + sum(
        c["auto"] + c["review"]
        for key, networks in counts.items()
        if key != "following"
        for c in networks.values()
    )
    offline = graph_names(migration)["following"]
    following = offline.total
    why: Why | None = None
    if found_any == 0:
        directory = Link.objects.usable().findable().exists()
        why = Why.NOBODY_YET if directory else Why.NO_DIRECTORY
    elif following >= 20 and found < following * FEW_SHARE:
        why = Why.FEW
    return MatchAdvice(why, found, following, offline.named, offline.claims)
