"""Rate budgets: windows, costs shared across pools, live headers, persistence."""

from __future__ import annotations

import pytest

from hirondelle.networks.budget import Budget, Pool


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def bluesky_like(clock: Clock) -> Budget:
    return Budget(
        {"hour": Pool(5000, 3600), "day": Pool(35000, 86400)},
        clock=clock,
    )


def test_allowance_is_the_tightest_pool() -> None:
    clock = Clock()
    budget = bluesky_like(clock)
    follow = {"hour": 3, "day": 3}
    assert budget.allowance(follow) == 1666
    budget.spend(follow, 1666)
    assert budget.allowance(follow) == 0
    assert budget.delay(follow) == pytest.approx(3600)
    clock.t += 3600
    assert budget.allowance(follow) == 1666


def test_daily_pool_caps_hourly_windows() -> None:
    clock = Clock()
    budget = bluesky_like(clock)
    follow = {"hour": 3, "day": 3}
    done = 0
    for _ in range(30):
        n = budget.allowance(follow)
        budget.spend(follow, n)
        done += n
        clock.t += 3600
    # 35,000 points a day: 11,666 creates in the first 24 h, then the next day opens.
    assert done == 11666 + 1666 * 6


def test_headers_overrule_local_count() -> None:
    clock = Clock()
    budget = Budget({"requests": Pool(300, 300)}, clock=clock)
    budget.observe("requests", limit=300, remaining=5, reset_at=clock.t + 42)
    assert budget.allowance({"requests": 1}) == 5
    budget.spend({"requests": 1}, 5)
    assert budget.delay({"requests": 1}) == pytest.approx(42)


def test_exhaust_waits_for_retry_after() -> None:
    clock = Clock()
    budget = Budget({"requests": Pool(300, 300)}, clock=clock)
    budget.exhaust("requests", 90)
    assert budget.allowance({"requests": 1}) == 0
    clock.t += 91
    assert budget.allowance({"requests": 1}) == 300


def test_round_trip_keeps_the_window() -> None:
    clock = Clock()
    defaults = {"follows": Pool(400, 86400), "requests": Pool(300, 300)}
    budget = Budget({k: Pool(v.limit, v.period) for k, v in defaults.items()}, clock=clock)
    budget.spend({"follows": 1, "requests": 1}, 399)
    restored = Budget.from_dict(budget.to_dict(), defaults, clock=clock)
    assert restored.allowance({"follows": 1}) == 1


def test_eta_counts_whole_windows() -> None:
    clock = Clock()
    budget = Budget({"follows": Pool(400, 86400)}, clock=clock)
    assert budget.eta({"follows": 1}, 400) == 0
    budget.spend({"follows": 1}, 400)
    # 1,000 more: 400 when the window reopens in 24 h, 400 a day later, 200 the day after.
    assert budget.eta({"follows": 1}, 1000) == pytest.approx(3 * 86400)


def test_eta_from_fresh_windows() -> None:
    budget = Budget({"follows": Pool(400, 86400)}, clock=Clock())
    # 400 now, 400 when that window resets a day later: done at 24 h.
    assert budget.eta({"follows": 1}, 800) == pytest.approx(86400)


def test_a_batch_larger_than_a_pool_is_refused() -> None:
    budget = Budget({"follows": Pool(400, 86400)})
    with pytest.raises(ValueError, match="never fit"):
        budget.delay({"follows": 1}, 401)
