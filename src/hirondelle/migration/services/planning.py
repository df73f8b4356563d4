"""Turn a migration's matches into plan items, per connected account.

Only matches at or above the person's trust threshold become items on their
own; the rest wait for the person's approval in review (`approved`). Planning
is idempotent: every item has a key derived from what it does, so planning
again after a re-import or a new directory snapshot adds only what is new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from hirondelle.migration.models import ConnectedAccount, Migration, PlanItem
from hirondelle.migration.services.keys import item_key
from hirondelle.networks.base import ActionKind

__all__ = ["AccountPlan", "NetworkPreview", "PlanSummary", "build_plan", "preview_plan"]

#: which action a match in each direction of the X graph becomes
DIRECTION_KIND = {
    "following": ActionKind.FOLLOW,
    "blocks": ActionKind.BLOCK,
    "mutes": ActionKind.MUTE,
    "followers": ActionKind.FOLLOW,  # following back: only when asked
}


@dataclass
class AccountPlan:
    network: str
    handle: str
    added: Counter = field(default_factory=Counter)  # kind -> new items
    total: Counter = field(default_factory=Counter)  # kind -> items in the plan
    review: Counter = field(default_factory=Counter)  # direction -> matches awaiting review

    def as_dict(self) -> dict:
        return {
            "network": self.network,
            "handle": self.handle,
            "added": dict(self.added),
            "total": dict(self.total),
            "review": dict(self.review),
        }


@dataclass
class PlanSummary:
    accounts: list[AccountPlan] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accounts": [a.as_dict() for a in self.accounts]}


@dataclass
class NetworkPreview:
    """What the matches call for on one network, whether or not an account is connected."""

    network: str
    accounts: list[str] = field(default_factory=list)  # connected handles there
    actions: Counter = field(default_factory=Counter)  # kind -> actions the matches call for
    review: Counter = field(default_factory=Counter)  # direction -> matches awaiting review
    eta_seconds: float = 0.0  # at the network's published limits

    def as_dict(self) -> dict:
        return {
            "network": self.network,
            "accounts": self.accounts,
            "actions": dict(self.actions),
            "review": dict(self.review),
            "eta_seconds": round(self.eta_seconds),
        }


def preview_plan(migration: Migration, *, follow_back: bool = False) -> list[NetworkPreview]:
    """The plan `build_plan` would make on each network, without writing anything.

    Works before any account is connected: the time is estimated at each
    network's published limits (a connected account's budget may differ).
    """
    from hirondelle.migration.services.matching import match_migration
    from hirondelle.networks.base import Network
    from hirondelle.networks.preview import eta_at_published_limits

    result = match_migration(migration)
    previews = []
    for network in Network:
        preview = NetworkPreview(network.value)
        preview.accounts = list(
            ConnectedAccount.objects.filter(user=migration.owner, network=network)
            .order_by("handle")
            .values_list("handle", flat=True)
        )
        for direction, kind in DIRECTION_KIND.items():
            if direction == "followers" and not follow_back:
                continue
            for match in result.matches(direction, network.value):
                if match.auto:
                    preview.actions[kind.value] += 1
                else:
                    preview.review[direction] += 1
        preview.eta_seconds = eta_at_published_limits(network, preview.actions)
        previews.append(preview)
    return previews


def build_plan(
    migration: Migration,
    *,
    follow_back: bool = False,
    approved: Iterable[tuple[str, int]] = (),
    accounts: Iterable[ConnectedAccount] | None = None,
) -> PlanSummary:
    """Add the items this migration's matches call for, on each connected account.

    `approved`: (network, X id) pairs the person approved in review, planned
    even though their evidence is below the trust threshold. Candidates that
    discovery found and the person kept ticked are planned too.
    """
    from hirondelle.migration.services.discovery import candidate_items
    from hirondelle.migration.services.matching import match_migration

    approved_set = {(n, int(x)) for n, x in approved}
    result = match_migration(migration)
    summary = PlanSummary()
    accounts = (
        list(accounts)
        if accounts is not None
        else list(
            ConnectedAccount.objects.filter(
                user=migration.owner, status=ConnectedAccount.Status.ACTIVE
            )
        )
    )
    now = timezone.now()
    for account in accounts:
        plan = AccountPlan(account.network, account.handle)
        items = []
        for direction, kind in DIRECTION_KIND.items():
            if direction == "followers" and not follow_back:
                continue
            origin = (
                PlanItem.Origin.FOLLOW_BACK if direction == "followers" else PlanItem.Origin.ARCHIVE
            )
            for match in result.matches(direction, account.network):
                if not match.auto and (account.network, int(match.x_id)) not in approved_set:
                    plan.review[direction] += 1
                    continue
                target = match.account_uri or match.handle
                items.append(
                    PlanItem(
                        account=account,
                        kind=kind,
                        origin=origin,
                        x_id=str(match.x_id),
                        target_id=match.account_uri,
                        target_handle=match.handle,
                        key=item_key(account.pk, kind, target),
                        next_attempt_at=now,
                    )
                )
        items += candidate_items(migration, account, follow_back=follow_back, now=now)
        before = _counts(account)
        PlanItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
        after = _counts(account)
        plan.total = after
        plan.added = after - before
        summary.accounts.append(plan)
    return summary


def _counts(account: ConnectedAccount) -> Counter:
    rows = PlanItem.objects.filter(account=account).values("kind").annotate(n=Count("id"))
    return Counter({row["kind"]: row["n"] for row in rows.order_by()})
