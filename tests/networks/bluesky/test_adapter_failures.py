"""What no real server does on demand: 429 storms, 500s, timeouts, garbage, expiry.

These tests give the adapter an httpx MockTransport that plays a PDS badly;
everything that a real server can show is tested in test_adapter_peer.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from hirondelle.networks.base import (
    Action,
    ActionKind,
    MediaUpload,
    Network,
    OutgoingPost,
    RemoteAccount,
)
from hirondelle.networks.bluesky import BlueskyAdapter, tid_for
from hirondelle.networks.errors import (
    AuthExpired,
    InvalidResponse,
    RateLimited,
    Refused,
    Unavailable,
)

NOW = 1_800_000_000.0
ME = "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"


def jwt(exp: float, tag: str = "a") -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'sub': ME, 'exp': int(exp), 'tag': tag})}.sig"


def did(n: int) -> str:
    return f"did:plc:{n:024d}".replace("0", "a").replace("1", "b")[:32]


def actions(n: int, kind: ActionKind = ActionKind.FOLLOW) -> list[Action]:
    return [
        Action(
            kind,
            RemoteAccount(Network.BLUESKY, id=f"did:plc:target{i:016d}x", handle=""),
            key=f"k{i}",
        )
        for i in range(n)
    ]


class FakePds:
    """A scripted PDS: `routes[method]` answers, every request is kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        # Far from expiry in real time, so the SDK does not refresh on its own.
        self.access = jwt(datetime.now(UTC).timestamp() + 7200)
        self.routes: dict[str, Callable[[httpx.Request], httpx.Response]] = {
            "com.atproto.server.createSession": self.session,
            "com.atproto.server.refreshSession": self.refreshed,
            "com.atproto.repo.listRecords": lambda r: httpx.Response(200, json={"records": []}),
            "com.atproto.repo.applyWrites": self.apply_writes,
        }

    def session(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "accessJwt": self.access,
                "refreshJwt": jwt(NOW + 86400, "r"),
                "handle": "me.test",
                "did": ME,
            },
        )

    def refreshed(self, request: httpx.Request) -> httpx.Response:
        self.access = jwt(datetime.now(UTC).timestamp() + 7200, "fresh")
        return self.session(request)

    @staticmethod
    def apply_writes(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(
            200,
            json={
                "results": [
                    {
                        "$type": "com.atproto.repo.applyWrites#createResult",
                        "uri": f"at://{body['repo']}/{w['collection']}/{w['rkey']}",
                        "cid": "bafy",
                    }
                    for w in body["writes"]
                ]
            },
        )

    def method(self, request: httpx.Request) -> str:
        return request.url.path.rsplit("/", 1)[-1]

    def bodies(self, method: str) -> list[dict]:
        return [json.loads(r.content) for r in self.requests if self.method(r) == method]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(self.method(request))
        if route is None:
            return httpx.Response(
                501, json={"error": "MethodNotImplemented", "message": "not here"}
            )
        return route(request)


@pytest.fixture
def pds() -> FakePds:
    return FakePds()


@pytest.fixture
def make(pds):
    made = []

    def build(**kwargs) -> BlueskyAdapter:
        kwargs.setdefault("clock", lambda: NOW)
        adapter = BlueskyAdapter(
            "http://pds.invalid",
            "me.test",
            "app-pass-word",
            transport=httpx.MockTransport(pds),
            **kwargs,
        )
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


def test_batches_of_200_records_with_derived_keys(pds, make):
    adapter = make()
    results = adapter.apply(actions(250))
    writes = [b["writes"] for b in pds.bodies("com.atproto.repo.applyWrites")]
    assert [len(w) for w in writes] == [200, 50]
    first = writes[0][0]
    assert first["rkey"] == tid_for("k0", namespace="app.bsky.graph.follow")
    assert first["value"] == {
        "$type": "app.bsky.graph.follow",
        "subject": "did:plc:target0000000000000000x",
        "createdAt": "2027-01-15T08:00:00.000Z",
    }
    assert all(r.ok for r in results)
    assert adapter.budget.pools["points_hour"].used == 750


def test_429_with_headers_stops_the_run_until_reset(pds, make):
    def limited(request):
        return httpx.Response(
            429,
            headers={
                "ratelimit-limit": "5000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": str(int(NOW + 1800)),
                "ratelimit-policy": "5000;w=3600",
            },
            json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        )

    pds.routes["com.atproto.repo.applyWrites"] = limited
    adapter = make()
    results = adapter.apply(actions(250))
    assert all(isinstance(r.error, RateLimited) for r in results)
    assert {r.error.retry_after for r in results} == {1800}
    assert len(pds.bodies("com.atproto.repo.applyWrites")) == 1  # the 2nd batch was not sent
    cost = adapter.cost(ActionKind.FOLLOW)
    assert adapter.budget.allowance(cost) == 0
    assert adapter.budget.delay(cost) == 1800

    sent = len(pds.requests)
    again = adapter.apply(actions(3))
    assert all(isinstance(r.error, RateLimited) for r in again)
    assert len(pds.requests) == sent  # the budget said no before the server had to


def test_500_with_no_existing_record_is_unavailable(pds, make):
    pds.routes["com.atproto.repo.applyWrites"] = lambda r: httpx.Response(
        500, json={"error": "InternalServerError", "message": "Internal Server Error"}
    )
    pds.routes["com.atproto.repo.getRecord"] = lambda r: httpx.Response(
        400, json={"error": "RecordNotFound", "message": "Could not locate record"}
    )
    results = make().apply(actions(3))
    assert all(isinstance(r.error, Unavailable) for r in results)
    assert sum(pds.method(r) == "com.atproto.repo.getRecord" for r in pds.requests) == 3


def test_timeouts_and_garbage(pds, make):
    def timeout(request):
        raise httpx.ReadTimeout("too slow", request=request)

    pds.routes["com.atproto.repo.applyWrites"] = timeout
    assert all(isinstance(r.error, Unavailable) for r in make().apply(actions(2)))

    pds.routes["com.atproto.repo.applyWrites"] = lambda r: httpx.Response(
        200, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert all(isinstance(r.error, InvalidResponse) for r in make().apply(actions(2)))

    pds.routes["com.atproto.repo.applyWrites"] = lambda r: httpx.Response(200, json={"results": []})
    assert all(isinstance(r.error, InvalidResponse) for r in make().apply(actions(2)))


def test_one_invalid_write_fails_alone(pds, make):
    bad = "did:plc:target0000000000000005x"

    def strict(request):
        body = json.loads(request.content)
        if any(w["value"]["subject"] == bad for w in body["writes"]):
            return httpx.Response(400, json={"error": "InvalidRequest", "message": "bad record"})
        return FakePds.apply_writes(request)

    pds.routes["com.atproto.repo.applyWrites"] = strict
    results = make().apply(actions(8))
    assert [r.ok for r in results] == [True] * 5 + [False] + [True] * 2
    assert isinstance(results[5].error, Refused)
    assert "bad record" in results[5].error.message
    # 8 fails → 4 ok + 4 fails → 2 fails + 2 ok → 1 ok + 1 fails: 7 calls, not 8 + 1.
    assert len(pds.bodies("com.atproto.repo.applyWrites")) == 7


def test_expired_access_token_is_refreshed_and_reported(pds, make):
    calls = {"n": 0}

    def expired_once(request):
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(400, json={"error": "ExpiredToken", "message": "expired"})
        return FakePds.apply_writes(request)

    pds.routes["com.atproto.repo.applyWrites"] = expired_once
    saved = []
    adapter = make(on_session_change=saved.append)
    assert all(r.ok for r in adapter.apply(actions(2)))
    assert adapter.calls["com.atproto.server.refreshSession"] == 1
    assert adapter.sessions_created == 1
    assert len(saved) == 2  # the sign-in, then the refresh
    assert saved[1].split(":::")[2] == pds.access


def test_dead_session_without_password_is_auth_expired(pds):
    pds.routes["com.atproto.repo.listRecords"] = lambda r: httpx.Response(
        400, json={"error": "ExpiredToken", "message": "expired"}
    )
    pds.routes["com.atproto.server.refreshSession"] = lambda r: httpx.Response(
        400, json={"error": "ExpiredToken", "message": "refresh expired"}
    )
    stored = ":::".join(["me.test", ME, pds.access, jwt(NOW, "r"), "http://pds.invalid"])
    adapter = BlueskyAdapter(
        "http://pds.invalid",
        "me.test",
        session_string=stored,
        transport=httpx.MockTransport(pds),
    )
    results = adapter.apply(actions(2))
    assert all(isinstance(r.error, AuthExpired) for r in results)
    assert "sign in again" in results[0].error.message
    assert adapter.sessions_created == 0
    adapter.close()


def test_sign_ins_are_budgeted(pds, make):
    spent = {"sessions": {"limit": 30.0, "period": 300.0, "used": 30.0, "reset_at": NOW + 120}}
    adapter = make(budget_state=spent)
    with pytest.raises(RateLimited) as caught:
        adapter.whoami()
    assert caught.value.retry_after == 120
    assert pds.requests == []

    pds.routes["com.atproto.server.createSession"] = lambda r: httpx.Response(
        401, json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
    )
    with pytest.raises(AuthExpired, match="check the handle and the app password"):
        make().whoami()


def test_without_an_appview_resolve_uses_the_pds(pds, make):
    pds.routes["com.atproto.identity.resolveHandle"] = lambda r: (
        httpx.Response(200, json={"did": "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"})
        if r.url.params["handle"] == "friend.test"
        else httpx.Response(400, json={"error": "HandleNotFound", "message": "nope"})
    )
    adapter = make()
    found = adapter.resolve("Friend.test")
    assert (found.id, found.handle) == ("did:plc:bbbbbbbbbbbbbbbbbbbbbbbb", "friend.test")
    assert adapter.resolve("stranger.test") is None
    assert adapter.whoami().handle == "me.test"
    target = RemoteAccount(Network.BLUESKY, id="did:plc:bbbbbbbbbbbbbbbbbbbbbbbb", handle="")
    assert not adapter.relationships([target])[target.id].muting


def test_relationships_read_every_page(pds, make):
    pages = {
        None: {
            "records": [
                {
                    "uri": "at://me/app.bsky.graph.follow/1",
                    "cid": "c",
                    "value": {
                        "$type": "app.bsky.graph.follow",
                        "subject": "did:plc:one",
                        "createdAt": "2024-01-01T00:00:00Z",
                    },
                }
            ],
            "cursor": "p2",
        },
        "p2": {
            "records": [
                {
                    "uri": "at://me/app.bsky.graph.follow/2",
                    "cid": "c",
                    "value": {
                        "$type": "app.bsky.graph.follow",
                        "subject": "did:plc:two",
                        "createdAt": "2024-01-01T00:00:00Z",
                    },
                }
            ]
        },
    }

    def list_records(request):
        if request.url.params["collection"] != "app.bsky.graph.follow":
            return httpx.Response(200, json={"records": []})
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    pds.routes["com.atproto.repo.listRecords"] = list_records
    pds.routes["app.bsky.graph.getMutes"] = lambda r: httpx.Response(200, json={"mutes": []})
    adapter = make()
    people = [
        RemoteAccount(Network.BLUESKY, id=d, handle="")
        for d in ("did:plc:one", "did:plc:two", "did:plc:three")
    ]
    rel = adapter.relationships(people)
    assert [rel[p.id].following for p in people] == [True, True, False]
    # Already-followed targets are reported done without a write.
    results = adapter.apply([Action(ActionKind.FOLLOW, people[1], key="x")])
    assert results[0].already_done
    assert results[0].remote_id == "at://me/app.bsky.graph.follow/2"
    assert pds.bodies("com.atproto.repo.applyWrites") == []


def test_bad_input_is_refused_before_any_request(pds, make):
    adapter = make()
    with pytest.raises(ValueError, match="one kind"):
        adapter.apply(actions(1) + actions(1, ActionKind.BLOCK))
    with pytest.raises(ValueError, match="publish"):
        adapter.apply(actions(1, ActionKind.POST))
    with pytest.raises(ValueError, match="split it"):
        adapter.publish(OutgoingPost(text="é" * 301, key="p"))
    image = MediaUpload(b"x", "image/png")
    with pytest.raises(ValueError, match="4 images"):
        adapter.publish(OutgoingPost(text="hi", key="p", media=[image] * 5))
    with pytest.raises(ValueError, match="not both"):
        adapter.publish(
            OutgoingPost(text="hi", key="p", media=[image, MediaUpload(b"v", "video/mp4")])
        )
    with pytest.raises(ValueError, match="app password"):
        BlueskyAdapter("http://pds.invalid", "me.test")
    with pytest.raises(ValueError, match="http"):
        BlueskyAdapter("bsky.social", "me.test", "pw")
    assert pds.requests == []
    # A list entry without a list is refused for that item only.
    item = Action(ActionKind.LIST_ADD, actions(1)[0].target, key="li")
    assert "at:// URI" in adapter.apply([item])[0].error.message


def test_costs_and_batch_sizes(make):
    adapter = make()
    assert adapter.cost(ActionKind.FOLLOW) == {
        "points_hour": 3,
        "points_day": 3,
        "requests": 1 / 200,
    }
    assert adapter.cost(ActionKind.MUTE) == {"requests": 1}
    assert adapter.batch_size(ActionKind.BLOCK) == 200
    assert adapter.batch_size(ActionKind.MUTE) == 1
    post = OutgoingPost(text="x", key="p", media=[MediaUpload(b"x", "image/png")] * 2)
    assert adapter.post_cost(post)["blobs"] == 2
    # 5,000 points an hour: 1,666 follows now, then 1,666 as each hourly window
    # opens; the day's 11,666 need seven windows, the last opening at 6 h.
    assert adapter.budget.allowance(adapter.cost(ActionKind.FOLLOW)) == 1666
    assert adapter.budget.eta(adapter.cost(ActionKind.FOLLOW), 11_666) == 6 * 3600
