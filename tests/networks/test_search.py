"""Discovery's network calls, through injected transports (httpx.MockTransport)
for what no real server does on demand: 429s, errors, garbage, big batches.
Real servers are in tests/migration/test_discovery_search.py."""

from __future__ import annotations

import json

import httpx
import pytest

from hirondelle.networks.errors import InvalidResponse, RateLimited, Refused, Unavailable
from hirondelle.networks.search import (
    BlueskyPublic,
    PublicProfile,
    bridged_native,
    profile_from_account,
)
from hirondelle.networks.search._client import http_client


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def view(n: int, **extra) -> dict:
    return {"did": f"did:plc:{n:024d}", "handle": f"u{n}.test", "displayName": f"U {n}", **extra}


def appview(handler, clock=None, **kwargs) -> BlueskyPublic:
    client = http_client(transport=httpx.MockTransport(handler))
    return BlueskyPublic("http://appview.test", client=client, clock=clock or Clock(), **kwargs)


def test_search_reads_profiles_and_drops_what_is_not_one():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/xrpc/app.bsky.actor.searchActors"
        assert request.url.params["q"] == "alice"
        actors = [view(1, description="x.com/alice"), {"handle": "nodid.test"}, "garbage"]
        return httpx.Response(200, json={"actors": actors})

    with appview(handler) as bsky:
        found = bsky.search_actors("alice")
    assert [p.handle for p in found] == ["u1.test"]
    assert found[0].description == "x.com/alice"
    assert not found[0].detailed  # search hits carry no counts
    assert bsky.requests == {"app.bsky.actor.searchActors": 1}


def test_profiles_are_read_25_at_a_time():
    asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        actors = request.url.params.get_list("actors")
        asked.append(actors)
        profiles = [
            view(int(a.rsplit(":", 1)[1]), postsCount=3, followersCount=9, createdAt="2020-01-01")
            for a in actors
        ]
        return httpx.Response(200, json={"profiles": profiles})

    dids = [f"did:plc:{n:024d}" for n in range(60)]
    with appview(handler) as bsky:
        found = bsky.get_profiles(dids + dids[:10])  # duplicates are asked once
    assert [len(a) for a in asked] == [25, 25, 10]
    assert len(found) == 60
    assert found[0].detailed


def test_a_429_spends_the_window_and_no_request_goes_out_until_it_ends():
    calls = []
    clock = Clock()

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, headers={"retry-after": "120"}, json={"error": "RateLimit"})

    with appview(handler, clock) as bsky:
        with pytest.raises(RateLimited) as first:
            bsky.search_actors("a")
        assert first.value.retry_after == 120
        with pytest.raises(RateLimited):
            bsky.search_actors("b")
        assert len(calls) == 1  # the second never left
        clock.t += 301  # past the window (the one the first request opened: 5 min)
        with pytest.raises(RateLimited):
            bsky.search_actors("c")
    assert len(calls) == 2


def test_live_headers_correct_the_shared_budget_and_it_round_trips():
    clock = Clock()
    remaining = [2]

    def handler(request: httpx.Request) -> httpx.Response:
        remaining[0] -= 1  # the server counts for everyone behind this address
        headers = {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": str(remaining[0]),
            "ratelimit-reset": str(clock.t + 200),
        }
        return httpx.Response(200, headers=headers, json={"actors": []})

    with appview(handler, clock) as bsky:
        bsky.search_actors("a")
        state = bsky.budget.to_dict()
    assert state["requests"]["used"] == 2999
    with appview(handler, clock, budget_state=state) as again:
        again.search_actors("b")
        with pytest.raises(RateLimited) as spent:
            again.search_actors("c")
    assert 0 < spent.value.retry_after <= 200


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (500, b'{"error":"InternalServerError"}', Unavailable),
        (200, b"<html>not an AppView</html>", InvalidResponse),
        (400, b'{"error":"InvalidRequest","message":"bad q"}', Refused),
        (200, b'{"actors": "nope"}', InvalidResponse),
        (200, b"[" * 500 + b"]" * 500, InvalidResponse),  # nested too deep for the guard
    ],
)
def test_bad_answers_become_our_errors(status, body, error):
    with appview(lambda r: httpx.Response(status, content=body)) as bsky, pytest.raises(error):
        bsky.search_actors("a")


def test_the_guard_refuses_a_private_appview_address(monkeypatch):
    from hirondelle.networks import guard

    suite = guard.default_policy()
    guard.configure(guard.Policy(allow_private=False))
    try:
        with BlueskyPublic("http://127.0.0.1:9") as bsky, pytest.raises(Refused):
            bsky.search_actors("a")
    finally:
        guard.configure(suite)


def test_the_appview_address_must_be_a_url():
    with pytest.raises(ValueError, match="https://"):
        BlueskyPublic("public.api.bsky.app")


def test_mastodon_account_entities_read_fields_notes_and_verification():
    data = {
        "id": "7",
        "acct": "bob",
        "uri": "https://home.example/users/bob",
        "display_name": "Bob",
        "note": "<p>Ex <a href='https://x.com/bob'>x.com/bob</a><br>Hi &amp; bye</p>",
        "fields": [
            {
                "name": "X",
                "value": "<a href='https://x.com/bob'>x.com/bob</a>",
                "verified_at": "2024-01-01T00:00:00Z",
            },
            {"name": "Site", "value": "bob.example", "verified_at": None},
        ],
        "followers_count": 10,
        "statuses_count": 0,
        "created_at": "2026-12-01T00:00:00.000Z",
    }
    p = profile_from_account(data, "home.example")
    assert p.handle == "bob@home.example"  # a local account gets its server's name
    assert p.description == "Ex x.com/bob\nHi & bye"
    assert [(f.name, f.verified) for f in p.fields] == [("X", True), ("Site", False)]
    assert p.posts == 0
    assert p.detailed
    assert profile_from_account({"acct": "x"}, "home.example") is None  # no address
    assert PublicProfile.from_dict(json.loads(json.dumps(p.to_dict()))) == p


def test_bridgy_fed_mirrors_name_the_account_they_stand_for():
    on_bluesky = PublicProfile("bluesky", "did:plc:x", "alice.piaille.fr.ap.brid.gy")
    on_fedi = PublicProfile(
        "mastodon", "https://bsky.brid.gy/ap/did:plc:y", "bob.bsky.social@bsky.brid.gy"
    )
    native = PublicProfile("bluesky", "did:plc:z", "carol.bsky.social")
    assert bridged_native(on_bluesky) == ("mastodon", "alice@piaille.fr")
    assert bridged_native(on_fedi) == ("bluesky", "bob.bsky.social")
    assert bridged_native(native) is None
    assert on_bluesky.bridged
    assert not native.bridged
