"""Three simulated days of follows on a virtual clock: the budget keeps the pace.

The server here is a script (no Mastodon runs): it enforces Mastodon's
limits the way Mastodon counts them — 300 requests per 5-minute bucket with
`X-RateLimit-*` headers (ISO 8601 reset, `Date` on its own clock), and 400
follows per day bucket aligned on the epoch, answering 429 beyond either.
A plan runner's loop (ask the budget, apply, wait) drives the adapter.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hirondelle.networks.base import Action, ActionKind, Network, RemoteAccount
from hirondelle.networks.errors import RateLimited
from hirondelle.networks.mastodon import MastodonAdapter
from tests.support.mastodon_peer import (
    INSTANCE,
    RecordedRequest,
    ScriptedAdapter,
    http_date,
    reply,
    scripted_session,
)

DAY = 86_400
START = 1_800_000_000.0  # not aligned on a day: the server's buckets and ours differ


class Server:
    """Mastodon's counting: fixed buckets keyed by time // period."""

    def __init__(self, clock: list[float], skew: float) -> None:
        self.clock = clock
        self.skew = skew  # the server's clock runs this much behind ours
        self.requests: dict[int, int] = {}
        self.follows: dict[int, int] = {}
        self.followed: set[str] = set()
        self.refused = 0

    def now(self) -> float:
        return self.clock[0] - self.skew

    def answer(self, body: object, status: int = 200, *, follows: bool = False):
        now = self.now()
        bucket = int(now // 300)
        used = self.requests.get(bucket, 0) + 1
        self.requests[bucket] = used
        if used > 300:
            self.refused += 1
            return self._limited(300, (bucket + 1) * 300)
        if follows:
            day = int(now // DAY)
            if self.follows.get(day, 0) >= 400:
                self.refused += 1
                return self._limited(400, (day + 1) * DAY)
            self.follows[day] = self.follows.get(day, 0) + 1
        reset = datetime.fromtimestamp((bucket + 1) * 300, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return reply(
            status,
            body,
            headers={
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": str(300 - used),
                "X-RateLimit-Reset": reset,
                "Date": http_date(now),
            },
        )

    def _limited(self, limit: int, reset_epoch: float):
        reset = datetime.fromtimestamp(reset_epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return reply(
            429,
            {"error": "Too many requests"},
            headers={
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset,
                "Date": http_date(self.now()),
            },
        )

    def relationships(self, req: RecordedRequest):
        ids = [v for k, v in req.query if k == "id[]"]
        body = [{"id": i, "following": i in self.followed} for i in ids]
        return self.answer(body)(req)

    def follow(self, req: RecordedRequest):
        target = req.path.split("/")[4]
        answer = self.answer({"id": target, "following": True}, follows=True)(req)
        if answer.status_code == 200:
            self.followed.add(target)
        return answer


@pytest.mark.slow
def test_three_days_of_follows_at_the_allowed_pace_without_a_429() -> None:
    clock = [START]
    server = Server(clock, skew=37.0)
    script = ScriptedAdapter().on("GET", "/api/v2/instance", reply(body=INSTANCE))
    script.rules.append(("GET", "/api/v1/accounts/relationships", [server.relationships]))
    script.rules.extend(
        ("POST", f"/api/v1/accounts/{i}/follow", [server.follow]) for i in range(1, 2001)
    )
    adapter = MastodonAdapter(
        "https://social.example", "t", session=scripted_session(script), clock=lambda: clock[0]
    )
    costs = adapter.cost(ActionKind.FOLLOW)
    done, waits = 0, 0
    end = START + 3 * DAY - 3600
    target = 1
    while clock[0] < end and target <= 2000:
        if adapter.budget.allowance(costs) < 1:
            clock[0] += max(1.0, adapter.budget.delay(costs))
            waits += 1
            continue
        uri, handle = f"https://r.example/u/{target}", f"u{target}@r.example"
        who = RemoteAccount(Network.MASTODON, uri, handle, local_id=str(target))
        [result] = adapter.apply([Action(ActionKind.FOLLOW, who, f"k{target}")])
        clock[0] += 0.05
        if isinstance(result.error, RateLimited):
            clock[0] += result.error.retry_after
            continue
        assert result.ok, result.error
        done += 1
        target += 1
    adapter.close()
    per_hour = done / ((clock[0] - START) / 3600)
    print(f"follows: {done} in {(clock[0] - START) / 3600:.1f} simulated hours "
          f"= {per_hour:.2f}/h (allowed 400/24 h = {400 / 24:.2f}/h); waits: {waits}")  # fmt: skip
    assert server.refused == 0
    assert done == 3 * 400
    assert len(server.followed) == done
