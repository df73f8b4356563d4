"""Rate budgets: how much a person's account may still do, and when.

A budget holds named pools, each a fixed window (``limit`` units per
``period`` seconds, resetting at ``reset_at``). An action costs units in one
or more pools (a Bluesky follow costs 3 points in the hourly pool and 3 in the
daily one). Live rate-limit headers overwrite what a pool believes, since the
server's count is the truth. Budgets serialise to plain dicts with wall-clock
times, so a killed run resumes without spending the same window twice.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["Budget", "Costs", "Pool"]

#: units charged per pool for one action, e.g. {"points_hour": 3, "points_day": 3}
Costs = Mapping[str, float]


@dataclass
class Pool:
    limit: float
    period: float
    used: float = 0.0
    reset_at: float = 0.0  # wall-clock seconds; 0 means "window not started"

    def _roll(self, now: float) -> None:
        if now >= self.reset_at:
            self.used = 0.0
            self.reset_at = 0.0

    def remaining(self, now: float) -> float:
        self._roll(now)
        return max(0.0, self.limit - self.used)

    def spend(self, units: float, now: float) -> None:
        self._roll(now)
        if self.reset_at == 0.0:
            self.reset_at = now + self.period
        self.used += units


class Budget:
    """A set of pools, charged together; `clock` is injectable for simulations."""

    def __init__(
        self, pools: Mapping[str, Pool], *, clock: Callable[[], float] = time.time
    ) -> None:
        self.pools = dict(pools)
        self.clock = clock

    def allowance(self, costs: Costs) -> int:
        """How many actions of this cost fit now."""
        now = self.clock()
        fits = math.inf
        for name, units in costs.items():
            if units > 0:
                fits = min(fits, self.pools[name].remaining(now) // units)
        return int(fits) if fits != math.inf else 1_000_000

    def delay(self, costs: Costs, count: int = 1) -> float:
        """Seconds to wait before `count` actions of this cost fit (0 if now)."""
        now = self.clock()
        wait = 0.0
        for name, units in costs.items():
            pool = self.pools[name]
            need = units * count
            if need > pool.limit:
                raise ValueError(f"{count} actions never fit in pool {name!r} ({pool.limit})")
            if pool.remaining(now) < need:
                wait = max(wait, pool.reset_at - now)
        return max(0.0, wait)

    def spend(self, costs: Costs, count: int = 1) -> None:
        now = self.clock()
        for name, units in costs.items():
            self.pools[name].spend(units * count, now)

    def observe(self, pool: str, *, limit: float, remaining: float, reset_at: float) -> None:
        """Adopt the server's own count (from rate-limit headers)."""
        p = self.pools[pool]
        p.limit = limit
        p.used = max(0.0, limit - remaining)
        p.reset_at = reset_at

    def exhaust(self, pool: str, retry_after: float) -> None:
        """The server answered 429: nothing more in this pool until then."""
        now = self.clock()
        p = self.pools[pool]
        p.used = p.limit
        p.reset_at = max(p.reset_at, now + retry_after)

    def eta(self, costs: Costs, count: int) -> float:
        """Seconds needed for `count` more actions, if the windows stay as they are."""
        now = self.clock()
        slowest = 0.0
        for name, units in costs.items():
            if units <= 0:
                continue
            pool = self.pools[name]
            need = units * count - pool.remaining(now)
            if need <= 0:
                continue
            # Spending what is left opens a window (if none is open): the
            # next units wait for it to reset.
            first_wait = (pool.reset_at - now) if pool.reset_at else pool.period
            windows = math.ceil(need / pool.limit)
            slowest = max(slowest, first_wait + (windows - 1) * pool.period)
        return slowest

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {
            name: {"limit": p.limit, "period": p.period, "used": p.used, "reset_at": p.reset_at}
            for name, p in self.pools.items()
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Mapping[str, float]],
        defaults: Mapping[str, Pool],
        *,
        clock: Callable[[], float] = time.time,
    ) -> Budget:
        """Restore saved pools over fresh defaults (new pools keep their default)."""
        pools = {name: Pool(p.limit, p.period) for name, p in defaults.items()}
        for name, saved in data.items():
            if name in pools:
                pools[name] = Pool(**saved)
        return cls(pools, clock=clock)
