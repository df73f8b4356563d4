"""The Mastodon adapter against a server on 127.0.0.1: `mastodon-mock`.

`mastodon-mock` is a stateful imitation of the Mastodon REST API, not
Mastodon: it stores follows, blocks, mutes, lists, statuses and media in
SQLite and answers in Mastodon's shapes, but it does not federate or resolve
WebFinger, and it only rate-limits when configured to. Accounts "on other
servers" are rows it was seeded with. Every request the adapter sends in
these tests is also checked against the documented API (contract.py).
"""

from __future__ import annotations

from collections.abc import Iterator

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
from hirondelle.networks.errors import AuthExpired, InvalidResponse, NotFound, RateLimited, Refused
from hirondelle.networks.mastodon import MastodonAdapter
from tests.networks.mastodon.contract import problems
from tests.support.mastodon_peer import TOKEN, MastodonPeer, Recorder, start_mastodon_peer

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def adapter(mastodon_peer: MastodonPeer, recorder: Recorder) -> Iterator[MastodonAdapter]:
    session = recorder.attach(requests.Session())
    with MastodonAdapter(mastodon_peer.base_url, TOKEN, session=session) as a:
        yield a
    wrong = {f"{r.method} {r.path}": problems(r) for r in recorder.requests if problems(r)}
    assert not wrong, f"requests that do not match the documented API: {wrong}"


def _action(kind: ActionKind, target: RemoteAccount, key: str, list_id: str | None = None):
    return Action(kind=kind, target=target, key=key, list_id=list_id)


def _following(peer: MastodonPeer, me: RemoteAccount) -> list[str]:
    return [a["acct"] for a in peer.get(f"/api/v1/accounts/{me.local_id}/following")]


def test_whoami_names_the_account_by_actor_uri_and_full_handle(adapter) -> None:
    me = adapter.whoami()
    assert me.network is Network.MASTODON
    assert me.handle == "alice@mock.local"
    assert me.id == "https://mock.local/@alice"
    assert me.local_id
    assert me.local_id.isdigit()


def test_limits_come_from_the_instance_document(adapter, mastodon_peer) -> None:
    doc = mastodon_peer.get("/api/v2/instance")["configuration"]["statuses"]
    limits = adapter.limits()
    assert limits.max_characters == doc["max_characters"]
    assert limits.characters_reserved_per_url == doc["characters_reserved_per_url"]
    assert limits.max_media_attachments == doc["max_media_attachments"]
    assert limits.domain == "mock.local"


def test_resolve_finds_local_and_remote_accounts_and_reports_absence(adapter) -> None:
    bob = adapter.resolve("@bob@mock.local")
    dave = adapter.resolve("dave@REMOTE.example")  # the mock matches usernames case-sensitively
    assert bob is not None
    assert bob.handle == "bob@mock.local"
    assert dave is not None
    assert dave.handle == "dave@remote.example"
    assert dave.local_id != bob.local_id
    assert adapter.resolve("nobody@nowhere.example") is None
    with pytest.raises(ValueError, match="user@server"):
        adapter.resolve("just-a-name")


def test_resolve_falls_back_to_a_resolving_v2_search(adapter, recorder) -> None:
    assert adapter.resolve("nobody@nowhere.example") is None
    search = [r for r in recorder.requests if r.path == "/api/v2/search"]
    assert len(search) == 1
    assert ("resolve", "true") in search[0].query
    assert ("type", "accounts") in search[0].query


def test_relationships_are_keyed_by_actor_uri(adapter) -> None:
    bob, dave = adapter.resolve("bob@mock.local"), adapter.resolve("dave@remote.example")
    rels = adapter.relationships([bob, dave])
    assert rels[bob.id].following  # seeded: alice follows bob
    assert not rels[dave.id].following


