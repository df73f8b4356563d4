"""How close does a long reconnection run come to what the rules allow?

Simulates, on a virtual clock, a person with many follows to redo, using the
real plan runner (`hirondelle.migration.services.running`), the real budget
pools and per-action costs of each adapter, and an in-memory network that
only counts. Reports when the run finishes (virtual hours) beside the rules'
floor (the least time the pools allow, from fresh windows) and a baseline
computed in the same run: a fixed pause between follows set 10 % under the
long-run ceiling, which is what a tool that reads no budget must do.

Then a real run, in real time and real HTTP: mastodon-mock on 127.0.0.1
enforcing a scaled-down request budget (20 requests per 4 s per account, a
fixed window, 429 with X-RateLimit headers beyond it), followed by the real
runner and Mastodon adapter (its request pool set to the same budget), and in
the same run by three simple clients on their own accounts: one that paces
itself 10 % under the budget, one that goes as fast as it can and waits for
the window's reset on each 429, and one that reads the rate-limit headers and
waits for the reset when none is left (the strongest simple client that draws
no 429). Goal: every follow done, no 429, within 1.1x the floor the budget
allows.

    .venv/bin/python bench/reconnect_pace_bench.py [--mastodon-follows 4000]
        [--bluesky-follows 40000] [--peer-follows 150] [--peer-limit 20 --peer-window 4]
    .venv/bin/python bench/reconnect_pace_bench.py --smoke
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


# --------------------------------------------------------------------------- real run

#: The peer's budget, scaled down: Mastodon allows 300 requests per 5 minutes
#: per account; the peer allows PEER_LIMIT per PEER_WINDOW seconds (a fixed
#: window per token, as mastodon-mock enforces it).
PEER_LIMIT = 20
PEER_WINDOW = 4


def _peer(n_targets: int, people: int = 3):
    """mastodon-mock on 127.0.0.1 with rate limiting on; each person follows everyone."""
    from mastodon_mock.config import (
        DatabaseConfig,
        MastodonMockConfig,
        RateLimitConfig,
        SeedAccount,
        SeedConfig,
        StreamingConfig,
    )
    from mastodon_mock.testing import MockServer

    people = [
        SeedAccount(username=f"me{k}", display_name=f"Me {k}", access_token=f"token{k}")
        for k in range(people)
    ]
    targets = [SeedAccount(username=f"t{i}", display_name=f"T {i}") for i in range(n_targets)]
    config = MastodonMockConfig(
        database=DatabaseConfig(path=":memory:"),
        seed=SeedConfig(accounts=[*people, *targets]),
        streaming=StreamingConfig(enabled=False),
        ratelimit=RateLimitConfig(enabled=True, limit=PEER_LIMIT, window_seconds=PEER_WINDOW),
    )
    return MockServer(config=config).start()


class _Counting:
    """A requests hook: how many answers were 429."""

    def __init__(self) -> None:
        self.requests = 0
        self.refused = 0

    def __call__(self, response, *args, **kwargs):
        self.requests += 1
        self.refused += response.status_code == 429


def _target_ids(base: str, n: int) -> list[str]:
    """The targets' ids, looked up slowly enough to stay inside the peer's window."""
    import requests

    ids = []
    session = requests.Session()
    session.headers["Authorization"] = "Bearer token2"
    for i in range(n):
        while True:
            r = session.get(f"{base}/api/v1/accounts/lookup", params={"acct": f"t{i}"})
            if r.status_code != 429:
                break
            time.sleep(max(0.05, int(r.headers["X-RateLimit-Reset"]) - time.time()))
        r.raise_for_status()
        ids.append(r.json()["id"])
    return ids


def _following(base: str, token: str) -> int:
    import requests

    headers = {"Authorization": f"Bearer {token}"}
    me = requests.get(f"{base}/api/v1/accounts/verify_credentials", headers=headers, timeout=10)
    if me.status_code == 429:
        time.sleep(PEER_WINDOW)
        return _following(base, token)
    return int(me.json()["following_count"])


def _runner_run(base: str, ids: list[str]) -> dict:
    """Hirondelle's runner and Mastodon adapter, its request pool set to the peer's budget."""
    import requests
    from django.utils import timezone

    from hirondelle.identity.models import User
    from hirondelle.migration.models import ConnectedAccount, PlanItem
    from hirondelle.migration.services import running
    from hirondelle.networks.budget import Budget, Pool
    from hirondelle.networks.mastodon import MastodonAdapter
    from hirondelle.networks.mastodon.adapter import DEFAULT_POOLS

    user = User.objects.create(username="bench-peer")
    account = ConnectedAccount.objects.create(
        user=user, network=Network.MASTODON, server=base, handle="me0", remote_id="me0"
    )
    now = timezone.now()
    PlanItem.objects.bulk_create(
        PlanItem(
            account=account,
            kind="follow",
            x_id=str(i),
            target_id=f"{base}/users/t{i}",
            target_handle=f"t{i}",
            payload={"local_id": lid},
            key=f"peer-{i}",
            next_attempt_at=now,
        )
        for i, lid in enumerate(ids)
    )
    counting = _Counting()
    session = requests.Session()
    session.hooks["response"].append(counting)
    adapter = MastodonAdapter(base, "token0", session=session)
    # Scaled like the peer; the daily follow pool is out of reach of this short
    # run (the peer does not enforce it).
    adapter.budget = Budget(
        {
            **DEFAULT_POOLS,
            "requests": Pool(limit=PEER_LIMIT, period=PEER_WINDOW),
            "follows": Pool(limit=10**9, period=86400),
        }
    )
    original = running.adapter_for
    running.adapter_for = lambda account: adapter
    t = time.perf_counter()
    try:
        running.run_until_idle([account], sleep=time.sleep, max_sleep=PEER_WINDOW)
    finally:
        running.adapter_for = original
    wall = time.perf_counter() - t
    done = PlanItem.objects.filter(account=account, state=PlanItem.State.DONE).count()
    return {"wall": wall, "done": done, "requests": counting.requests, "refused": counting.refused}


def _simple_run(base: str, ids: list[str], token: str, pause) -> dict:
    """A plain client: two requests per follow, retrying a 429; `pause(response)`
    says how long to sleep after each answer (its whole pacing rule)."""
    import requests

    counting = _Counting()
    session = requests.Session()
    session.hooks["response"].append(counting)
    session.headers["Authorization"] = f"Bearer {token}"
    done = 0
    t = time.perf_counter()
    for lid in ids:
        for method, path, params in (
            ("GET", "/api/v1/accounts/relationships", {"id[]": lid}),
            ("POST", f"/api/v1/accounts/{lid}/follow", None),
        ):
            while True:
                r = session.request(method, base + path, params=params, timeout=10)
                time.sleep(max(0.0, pause(r)))
                if r.status_code != 429:
                    break
        done += r.ok
    return {
        "wall": time.perf_counter() - t,
        "done": done,
        "requests": counting.requests,
        "refused": counting.refused,
    }


def _fixed_pace_run(base: str, ids: list[str], token: str) -> dict:
    """A tool that reads no budget: a fixed pause, 10 % slower than the limit."""
    return _simple_run(base, ids, token, lambda r: PEER_WINDOW / PEER_LIMIT / 0.9)


def _until_refused_run(base: str, ids: list[str], token: str) -> dict:
    """The strongest simple client: as fast as it can, and on a 429 wait for the window's reset."""

    def pause(r) -> float:
        if r.status_code != 429:
            return 0.0
        return max(0.25, int(r.headers["X-RateLimit-Reset"]) - time.time())

    return _simple_run(base, ids, token, pause)


