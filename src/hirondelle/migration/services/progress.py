"""How far a person's plan has come, and how long the rest will take.

One function feeds the command line's progress bars and the web page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.networks.base import ActionKind

__all__ = ["AccountProgress", "account_progress"]


@dataclass
class AccountProgress:
    account_id: int
    network: str
    handle: str
    status: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> state -> n
    eta_seconds: float = 0.0
    #: why items failed, or were skipped: (reason, how many), most frequent first
    failures: list[tuple[str, int]] = field(default_factory=list)
    skips: list[tuple[str, int]] = field(default_factory=list)

    def _in(self, state: str) -> int:
        return sum(states.get(state, 0) for states in self.counts.values())

    @property
    def done(self) -> int:
        return self._in(PlanItem.State.DONE)

    @property
    def failed(self) -> int:
        return self._in(PlanItem.State.FAILED)

    @property
    def skipped(self) -> int:
        return self._in(PlanItem.State.SKIPPED)

    @property
    def open(self) -> int:
        """Still to do (pending, or being done right now)."""
        return self._in(PlanItem.State.PENDING) + self._in(PlanItem.State.IN_FLIGHT)

    @property
    def total(self) -> int:
        return sum(sum(states.values()) for states in self.counts.values())

    @property
    def finished(self) -> int:
        """Items that will not be tried again: done, failed or skipped (not "all went well")."""
        return sum(
            states.get(s, 0)
            for states in self.counts.values()
            for s in (PlanItem.State.DONE, PlanItem.State.FAILED, PlanItem.State.SKIPPED)
        )

    def as_dict(self) -> dict:
        return {
            "network": self.network,
            "handle": self.handle,
            "status": self.status,
            "items": self.counts,
            "total": self.total,
            "finished": self.finished,
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "open": self.open,
            "failures": [{"reason": r, "count": n} for r, n in self.failures],
            "skips": [{"reason": r, "count": n} for r, n in self.skips],
            "eta_seconds": round(self.eta_seconds),
        }


def _eta(account: ConnectedAccount, open_by_kind: dict[str, int]) -> float:
    """Seconds the open items need at the network's pace (budgets only).

    Kinds share pools (a Bluesky follow and a block both spend write points),
    so the units of every kind are added up per pool before asking the budget.
    """
    if not open_by_kind:
        return 0.0
    from hirondelle.migration.services.adapters import adapter_for

    try:
        adapter = adapter_for(account)
    except (KeyError, ValueError):  # no usable credentials: no estimate rather than no page
        return 0.0
    try:
        units: dict[str, float] = {}
        for kind, n in open_by_kind.items():
            for pool, cost in adapter.cost(ActionKind(kind)).items():
                units[pool] = units.get(pool, 0.0) + cost * n
        return adapter.budget.eta(units, 1)
    finally:
        adapter.close()


def _reasons(account: ConnectedAccount, state: str, top: int = 5) -> list[tuple[str, int]]:
    rows = (
        PlanItem.objects.filter(account=account, state=state)
        .values("last_error")
        .annotate(n=Count("id"))
        .order_by("-n", "last_error")[:top]
    )
    return [(row["last_error"] or "no reason recorded", row["n"]) for row in rows]


def account_progress(account: ConnectedAccount, *, with_eta: bool = True) -> AccountProgress:
    progress = AccountProgress(account.pk, account.network, account.handle, account.status)
    rows = (
        PlanItem.objects.filter(account=account)
        .values("kind", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        progress.counts.setdefault(row["kind"], {})[row["state"]] = row["n"]
    if progress.failed:
        progress.failures = _reasons(account, PlanItem.State.FAILED)
    if progress.skipped:
        progress.skips = _reasons(account, PlanItem.State.SKIPPED)
    if with_eta:
        open_by_kind = {
            kind: states.get(PlanItem.State.PENDING, 0) + states.get(PlanItem.State.IN_FLIGHT, 0)
            for kind, states in progress.counts.items()
        }
        progress.eta_seconds = _eta(account, {k: n for k, n in open_by_kind.items() if n})
    return progress