def test_following_twice_creates_one_follow(adapter, mastodon_peer, recorder) -> None:
    me = adapter.whoami()
    dave = adapter.resolve("dave@remote.example")
    first = adapter.apply([_action(ActionKind.FOLLOW, dave, "k-dave")])
    assert first[0].ok
    assert not first[0].already_done
    posts_before = sum(1 for r in recorder.requests if r.path.endswith("/follow"))
    again = adapter.apply([_action(ActionKind.FOLLOW, dave, "k-dave")])
    assert again[0].ok
    assert again[0].already_done
    assert sum(1 for r in recorder.requests if r.path.endswith("/follow")) == posts_before == 1
    assert sorted(_following(mastodon_peer, me)) == ["bob", "dave@remote.example"]
    assert adapter.budget.pools["follows"].used == 1


def test_following_a_locked_account_sends_a_request(adapter) -> None:
    carol = adapter.resolve("carol@mock.local")
    [result] = adapter.apply([_action(ActionKind.FOLLOW, carol, "k-carol")])
    assert result.ok
    assert adapter.relationships([carol])[carol.id].requested


def test_an_unknown_target_fails_alone(adapter) -> None:
    ghost = RemoteAccount(Network.MASTODON, "https://x.example/users/ghost", "ghost@x.example")
    [result] = adapter.apply([_action(ActionKind.FOLLOW, ghost, "k-ghost")])
    assert isinstance(result.error, NotFound)


def test_block_and_mute_are_applied_once(adapter) -> None:
    dave = adapter.resolve("dave@remote.example")
    erin = adapter.resolve("erin@other.example")
    [blocked] = adapter.apply([_action(ActionKind.BLOCK, dave, "b1")])
    [muted] = adapter.apply([_action(ActionKind.MUTE, erin, "m1")])
    assert blocked.ok
    assert muted.ok
    rels = adapter.relationships([dave, erin])
    assert rels[dave.id].blocking
    assert rels[erin.id].muting
    [again] = adapter.apply([_action(ActionKind.MUTE, erin, "m1")])
    assert again.already_done


def test_lists_are_created_once_and_filled_in_one_call(adapter, mastodon_peer, recorder) -> None:
    list_id = adapter.create_list("From X: journalists")
    assert adapter.create_list("From X: journalists") == list_id
    people = [adapter.resolve(h) for h in ("bob@mock.local", "dave@remote.example")]
    carol = adapter.resolve("carol@mock.local")
    actions = [_action(ActionKind.LIST_ADD, p, f"l{i}", list_id) for i, p in enumerate(people)]
    results = adapter.apply(actions)
    assert all(r.ok and not r.already_done for r in results)
    adds = [r for r in recorder.requests if r.path == f"/api/v1/lists/{list_id}/accounts"]
    assert [r.method for r in adds] == ["GET", "POST"]
    assert sorted(adds[1].body["account_ids"]) == sorted(p.local_id for p in people)
    results = adapter.apply([*actions, _action(ActionKind.LIST_ADD, carol, "l9", list_id)])
    assert [r.already_done for r in results] == [True, True, False]
    members = mastodon_peer.get(f"/api/v1/lists/{list_id}/accounts")
    assert sorted(m["acct"] for m in members) == ["bob", "carol", "dave@remote.example"]
    assert len(mastodon_peer.get("/api/v1/lists")) == 1


def test_people_known_only_by_handle_stay_apart_in_one_batch(adapter, mastodon_peer) -> None:
    """Directory links may carry a handle and no actor URI yet: empty ids must not merge."""
    list_id = adapter.create_list("From X: by handle")
    people = [
        RemoteAccount(Network.MASTODON, id="", handle=h)
        for h in ("bob@mock.local", "carol@mock.local", "dave@remote.example")
    ]
    actions = [_action(ActionKind.LIST_ADD, p, f"h{i}", list_id) for i, p in enumerate(people)]
    results = adapter.apply(actions)
    assert [r.ok for r in results] == [True, True, True]
    assert len({r.remote_id for r in results}) == 3
    members = mastodon_peer.get(f"/api/v1/lists/{list_id}/accounts")
    assert sorted(m["acct"] for m in members) == ["bob", "carol", "dave@remote.example"]