def _header_run(base: str, ids: list[str], token: str) -> dict:
    """The strongest simple polite client: reads X-RateLimit-Remaining, and at 0
    sleeps until X-RateLimit-Reset (plus the second that whole-second resets
    truncate, on this machine's clock: the server's, so no skew to allow for)."""

    def pause(r) -> float:
        if r.status_code == 429 or int(r.headers["X-RateLimit-Remaining"]) == 0:
            return int(r.headers["X-RateLimit-Reset"]) + 1 - time.time()
        return 0.0

    return _simple_run(base, ids, token, pause)


def real_run(follows: int) -> bool:
    """Returns whether the goal is met: the runner within 10 % of the rules' floor, no 429."""
    server = _peer(follows, people=4)
    try:
        base = server.base_url
        ids = _target_ids(base, follows)
        time.sleep(PEER_WINDOW)
        print(
            f"\nReal run against mastodon-mock on 127.0.0.1 enforcing {PEER_LIMIT} requests per "
            f"{PEER_WINDOW} s per account (Mastodon: 300 per 300 s; here the window is "
            f"{300 / PEER_WINDOW:.0f}x shorter and holds {300 / PEER_LIMIT:.0f}x fewer requests, "
            f"{PEER_LIMIT / PEER_WINDOW:.1f} requests/s instead of 1); the daily follow limit "
            f"is not enforced by this peer. {follows} follows, 2 requests each."
        )
        rows = []
        for label, run, token in (
            ("hirondelle runner", lambda: _runner_run(base, ids), "token0"),
            ("until refused", lambda: _until_refused_run(base, ids, "token1"), "token1"),
            ("fixed pace", lambda: _fixed_pace_run(base, ids, "token2"), "token2"),
            ("reads the headers", lambda: _header_run(base, ids, "token3"), "token3"),
        ):
            r = run()
            time.sleep(PEER_WINDOW)
            r["following"] = _following(base, token)
            rows.append((label, r))
        # The least time any client needs: every full window used, from a fresh one.
        windows = -(-2 * follows // PEER_LIMIT) - 1
        floor = windows * PEER_WINDOW
        print(f"  rules' floor: {floor:.1f} s ({windows} full windows after the first)")
        print(f"  {'client':18} {'seconds':>8} {'follows':>8} {'requests':>9} {'429s':>5}")
        for label, r in rows:
            print(
                f"  {label:18} {r['wall']:>8.1f} {r['following']:>8} {r['requests']:>9} "
                f"{r['refused']:>5}"
            )
        ours = rows[0][1]
        polite = [r for _, r in rows[1:] if r["refused"] == 0 and r["following"] == follows]
        best = min(polite, key=lambda r: r["wall"])
        met = ours["following"] == follows and ours["refused"] == 0 and ours["wall"] <= floor * 1.1
        print(
            f"  runner {ours['wall']:.1f} s = {ours['wall'] / floor:.2f}x the floor "
            f"({floor:.1f} s); strongest simple client without a 429: {best['wall']:.1f} s "
            f"= {best['wall'] / floor:.2f}x"
        )
        print(
            f"  goal: every follow done, no 429, within 1.1x the floor: "
            f"{'goal met' if met else 'GOAL MISSED'}"
        )
        return met
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mastodon-follows", type=int, default=4000)
    parser.add_argument("--bluesky-follows", type=int, default=40000)
    parser.add_argument("--cap-days", type=float, default=30)
    parser.add_argument(
        "--peer-follows", type=int, default=150, help="follows in the real run (0: skip it)"
    )
    parser.add_argument("--peer-limit", type=int, default=20, help="requests a window")
    parser.add_argument("--peer-window", type=int, default=4, help="window, seconds")
    parser.add_argument("--smoke", action="store_true", help="small sizes, to keep it working")
    args = parser.parse_args()
    global PEER_LIMIT, PEER_WINDOW
    PEER_LIMIT, PEER_WINDOW = args.peer_limit, args.peer_window
    if args.smoke:
        args.mastodon_follows, args.bluesky_follows, args.peer_follows = 40, 400, 15
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
        met = (
            r["done"] == r["planned"]
            and r["duplicates"] == 0
            and r["finished_h"] <= max(r["floor_h"] * 1.05, r["floor_h"] + 1)
            and r["finished_h"] < r["fixed_pacing_h"]
        )
        print(
            f"  goal ({r['network']}): all done once, within 5 % (or an hour) of the rules' "
            f"floor, before fixed pacing: {'goal met' if met else 'GOAL MISSED'}"
        )
    if args.peer_follows:
        real_run(args.peer_follows)


if __name__ == "__main__":
    main()
