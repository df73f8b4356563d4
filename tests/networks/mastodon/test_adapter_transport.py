"""The Mastodon adapter against scripted answers: what no server does on demand.

A `requests` transport (tests/support/mastodon_peer.py `ScriptedAdapter`)
answers each request from a script: 429 storms, timeouts, garbage, header
formats of other servers, media that takes a while to process. No server
runs here; every request sent is still checked against the documented API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from hirondelle.networks.base import (
    Action,
    ActionKind,
    MediaUpload,
    Network,
    OutgoingPost,
    RemoteAccount,
)
from hirondelle.networks.budget import Budget
from hirondelle.networks.errors import (
    AuthExpired,
    InvalidResponse,
    NotFound,
    RateLimited,
    Refused,
    Unavailable,
)
from hirondelle.networks.mastodon import DEFAULT_POOLS, MastodonAdapter
from tests.networks.mastodon.contract import problems
from tests.support.mastodon_peer import (
    INSTANCE,
    ScriptedAdapter,
    http_date,
    reply,
    scripted_session,
)

BASE = "https://social.example"
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def account(local_id: str, acct: str) -> dict:
    host = acct.split("@")[1] if "@" in acct else "social.example"
    user = acct.split("@")[0]
    return {
        "id": local_id,
        "acct": acct,
        "username": user,
        "uri": f"https://{host}/users/{user}",
        "url": f"https://{host}/@{user}",
        "display_name": user.title(),
    }


def rel(local_id: str, **flags: bool) -> dict:
    return {"id": local_id, "following": False, "requested": False, "blocking": False,
            "muting": False, **flags}  # fmt: skip


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def script() -> ScriptedAdapter:
    return ScriptedAdapter().on("GET", "/api/v2/instance", reply(body=INSTANCE))


@pytest.fixture
def adapter(script: ScriptedAdapter, clock: Clock) -> Iterator[MastodonAdapter]:
    slept: list[float] = []
    a = MastodonAdapter(
        BASE,
        "token",
        session=scripted_session(script),
        clock=clock,
        sleep=slept.append,
        media_poll_interval=2.0,
        media_poll_timeout=10.0,
    )
    a.slept = slept  # type: ignore[attr-defined]
    yield a
    a.close()
    wrong = {f"{r.method} {r.path}": problems(r) for r in script.seen if problems(r)}
    assert not wrong, f"requests that do not match the documented API: {wrong}"


DAVE = RemoteAccount(Network.MASTODON, "https://remote.example/users/dave", "dave@remote.example",
                     local_id="7")  # fmt: skip
ERIN = RemoteAccount(Network.MASTODON, "https://other.example/users/erin", "erin@other.example",
                     local_id="8")  # fmt: skip


def follow(target: RemoteAccount, key: str = "k") -> Action:
    return Action(ActionKind.FOLLOW, target, key)


def test_mastodon_rate_headers_set_the_request_pool(script, adapter, clock) -> None:
    adapter.instance()  # fetched first, so the headers below are the last word
    server_now = NOW - 1000  # the server's clock is 1000 s behind ours
    # server_now + 120 s, written as Mastodon writes it
    reset = datetime.fromtimestamp(server_now + 120, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    script.on(
        "GET",
        "/api/v1/accounts/verify_credentials",
        reply(
            body=account("1", "me"),
            headers={
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "250",
                "X-RateLimit-Reset": reset,
                "Date": http_date(server_now),
            },
        ),
    )
    adapter.whoami()
    pool = adapter.budget.pools["requests"]
    assert pool.limit == 300
    assert pool.used == 50
    assert pool.reset_at == pytest.approx(NOW + 120, abs=1)


def test_epoch_reset_headers_are_understood_too(script, adapter, clock) -> None:
    adapter.instance()
    script.on(
        "GET",
        "/api/v1/accounts/verify_credentials",
        reply(
            body=account("1", "me"),
            headers={
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(NOW) + 30),
            },
        ),
    )
    adapter.whoami()
    assert adapter.budget.allowance({"requests": 1}) == 0
    assert adapter.budget.delay({"requests": 1}) == pytest.approx(30, abs=1)


def _window_answer(reset: float, server_now: float, remaining: int = 19):
    """mastodon-mock's headers: reset and Date both truncated to the second."""
    return reply(
        body=account("1", "me"),
        headers={
            "X-RateLimit-Limit": "20",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset)),
            "Date": http_date(server_now),
        },
    )