def test_publish_threads_with_media_and_no_duplicate_on_retry(adapter, mastodon_peer) -> None:
    first = adapter.publish(OutgoingPost(text="(Posted on X on 3 May 2019) Hello", key="x-1"))
    again = adapter.publish(OutgoingPost(text="(Posted on X on 3 May 2019) Hello", key="x-1"))
    assert again.uri == first.uri
    reply = adapter.publish(
        OutgoingPost(
            text="A picture",
            key="x-2",
            reply_to=first,
            media=[MediaUpload(PNG, "image/png", alt="a red dot")],
            sensitive=True,
            language="fr",
        )
    )
    status = mastodon_peer.get(f"/api/v1/statuses/{reply.uri}")
    assert status["in_reply_to_id"] == first.uri
    assert status["visibility"] == "unlisted"
    assert status["sensitive"] is True
    assert status["language"] == "fr"
    assert [m["description"] for m in status["media_attachments"]] == ["a red dot"]
    me = adapter.whoami()
    statuses = mastodon_peer.get(f"/api/v1/accounts/{me.local_id}/statuses")
    assert len(statuses) == 2
    # each publish is charged, a replayed key too: the adapter cannot tell a replay apart
    assert adapter.budget.pools["posts"].used == 3
    assert adapter.budget.pools["media"].used == 1


def test_publish_refuses_what_the_server_refuses(adapter) -> None:
    too_long = "x" * (adapter.limits().max_characters + 1)
    with pytest.raises(Refused):
        adapter.publish(OutgoingPost(text=too_long, key="long"))
    with pytest.raises(ValueError, match="visibility"):
        adapter.publish(OutgoingPost(text="hi", key="v", visibility="everyone"))


def test_a_revoked_token_raises_auth_expired(mastodon_peer) -> None:
    with (
        MastodonAdapter(mastodon_peer.base_url, "not-a-token") as adapter,
        pytest.raises(AuthExpired, match="connect the account again"),
    ):
        adapter.whoami()


def test_a_429_from_the_server_exhausts_the_budget(mastodon_peer, adapter) -> None:
    mastodon_peer.fault(
        match={"path_regex": r"/follow$", "methods": ["POST"]},
        effect={"type": "ratelimit", "headers": {"Retry-After": "120"}},
        count=1,
    )
    dave = adapter.resolve("dave@remote.example")
    erin = adapter.resolve("erin@other.example")
    results = adapter.apply(
        [_action(ActionKind.FOLLOW, dave, "f1"), _action(ActionKind.FOLLOW, erin, "f2")]
    )
    assert all(isinstance(r.error, RateLimited) for r in results)
    assert results[0].error.retry_after == pytest.approx(120, abs=2)
    assert adapter.budget.allowance(adapter.cost(ActionKind.FOLLOW)) == 0
    assert adapter.budget.delay(adapter.cost(ActionKind.FOLLOW)) > 100


def test_budget_follows_the_servers_rate_limit_headers() -> None:
    server = start_mastodon_peer(ratelimit=4)
    try:
        with MastodonAdapter(server.base_url, TOKEN) as adapter:
            adapter.whoami()  # verify_credentials + the instance document (for the domain)
            pool = adapter.budget.pools["requests"]
            assert pool.limit == 4
            assert pool.used == 2
            adapter.resolve("bob@mock.local")
            assert pool.used == 3
            adapter.resolve("dave@remote.example")  # the 4th request: the last allowed
            assert pool.used == 4
            with pytest.raises(RateLimited) as raised:
                adapter.whoami()  # refused here, without asking the server
            assert raised.value.retry_after > 0
    finally:
        server.stop()


def test_a_garbled_answer_over_real_http_is_invalid_response(mastodon_peer, adapter) -> None:
    mastodon_peer.fault(
        match={"path": "/api/v1/accounts/verify_credentials"},
        effect={"type": "malformed"},
        count=1,
    )
    with pytest.raises(InvalidResponse, match="not JSON"):
        adapter.whoami()
    assert adapter.whoami().handle == "alice@mock.local"  # the next answer is fine again
