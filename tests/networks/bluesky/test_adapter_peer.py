"""The Bluesky adapter against the real atproto stack (PDS + AppView) on 127.0.0.1.

Every check reads the server's own records (`listRecords`, `getRecord`) or
the AppView's views (`getFollows`, `getList`, `getPostThread`) directly over
HTTP, not through the adapter under test.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from datetime import UTC, datetime

import pytest
from PIL import Image

from hirondelle.networks.base import (
    Action,
    ActionKind,
    Adapter,
    MediaUpload,
    Network,
    OutgoingPost,
    RemoteAccount,
)
from hirondelle.networks.bluesky import BlueskyAdapter, tid_for
from hirondelle.networks.errors import AuthExpired, RateLimited

FOLLOW = "app.bsky.graph.follow"
BLOCK = "app.bsky.graph.block"
LISTITEM = "app.bsky.graph.listitem"
POST = "app.bsky.feed.post"


def fake_did(n: int) -> str:
    """A well-formed did:plc that no account has (follow records need only a valid DID)."""
    digest = hashlib.sha256(f"hirondelle-{n}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def target(did: str, handle: str = "") -> RemoteAccount:
    return RemoteAccount(network=Network.BLUESKY, id=did, handle=handle)


def records(xrpc, did: str, collection: str) -> list[dict]:
    found, cursor = [], None
    while True:
        params = {"repo": did, "collection": collection, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = xrpc("com.atproto.repo.listRecords", **params)
        found += page["records"]
        cursor = page.get("cursor")
        if not cursor or not page["records"]:
            return found


def follows(kind: ActionKind, dids: list[str], prefix: str = "item") -> list[Action]:
    return [Action(kind, target(d), key=f"{prefix}-{i}") for i, d in enumerate(dids)]


def png(width: int = 3, height: int = 2) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_adapter_satisfies_the_protocol(account, make_adapter):
    adapter = make_adapter(account)
    assert isinstance(adapter, Adapter)
    me = adapter.whoami()
    assert (me.id, me.handle, me.network) == (account.did, account.handle, Network.BLUESKY)


def test_resolve_handles_through_the_appview(atproto_peer, account, make_adapter):
    other = atproto_peer.create_account()
    adapter = make_adapter(account)
    found = adapter.resolve("@" + other.handle.upper())
    assert found is not None
    assert (found.id, found.handle) == (other.did, other.handle)
    assert adapter.resolve(other.did).handle == other.handle
    assert adapter.resolve("nobody-here.test") is None
    assert adapter.resolve("not a handle") is None


def test_250_follows_take_two_apply_writes_calls(account, make_adapter, xrpc):
    adapter = make_adapter(account)
    dids = [fake_did(i) for i in range(250)]
    results = adapter.apply(follows(ActionKind.FOLLOW, dids))

    assert [r.ok for r in results] == [True] * 250
    assert not any(r.already_done for r in results)
    assert adapter.calls.get("com.atproto.repo.applyWrites") == 2
    assert adapter.calls.get("com.atproto.repo.createRecord") is None
    on_server = records(xrpc, account.did, FOLLOW)
    assert sorted(r["value"]["subject"] for r in on_server) == sorted(dids)
    # Record keys come from the idempotency keys, and results point at them.
    by_uri = {r["uri"]: r for r in on_server}
    for i, result in enumerate(results):
        assert result.remote_id.endswith("/" + tid_for(f"item-{i}", namespace=FOLLOW))
        assert by_uri[result.remote_id]["value"]["subject"] == dids[i]


def test_retry_after_a_crash_writes_nothing_twice(account, make_adapter, xrpc):
    dids = [fake_did(1000 + i) for i in range(30)]
    actions = follows(ActionKind.FOLLOW, dids)
    first = make_adapter(account).apply(actions[:20])
    assert all(r.ok for r in first)

    # A new process resumes the whole run: the 20 done, 10 more to do.
    again = make_adapter(account).apply(actions)
    assert [r.already_done for r in again] == [True] * 20 + [False] * 10
    assert [r.remote_id for r in again[:20]] == [r.remote_id for r in first]
    assert all(r.ok for r in again)
    subjects = [r["value"]["subject"] for r in records(xrpc, account.did, FOLLOW)]
    assert sorted(subjects) == sorted(dids)


def test_concurrent_writer_is_caught_by_the_record_key(account, make_adapter, xrpc):
    """Two workers with the same plan: the second finds the keys taken (PDS answers 500)."""
    dids = [fake_did(2000 + i) for i in range(5)]
    actions = follows(ActionKind.FOLLOW, dids, prefix="shared")
    slow = make_adapter(account)
    slow.relationships([])  # loads its (still empty) index of own follows
    slow.apply(follows(ActionKind.FOLLOW, [fake_did(2999)], prefix="warm-up"))
    fast = make_adapter(account)
    assert all(r.ok and not r.already_done for r in fast.apply(actions[:3]))

    results = slow.apply(actions)
    assert [r.already_done for r in results] == [True, True, True, False, False]
    assert all(r.ok for r in results)
    subjects = [r["value"]["subject"] for r in records(xrpc, account.did, FOLLOW)]
    assert sorted(subjects) == sorted([*dids, fake_did(2999)])


def test_same_target_twice_in_one_call_is_one_record(account, make_adapter, xrpc):
    did = fake_did(3000)
    actions = [
        Action(ActionKind.FOLLOW, target(did), key="a"),
        Action(ActionKind.FOLLOW, target(did), key="b"),
    ]
    results = make_adapter(account).apply(actions)
    assert [r.ok for r in results] == [True, True]
    assert results[1].already_done
    assert results[1].remote_id == results[0].remote_id
    assert len(records(xrpc, account.did, FOLLOW)) == 1


def test_a_bad_target_fails_alone(account, make_adapter, xrpc):
    actions = [
        *follows(ActionKind.BLOCK, [fake_did(4000), fake_did(4001)]),
        Action(ActionKind.BLOCK, target("@someone.example"), key="bad"),
    ]
    results = make_adapter(account).apply(actions)
    assert [r.ok for r in results] == [True, True, False]
    assert "DID" in results[2].error.message
    assert len(records(xrpc, account.did, BLOCK)) == 2


def test_follows_blocks_and_mutes_show_in_relationships_and_appview(
    atproto_peer, account, make_adapter, xrpc
):
    friend, foe, bore = (atproto_peer.create_account() for _ in range(3))
    adapter = make_adapter(account)
    assert adapter.apply([Action(ActionKind.FOLLOW, target(friend.did), key="f")])[0].ok
    assert adapter.apply([Action(ActionKind.BLOCK, target(foe.did), key="b")])[0].ok
    muted = adapter.apply([Action(ActionKind.MUTE, target(bore.did), key="m")])
    assert muted[0].ok

    rel = adapter.relationships([target(friend.did), target(foe.did), target(bore.did)])
    assert (rel[friend.did].following, rel[friend.did].blocking) == (True, False)
    assert (rel[foe.did].following, rel[foe.did].blocking) == (False, True)
    assert (rel[bore.did].following, rel[bore.did].muting) == (False, True)
    assert not rel[friend.did].muting

    atproto_peer.sync()
    seen = xrpc("app.bsky.graph.getFollows", base=atproto_peer.appview, actor=account.did)
    assert [p["did"] for p in seen["follows"]] == [friend.did]
    assert [r["value"]["subject"] for r in records(xrpc, account.did, BLOCK)] == [foe.did]


def test_lists_and_their_members(atproto_peer, account, make_adapter, xrpc):
    members = [atproto_peer.create_account() for _ in range(3)]
    adapter = make_adapter(account)
    list_uri = adapter.create_list("Journalists", "From my X list", key="list-1")
    assert list_uri.startswith(f"at://{account.did}/app.bsky.graph.list/")
    assert adapter.create_list("Journalists", key="list-1") == list_uri
    modlist = adapter.create_list("Spam", purpose="modlist", key="list-2")

    actions = [
        Action(ActionKind.LIST_ADD, target(m.did), key=f"li-{i}", list_id=list_uri)
        for i, m in enumerate(members)
    ]
    assert all(r.ok for r in adapter.apply(actions))
    assert all(r.already_done for r in make_adapter(account).apply(actions))

    lists = records(xrpc, account.did, "app.bsky.graph.list")
    assert sorted((r["uri"], r["value"]["purpose"]) for r in lists) == sorted(
        [
            (list_uri, "app.bsky.graph.defs#curatelist"),
            (modlist, "app.bsky.graph.defs#modlist"),
        ]
    )
    items = records(xrpc, account.did, LISTITEM)
    assert sorted(i["value"]["subject"] for i in items) == sorted(m.did for m in members)
    assert {i["value"]["list"] for i in items} == {list_uri}
    atproto_peer.sync()
    view = xrpc("app.bsky.graph.getList", base=atproto_peer.appview, list=list_uri)
    assert view["list"]["name"] == "Journalists"
    assert sorted(i["subject"]["did"] for i in view["items"]) == sorted(m.did for m in members)
    with pytest.raises(ValueError, match="purpose"):
        adapter.create_list("x", purpose="followers")


def test_backdated_thread_with_quote_and_image(atproto_peer, account, make_adapter, xrpc):
    adapter = make_adapter(account)
    when = datetime(2014, 5, 1, 12, 30, 15, tzinfo=UTC)
    root = adapter.publish(
        OutgoingPost(
            text="Hello from 2014 #old",
            key="x:1",
            created_at=when,
            language="fr",
            facets=[
                {
                    "index": {"byteStart": 16, "byteEnd": 20},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "old"}],
                }
            ],
        )
    )
    reply = adapter.publish(
        OutgoingPost(text="second", key="x:2", created_at=when.replace(minute=31), reply_to=root)
    )
    third = adapter.publish(
        OutgoingPost(
            text="third, quoting the first",
            key="x:3",
            created_at=when.replace(minute=32),
            reply_to=reply,
            thread_root=root,
            quote=root,
            media=[MediaUpload(png(30, 20), "image/png", alt="", sensitive=True)],
        )
    )
    assert root.uri.startswith(f"at://{account.did}/{POST}/")
    assert root.cid
    assert root.url.startswith("https://bsky.app/profile/")

    def value(post):
        rkey = post.uri.rsplit("/", 1)[1]
        answer = xrpc("com.atproto.repo.getRecord", repo=account.did, collection=POST, rkey=rkey)
        assert answer["cid"] == post.cid
        return answer["value"]

    first = value(root)
    assert first["createdAt"] == "2014-05-01T12:30:15.000Z"
    assert first["langs"] == ["fr"]
    assert first["facets"][0]["features"][0]["tag"] == "old"
    second = value(reply)
    assert second["reply"] == {
        "root": {"uri": root.uri, "cid": root.cid},
        "parent": {"uri": root.uri, "cid": root.cid},
    }
    last = value(third)
    assert last["reply"]["root"]["uri"] == root.uri
    assert last["reply"]["parent"]["uri"] == reply.uri
    embed = last["embed"]
    assert embed["$type"] == "app.bsky.embed.recordWithMedia"
    assert embed["record"]["record"] == {"uri": root.uri, "cid": root.cid}
    image = embed["media"]["images"][0]
    assert image["alt"] == ""
    assert image["aspectRatio"] == {"width": 30, "height": 20}
    assert image["image"]["mimeType"] == "image/png"
    assert last["labels"]["values"] == [{"val": "graphic-media"}]

    atproto_peer.sync()
    thread = xrpc("app.bsky.feed.getPostThread", base=atproto_peer.appview, uri=third.uri, depth=0)[
        "thread"
    ]
    assert thread["parent"]["post"]["uri"] == reply.uri
    assert thread["parent"]["parent"]["post"]["uri"] == root.uri


def test_publishing_the_same_key_twice_gives_one_post(account, make_adapter, xrpc):
    post = OutgoingPost(
        text="only once",
        key="x:42",
        created_at=datetime(2019, 1, 2, 3, 4, 5, tzinfo=UTC),
        media=[MediaUpload(png(), "image/png", alt="a red square")],
    )
    first = make_adapter(account).publish(post)
    retry = make_adapter(account)
    again = retry.publish(post)
    assert (again.uri, again.cid) == (first.uri, first.cid)
    assert retry.calls.get("com.atproto.repo.uploadBlob") is None  # no blob spent twice
    assert len(records(xrpc, account.did, POST)) == 1
    text_only = OutgoingPost(text="no media", key="x:43", created_at=post.created_at)
    one = make_adapter(account).publish(text_only)
    assert make_adapter(account).publish(text_only) == one
    assert len(records(xrpc, account.did, POST)) == 2


def test_video_is_uploaded_and_embedded(account, make_adapter, xrpc):
    """The local PDS takes the blob as it is; bsky.social transcodes through its video service."""
    adapter = make_adapter(account)
    fake_mp4 = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    post = adapter.publish(
        OutgoingPost(
            text="a clip",
            key="x:video",
            media=[MediaUpload(fake_mp4, "video/mp4", alt="a clip")],
        )
    )
    rkey = post.uri.rsplit("/", 1)[1]
    value = xrpc("com.atproto.repo.getRecord", repo=account.did, collection=POST, rkey=rkey)[
        "value"
    ]
    assert value["embed"]["$type"] == "app.bsky.embed.video"
    assert value["embed"]["video"]["mimeType"] == "video/mp4"
    assert value["embed"]["alt"] == "a clip"


def test_session_is_reused_not_recreated(atproto_peer, account, make_adapter):
    saved: list[str] = []
    first = make_adapter(account, on_session_change=saved.append)
    first.whoami()
    assert first.sessions_created == 1
    assert len(saved) == 1

    # The next run gets the stored session and no password at all.
    second = make_adapter(account, app_password=None, session_string=saved[-1])
    assert second.whoami().id == account.did
    assert second.apply(follows(ActionKind.FOLLOW, [fake_did(5000)]))[0].ok
    assert second.sessions_created == 0
    assert "com.atproto.server.createSession" not in second.calls


def test_rejected_access_token_is_refreshed_once(account, make_adapter):
    saved: list[str] = []
    make_adapter(account, on_session_change=saved.append).whoami()
    handle, did, access, refresh, pds = saved[-1].split(":::")
    header, payload, signature = access.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"  # same expiry, bad signature
    stored = ":::".join([handle, did, forged, refresh, pds])

    renewed: list[str] = []
    adapter = make_adapter(
        account, app_password=None, session_string=stored, on_session_change=renewed.append
    )
    assert adapter.apply(follows(ActionKind.FOLLOW, [fake_did(6000)]))[0].ok
    assert adapter.calls.get("com.atproto.server.refreshSession") == 1
    assert adapter.sessions_created == 0
    assert len(renewed) == 1
    assert renewed[0] != stored


def _jwt(payload: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


@pytest.mark.parametrize("token", ["expired", "unreadable"])
def test_session_gone_without_password_is_auth_expired(atproto_peer, account, token):
    if token == "expired":  # both tokens expired long ago: the refresh is refused
        access = refresh = _jwt({"sub": account.did, "exp": 1_000_000_000})
    else:
        access = refresh = "not.a-jwt"
    stored = ":::".join([account.handle, account.did, access, refresh, atproto_peer.pds])
    adapter = BlueskyAdapter(atproto_peer.pds, account.handle, session_string=stored)
    try:
        with pytest.raises(AuthExpired, match="sign in again"):
            adapter.whoami()
        assert adapter.sessions_created == 0
    finally:
        adapter.close()


def test_budget_adopts_the_servers_headers(account, make_adapter):
    # A stale saved budget: wrong limits, wrong usage.
    stale = {
        "points_hour": {"limit": 4_000.0, "period": 3_600.0, "used": 3_999.0, "reset_at": 1.0},
        "requests": {"limit": 1_234.0, "period": 300.0, "used": 0.0, "reset_at": 0.0},
    }
    adapter = make_adapter(account, budget_state=stale)
    # 1,000 creates (3,000 points): the hourly points become the tightest limit
    # the PDS reports, as long as this IP sent fewer than 1,000 requests in 5 min.
    dids = [fake_did(7000 + i) for i in range(1000)]
    results = adapter.apply(follows(ActionKind.FOLLOW, dids))
    assert all(r.ok for r in results)
    hour = adapter.budget.pools["points_hour"]
    assert (hour.limit, hour.used) == (5_000, 3_000)
    assert hour.reset_at > 1_000_000_000  # the server's epoch seconds
    assert adapter.budget.pools["requests"].limit == 3_000
    assert adapter.budget.allowance(adapter.cost(ActionKind.FOLLOW)) == (5_000 - 3_000) // 3
    saved = json.loads(json.dumps(adapter.budget.to_dict()))
    again = make_adapter(account, budget_state=saved)
    assert again.budget.pools["points_hour"].used == 3_000


def test_too_many_sign_ins_is_rate_limited_by_the_server(atproto_peer, account):
    """The PDS allows 30 createSession per 5 minutes per account: the 31st gets a 429."""
    outcomes = []
    for _ in range(31):
        adapter = BlueskyAdapter(atproto_peer.pds, account.handle, account.app_password)
        try:
            adapter.whoami()
            outcomes.append("ok")
        except RateLimited as exc:
            outcomes.append(exc)
        finally:
            adapter.close()
    assert outcomes[:30] == ["ok"] * 30
    limited = outcomes[30]
    assert isinstance(limited, RateLimited)
    assert 0 < limited.retry_after <= 300
    assert limited.status == 429