def test_a_whole_second_window_ends_one_period_after_its_first_answer(
    script, adapter, clock
) -> None:
    """A window of 4 s opened by our request at NOW + 0.6 ends at NOW + 4.6; the
    truncated headers alone (reset NOW + 4, Date NOW) only say "by NOW + 5.6"."""
    adapter.budget.pools["requests"].period = 4
    adapter.instance()
    script.on(
        "GET",
        "/api/v1/accounts/verify_credentials",
        _window_answer(NOW + 4.6, NOW + 0.6),
        _window_answer(NOW + 4.6, NOW + 2.3, remaining=10),
    )
    clock.now = NOW + 0.6
    adapter.whoami()
    pool = adapter.budget.pools["requests"]
    assert pool.reset_at == pytest.approx(NOW + 4.6, abs=0.01)
    clock.now = NOW + 2.3  # later answers of the same window do not move its end
    adapter.whoami()
    assert pool.reset_at == pytest.approx(NOW + 4.6, abs=0.01)
    assert pool.used == 10


def test_after_a_429_the_window_end_comes_from_the_headers_alone(script, adapter, clock) -> None:
    adapter.budget.pools["requests"].period = 4
    adapter.instance()
    script.on(
        "GET",
        "/api/v1/accounts/verify_credentials",
        reply(429, {"error": "Too many requests"}, headers={"Retry-After": "1"}),
        _window_answer(NOW + 14.6, NOW + 10.6),
    )
    with pytest.raises(RateLimited):
        adapter.whoami()
    clock.now = NOW + 10.6
    adapter.whoami()
    # reset NOW + 14 (+1 for its truncated second), seen against Date NOW + 10
    assert adapter.budget.pools["requests"].reset_at == pytest.approx(NOW + 15.6, abs=0.01)


def test_a_429_raises_rate_limited_with_retry_after(script, adapter) -> None:
    script.on(
        "GET",
        "/api/v1/accounts/verify_credentials",
        reply(429, {"error": "Too many requests"}, headers={"Retry-After": "42"}),
    )
    with pytest.raises(RateLimited) as raised:
        adapter.whoami()
    assert raised.value.retry_after == 42
    calls = len(script.seen)
    with pytest.raises(RateLimited):
        adapter.whoami()  # the budget now refuses locally: no request goes out
    assert len(script.seen) == calls


def test_a_429_on_follows_with_a_day_long_window_exhausts_the_follow_pool(
    script, adapter, clock
) -> None:
    script.on("GET", "/api/v1/accounts/relationships", reply(body=[rel("7"), rel("8")]))
    script.on(
        "POST",
        "/api/v1/accounts/7/follow",
        reply(
            429,
            {"error": "Too many requests"},
            headers={
                "X-RateLimit-Limit": "400",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(NOW) + 20_000),
            },
        ),
    )
    results = adapter.apply([follow(DAVE, "a"), follow(ERIN, "b")])
    assert [type(r.error) for r in results] == [RateLimited, RateLimited]
    assert results[0].error.retry_after == pytest.approx(20_000, abs=1)
    assert adapter.budget.pools["follows"].remaining(clock()) == 0
    assert adapter.budget.pools["requests"].remaining(clock()) > 0  # blocks still possible
    assert [r.path for r in script.seen].count("/api/v1/accounts/8/follow") == 0


