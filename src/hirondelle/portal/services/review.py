"""Review who was found, choose, and start the background work.

Matching and planning are the migration app's; the portal only keeps the
person's own choices (`ReviewChoice`) and applies them: approved matches
that needed review are planned, deselected ones are skipped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from hirondelle.identity.models import Evidence
from hirondelle.migration.models import ConnectedAccount, Migration, PlanItem
from hirondelle.migration.services.discovery_names import MatchAdvice, match_advice
from hirondelle.migration.services.matching import NETWORKS, Match, match_migration
from hirondelle.migration.services.planning import DIRECTION_KIND, PlanSummary, build_plan
from hirondelle.migration.tasks import schedule
from hirondelle.portal.models import ReviewChoice

__all__ = [
    "DIRECTIONS",
    "ReviewPage",
    "review_page",
    "save_choices",
    "set_trust",
    "start_run",
]

DIRECTIONS = ("following", "followers", "blocks", "mutes")
#: rows shown per evidence group; search narrows the rest down
ROWS_SHOWN = 300


@dataclass
class Row:
    match: Match
    chosen: bool

    @property
    def value(self) -> str:
        return f"{self.match.network}:{self.match.x_id}"


@dataclass
class Group:
    network: str
    evidence: str
    rows: list[Row] = field(default_factory=list)
    total: int = 0
    auto: int = 0

    @property
    def evidence_label(self) -> str:
        return str(Evidence(self.evidence).label)


@dataclass
class ReviewPage:
    direction: str
    graph_size: int
    counts: dict[str, Counter] = field(default_factory=dict)  # network -> auto/review/chosen
    groups: list[Group] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)
    conflicts: int = 0
    #: why little or nothing was found, and what to do next (never bare zeros)
    advice: MatchAdvice | None = None


def _choices(migration: Migration) -> dict[tuple[str, int], bool]:
    return {
        (c.network, c.x_account_id): c.chosen
        for c in ReviewChoice.objects.filter(migration=migration)
    }


def review_page(migration: Migration, direction: str = "following", query: str = "") -> ReviewPage:
    """Matches of one direction, per network, grouped by evidence (strongest first)."""
    if direction not in DIRECTIONS:
        direction = "following"
    result = match_migration(migration)
    choices = _choices(migration)
    page = ReviewPage(
        direction=direction,
        graph_size=int((migration.counts or {}).get(direction, 0)),
        conflicts=sum(1 for c in result.conflicts if not c.resolved),
        advice=match_advice(migration, result.counts()),
    )
    query = query.strip().lower().lstrip("@")
    for network in NETWORKS:
        counts = Counter()
        groups: dict[str, Group] = {}
        for match in result.matches(direction, network):
            chosen = choices.get((network, match.x_id), match.auto)
            counts["auto" if match.auto else "review"] += 1
            counts["chosen"] += chosen
            if not match.auto and match.review:
                page.reasons[match.review] += 1
            if query and query not in match.handle.lower() and query != str(match.x_id):
                continue
            group = groups.setdefault(match.evidence, Group(network, match.evidence))
            group.total += 1
            group.auto += match.auto
            if len(group.rows) < ROWS_SHOWN:
                group.rows.append(Row(match, chosen))
        page.counts[network] = counts
        page.groups.extend(sorted(groups.values(), key=lambda g: -Evidence(g.evidence).strength))
    for group in page.groups:
        group.rows.sort(key=lambda r: (r.match.auto, r.match.handle))
    return page


def set_trust(migration: Migration, value: str) -> Evidence:
    """The weakest evidence the person lets Hirondelle act on without asking."""
    evidence = Evidence.parse(value)
    if evidence not in Evidence.thresholds():
        raise ValueError(f"{evidence.value!r} is always reviewed: it cannot be a trust level.")
    Migration.objects.filter(pk=migration.pk).update(trust_threshold=evidence.value)
    migration.trust_threshold = evidence.value
    return evidence


def save_choices(migration: Migration, shown: Iterable[str], picked: Iterable[str]) -> int:
    """Record yes/no for every row that was on the page; returns how many rows."""
    picked_set = set(picked)
    rows = []
    for value in set(shown):
        network, _, x_id = value.partition(":")
        if network not in NETWORKS or not x_id.isdigit():
            continue
        rows.append(
            ReviewChoice(
                migration=migration,
                network=network,
                x_account_id=int(x_id),
                chosen=value in picked_set,
            )
        )
    ReviewChoice.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["migration", "network", "x_account_id"],
        update_fields=["chosen", "updated_at"],
    )
    return len(rows)


def start_run(user, migration: Migration, *, follow_back: bool = False) -> PlanSummary:
    """Plan what the matches and the person's choices call for, then wake the workers."""
    if migration.owner_id != user.pk:
        raise PermissionError("This migration is not yours.")
    choices = _choices(migration)
    approved = [key for key, chosen in choices.items() if chosen]
    summary = build_plan(migration, follow_back=follow_back, approved=approved)
    refused = defaultdict(list)
    for (network, x_id), chosen in choices.items():
        if not chosen:
            refused[network].append(str(x_id))
    kinds = set(DIRECTION_KIND.values())
    with transaction.atomic():
        for network, x_ids in refused.items():
            PlanItem.objects.filter(
                account__user=user,
                account__network=network,
                kind__in=kinds,
                x_id__in=x_ids,
                state=PlanItem.State.PENDING,
            ).update(state=PlanItem.State.SKIPPED)
        approved_by_network = defaultdict(list)
        for network, x_id in approved:
            approved_by_network[network].append(str(x_id))
        for network, x_ids in approved_by_network.items():
            PlanItem.objects.filter(
                account__user=user,
                account__network=network,
                x_id__in=x_ids,
                state=PlanItem.State.SKIPPED,
            ).update(state=PlanItem.State.PENDING)
    for account in ConnectedAccount.objects.filter(
        user=user, status=ConnectedAccount.Status.ACTIVE
    ):
        schedule(account)
    return summary
