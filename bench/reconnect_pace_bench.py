"""How close does a long reconnection run come to what the rules allow?

Simulates, on a virtual clock, a person with many follows to redo, using the
real plan runner (`hirondelle.migration.services.running`), the real budget
pools and per-action costs of each adapter, and an in-memory network that
only counts. Reports when the run finishes (virtual hours) beside the rules'
floor (the least time the pools allow, from fresh windows) and a baseline
computed in the same run: a fixed pause between follows set 10 % under the
long-run ceiling, which is what a tool that reads no budget must do.

    .venv/bin/python bench/reconnect_pace_bench.py [--mastodon-follows 4000]
        [--bluesky-follows 40000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["HIRONDELLE_DATA_DIR"] = tempfile.mkdtemp(prefix="hirondelle-bench-")
os.environ["DJANGO_SETTINGS_MODULE"] = "hirondelle.settings"

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from hirondelle.networks.base import ActionKind, ActionResult, Network  # noqa: E402


class VirtualClock:
    def __init__(self) -> None:
        self.t = datetime(2026, 11, 23, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t

    def epoch(self) -> float:
        return self.t.timestamp()

    def sleep(self, seconds: float) -> None:
        self.t += timedelta(seconds=max(seconds, 1.0))


class SimAdapter:
    """The real adapter's budget and costs; the network only counts."""

    def __init__(self, real) -> None:
        self.real = real
        self.network = real.network
        self.budget = real.budget
        self.follows: list[tuple[float, str]] = []

    def cost(self, kind):
        return self.real.cost(kind)

    def batch_size(self, kind):
        return self.real.batch_size(kind)

    def relationships(self, targets):
        return {}

    def close(self) -> None:
        self.real.close()

    def apply(self, actions):
        self.budget.spend(self.cost(actions[0].kind), len(actions))
        now = self.budget.clock()
        self.follows.extend((now, a.target.id) for a in actions)
        return [ActionResult(a, remote_id=a.key) for a in actions]


def real_adapter(network: Network, clock: VirtualClock):
    if network == Network.MASTODON:
        from hirondelle.networks.mastodon import MastodonAdapter

        return MastodonAdapter("https://bench.invalid", "token", clock=clock.epoch)
    from hirondelle.networks.bluesky import BlueskyAdapter

    return BlueskyAdapter("https://bench.invalid", "bench.test", "pw", clock=clock.epoch)


def allowed_per_day(adapter) -> float:
    """Follows/day the pools allow in the long run: the tightest pool."""
    cost = adapter.cost(ActionKind.FOLLOW)
    return min(
        pool.limit / cost[name] * (86400 / pool.period)
        for name, pool in adapter.budget.pools.items()
        if cost.get(name)
    )


def run_network(network: Network, follows: int, cap_days: float) -> dict:
    from hirondelle.identity.models import User
    from hirondelle.migration.models import ConnectedAccount, PlanItem
    from hirondelle.migration.services import running

    clock = VirtualClock()
    start = clock.now()
    user = User.objects.create(username=f"bench-{network}")
    account = ConnectedAccount.objects.create(
        user=user, network=network, server="https://bench.invalid", handle="me", remote_id="me"
    )
    PlanItem.objects.bulk_create(
        (
            PlanItem(
                account=account,
                kind="follow",
                x_id=str(i),
                target_id=f"target-{i}",
                key=f"{network}-{i}",
                next_attempt_at=start,
            )
            for i in range(follows)
        ),
        batch_size=2000,
    )
    sim = SimAdapter(real_adapter(network, clock))
    # The rules' floor: the least time any scheduler needs for this many
    # follows from fresh windows (each pool on its own; a lower bound).
    cost = sim.cost(ActionKind.FOLLOW)
    floor = sim.budget.eta({k: v * follows for k, v in cost.items()}, 1)
    end = start + timedelta(days=cap_days)

    def sleep(seconds: float) -> None:
        if clock.now() >= end:
            raise TimeoutError
        clock.sleep(seconds)

    original = running.adapter_for
    running.adapter_for = lambda account: sim
    wall = time.perf_counter()
    try:
        with contextlib.suppress(TimeoutError):
            running.run_until_idle([account], sleep=sleep, now=clock.now)
    finally:
        running.adapter_for = original
    wall = time.perf_counter() - wall
    finished_h = (max(t for t, _ in sim.follows) - start.timestamp()) / 3600
    per_day = allowed_per_day(sim)
    # Baseline: a fixed pause between follows, 10 % under the long-run
    # ceiling (what a tool that reads no budget must do to stay safe).
    fixed_h = follows / (per_day * 0.9) * 24
    return {
        "network": str(network),
        "planned": follows,
        "done": len(sim.follows),
        "duplicates": len(sim.follows) - len({t for _, t in sim.follows}),
        "finished_h": finished_h,
        "floor_h": floor / 3600,
        "fixed_pacing_h": fixed_h,
        "achieved_per_h": follows / finished_h if finished_h else float("inf"),
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mastodon-follows", type=int, default=4000)
    parser.add_argument("--bluesky-follows", type=int, default=40000)
    parser.add_argument("--cap-days", type=float, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(
        f"{'network':9} {'planned':>8} {'done':>7} {'dup':>4} {'finished h':>10} "
        f"{'rules floor h':>13} {'fixed pace h':>12} {'follows/h':>9} {'wall s':>7}"
    )
    for network, n in (
        (Network.MASTODON, args.mastodon_follows),
        (Network.BLUESKY, args.bluesky_follows),
    ):
        r = run_network(network, n, args.cap_days)
        print(
            f"{r['network']:9} {r['planned']:>8} {r['done']:>7} {r['duplicates']:>4} "
            f"{r['finished_h']:>10.1f} {r['floor_h']:>13.1f} {r['fixed_pacing_h']:>12.1f} "
            f"{r['achieved_per_h']:>9.1f} {r['wall_s']:>7.1f}"
        )


if __name__ == "__main__":
    main()