def test_a_429_storm_never_turns_into_a_retry_loop(script, adapter, clock) -> None:
    script.on("GET", "/api/v1/accounts/relationships", reply(429, headers={"Retry-After": "5"}))
    for _ in range(20):
        [result] = adapter.apply([follow(DAVE)])
        assert isinstance(result.error, RateLimited)
        clock.now += 1
    # only the calls made after each window reopened reached the server
    assert len(script.seen) <= 5


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (requests.ReadTimeout("read timed out"), Unavailable),
        (requests.ConnectionError("refused"), Unavailable),
        (reply(503, {"error": "down"}), Unavailable),
        (reply(401, {"error": "The access token was revoked"}), AuthExpired),
        (reply(403, {"error": "This action is outside the authorized scopes"}), AuthExpired),
        (reply(404, {"error": "Record not found"}), NotFound),
        (reply(422, {"error": "Validation failed"}), Refused),
        (reply(200, raw=b"<html>not json</html>"), InvalidResponse),
        (reply(200, body=["not", "an", "account"]), InvalidResponse),
    ],
)
def test_failures_become_our_errors(script, adapter, answer, expected) -> None:
    script.on("GET", "/api/v1/accounts/verify_credentials", answer)
    with pytest.raises(expected) as raised:
        adapter.whoami()
    assert raised.value.message


def test_follow_sends_one_post_and_skips_what_is_done(script, adapter) -> None:
    script.on("GET", "/api/v1/accounts/relationships",
              reply(body=[rel("7", following=True), rel("8")]))  # fmt: skip
    script.on("POST", "/api/v1/accounts/8/follow", reply(body=rel("8", following=True)))
    results = adapter.apply([follow(DAVE, "a")])
    assert results[0].already_done
    results = adapter.apply([follow(ERIN, "b")])
    assert results[0].ok
    assert not results[0].already_done
    relationship_queries = [r for r in script.seen if r.path.endswith("/relationships")]
    assert relationship_queries[-1].query == [("id[]", "8")]
    assert [r.path for r in script.seen if r.method == "POST"] == ["/api/v1/accounts/8/follow"]


def test_resolve_uses_search_when_lookup_does_not_know(script, adapter) -> None:
    script.on("GET", "/api/v1/accounts/lookup", reply(404, {"error": "Record not found"}))
    script.on(
        "GET",
        "/api/v2/search",
        reply(
            body={
                "accounts": [
                    account("3", "daver@remote.example"),
                    account("7", "dave@remote.example"),
                ],
                "statuses": [],
                "hashtags": [],
            }
        ),
    )
    found = adapter.resolve("@dave@remote.example")
    assert found is not None
    assert found.local_id == "7"
    assert found.id == "https://remote.example/users/dave"


def test_list_batch_refused_is_retried_one_by_one(script, adapter) -> None:
    script.on("GET", "/api/v1/lists/5/accounts", reply(body=[]))
    calls: list[list[str]] = []

    def add(req):
        calls.append(req.body["account_ids"])
        if "8" in req.body["account_ids"]:
            return reply(422, {"error": "Validation failed: you must follow"})(req)
        return reply(body={})(req)

    script.on("POST", "/api/v1/lists/5/accounts", add)
    actions = [Action(ActionKind.LIST_ADD, t, f"l{t.local_id}", "5") for t in (DAVE, ERIN)]
    results = adapter.apply(actions)
    assert results[0].ok
    assert isinstance(results[1].error, Refused)
    assert calls == [["7", "8"], ["7"], ["8"]]


def test_media_answered_202_is_polled_until_ready(script, adapter) -> None:
    script.on("POST", "/api/v2/media", reply(202, {"id": "m1", "type": "image", "url": None}))
    script.on(
        "GET",
        "/api/v1/media/m1",
        reply(206, {"id": "m1", "url": None}),
        reply(200, {"id": "m1", "url": "https://social.example/m1.png"}),
    )
    posted: list[dict] = []

    def status(req):
        posted.append({"body": req.body, "key": req.headers.get("Idempotency-Key")})
        return reply(body={"id": "99", "url": "https://social.example/@me/99"})(req)

    script.on("POST", "/api/v1/statuses", status)
    published = adapter.publish(
        OutgoingPost(text="old", key="x-42", media=[MediaUpload(b"gif", "image/gif")])
    )
    assert published.uri == "99"
    assert adapter.slept == [2.0, 2.0]
    assert posted == [
        {"body": {"status": "old", "visibility": "unlisted", "media_ids": ["m1"]}, "key": "x-42"}
    ]


def test_media_that_never_finishes_is_a_transient_failure(script, adapter) -> None:
    script.on("POST", "/api/v2/media", reply(202, {"id": "m1", "url": None}))
    script.on("GET", "/api/v1/media/m1", reply(206, {"id": "m1", "url": None}))
    with pytest.raises(Unavailable, match="still processing"):
        adapter.publish(OutgoingPost(text="", key="k", media=[MediaUpload(b"x", "video/mp4")]))
    assert not [r for r in script.seen if r.path == "/api/v1/statuses"]


def test_the_post_budget_stops_publishing_before_the_server_does(script, clock) -> None:
    state = {"posts": {"limit": 300, "period": 10800, "used": 300, "reset_at": NOW + 600}}
    with MastodonAdapter(BASE, "t", session=scripted_session(script), clock=clock,
                         budget_state=state) as adapter:  # fmt: skip
        with pytest.raises(RateLimited) as raised:
            adapter.publish(OutgoingPost(text="hi", key="k"))
        assert raised.value.retry_after == pytest.approx(600)
    assert script.seen == []


def test_budget_state_survives_a_restart(clock) -> None:
    budget = Budget.from_dict({}, DEFAULT_POOLS, clock=clock)
    budget.spend({"follows": 1}, count=7)
    restored = MastodonAdapter(BASE, "t", budget_state=budget.to_dict(), clock=clock)
    assert restored.budget.pools["follows"].remaining(clock()) == 393
    restored.close()


def test_limits_fall_back_to_the_v1_instance_document() -> None:
    script = ScriptedAdapter()
    script.on("GET", "/api/v2/instance", reply(404, {"error": "Not found"}))
    script.on(
        "GET", "/api/v1/instance", reply(body={"uri": "akkoma.example", "max_toot_chars": 5000})
    )
    with MastodonAdapter(BASE, "t", session=scripted_session(script)) as adapter:
        limits = adapter.limits()
    assert limits.max_characters == 5000
    assert limits.characters_reserved_per_url == 23
    assert limits.domain == "akkoma.example"


def test_a_missing_list_fails_its_own_entries_only(script, adapter) -> None:
    script.on("GET", "/api/v1/lists/404/accounts", reply(404, {"error": "Record not found"}))
    script.on("GET", "/api/v1/lists/5/accounts", reply(body=[{"id": "7"}]))
    results = adapter.apply(
        [
            Action(ActionKind.LIST_ADD, DAVE, "a", "404"),
            Action(ActionKind.LIST_ADD, DAVE, "b", "5"),
        ]
    )
    assert isinstance(results[0].error, NotFound)
    assert results[1].already_done


def test_an_expired_token_stops_apply_instead_of_failing_items(script, adapter) -> None:
    script.on("GET", "/api/v1/accounts/relationships", reply(body=[rel("7"), rel("8")]))
    script.on("POST", "/api/v1/accounts/7/follow", reply(401, {"error": "revoked"}))
    with pytest.raises(AuthExpired):
        adapter.apply([follow(DAVE, "a"), follow(ERIN, "b")])
    assert [r.path for r in script.seen if r.method == "POST"] == ["/api/v1/accounts/7/follow"]


def test_a_whole_second_reset_is_read_as_the_end_of_that_second(script, adapter) -> None:
    """`X-RateLimit-Reset: 1700000030` means some time before 1700000031: wait for that."""
    adapter.instance()
    script.on(
        "GET",
        "/api/v1/accounts/verify_credentials",
        reply(
            body=account("1", "me"),
            headers={
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(NOW) + 30),
            },
        ),
    )
    adapter.whoami()
    assert adapter.budget.pools["requests"].reset_at == int(NOW) + 31
