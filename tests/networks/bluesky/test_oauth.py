"""atproto OAuth against the real local stack (`@atproto/dev-env`, whose PDS
is its own authorization server), the person's part played in Chromium on
the PDS's authorize page.

The local PDS only accepts the loopback development client: a confidential
web client needs an https `client_id` the PDS can fetch, which no test can
serve. Its pieces (metadata document, JWKS, ES256 assertion) are checked
here directly, the assertion with the key the JWKS publishes.
"""

from __future__ import annotations

import json
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
import pytest

from hirondelle.networks.base import Action, ActionKind, Network, RemoteAccount
from hirondelle.networks.bluesky import BlueskyAdapter, oauth
from hirondelle.networks.errors import AuthExpired
from tests.support.atproto_peer import AtprotoPeer, TestAccount
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, free_port

FOLLOW = "app.bsky.graph.follow"
T = TypeVar("T")


def approve_on_pds(page, who: TestAccount, *, deny: bool = False) -> None:
    """The person's part on the PDS's authorize page: password, then approve or deny."""
    page.get_by_placeholder("Enter your password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Deny access" if deny else "Authorize").click()


def in_chromium(steps: Callable[[Any], T]) -> T:
    """Run `steps(chromium)` with Debian's Chromium, in a thread of its own.

    Playwright's event loop would otherwise stay "running" in the test's
    thread, and Django refuses database work there.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/bootstrap (or apt-get install chromium).")
    outcome: dict[str, Any] = {}

    def run() -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    outcome["result"] = steps(chromium)
                finally:
                    chromium.close()
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="chromium")
    worker.start()
    worker.join(timeout=180)
    if "error" in outcome:
        raise outcome["error"]
    assert "result" in outcome, "Chromium did not finish in 180 s"
    return outcome["result"]


def authorize_in_browser(
    url: str, who: TestAccount, redirect_prefix: str, *, deny: bool = False
) -> dict[str, str]:
    """Open `url` (the PDS's authorize page), approve (or deny); returns the
    query the PDS sent the browser back to `redirect_prefix` with."""

    def steps(chromium) -> dict[str, str]:
        context = chromium.new_context(locale="en-US")
        page = context.new_page()
        seen: dict[str, str] = {}

        def capture(route) -> None:
            seen["url"] = route.request.url
            route.fulfill(status=200, body="back at the client")

        try:
            page.route(redirect_prefix + "**", capture)
            page.goto(url)
            approve_on_pds(page, who, deny=deny)
            deadline = time.monotonic() + 30
            while "url" not in seen and time.monotonic() < deadline:
                page.wait_for_timeout(100)
        finally:
            context.close()
        assert "url" in seen, "the PDS never sent the browser back to the client"
        return dict(parse_qsl(urlsplit(seen["url"]).query))

    return in_chromium(steps)


@pytest.fixture
def statuses() -> list[tuple[str, int, str]]:
    return []


@pytest.fixture
def oauth_client(atproto_peer: AtprotoPeer, statuses):
    """An OAuth client as the loopback development client, resolving through the PDS."""

    def record(response: httpx.Response) -> None:
        response.read()
        error = ""
        if response.status_code == 400 and "json" in response.headers.get("content-type", ""):
            error = response.json().get("error", "")
        statuses.append((response.request.url.path, response.status_code, error))

    http = httpx.Client(timeout=30, event_hooks={"response": [record]})
    redirect = f"http://127.0.0.1:{free_port()}/callback"
    resolver = oauth.Resolver(plc_url=atproto_peer.plc, handle_service=atproto_peer.pds, http=http)
    made = oauth.OAuthClient(oauth.loopback_client(redirect), resolver, http=http)
    yield made
    made.close()


def _sign_in(oauth_client: oauth.OAuthClient, who: TestAccount) -> oauth.OAuthSession:
    pending = oauth_client.start(who.handle)
    answer = authorize_in_browser(pending.authorize_url, who, oauth_client.client.redirect_uri)
    return oauth_client.finish(
        pending, code=answer["code"], state=answer["state"], iss=answer["iss"]
    )


@pytest.mark.slow
def test_full_flow_then_follow_with_the_oauth_session(
    atproto_peer: AtprotoPeer, oauth_client, statuses
) -> None:
    who = atproto_peer.create_account()
    friend = atproto_peer.create_account()
    pending = oauth_client.start("@" + who.handle)
    assert pending.did == who.did
    assert pending.issuer == urlsplit(pending.authorize_url)._replace(path="", query="").geturl()
    # The authorization server asked for a nonce before taking the PAR.
    par = [s for s in statuses if s[0].endswith("/oauth/par")]
    assert par[0][1:] == (400, "use_dpop_nonce")
    assert par[1][1] == 201

    answer = authorize_in_browser(pending.authorize_url, who, oauth_client.client.redirect_uri)
    assert answer["iss"] == pending.issuer
    # A tampered state or a foreign issuer is refused before the code is spent...
    with pytest.raises(oauth.OAuthError) as wrong_state:
        oauth_client.finish(
            pending, code=answer["code"], state=answer["state"] + "x", iss=answer["iss"]
        )
    assert wrong_state.value.reason == "state"
    with pytest.raises(oauth.OAuthError) as wrong_iss:
        oauth_client.finish(
            pending, code=answer["code"], state=answer["state"], iss="https://evil.test"
        )
    assert wrong_iss.value.reason == "issuer"
    with pytest.raises(oauth.OAuthError) as no_iss:
        oauth_client.finish(pending, code=answer["code"], state=answer["state"], iss=None)
    assert no_iss.value.reason == "issuer"
    # ...so the right answer still works.
    session = oauth_client.finish(
        pending, code=answer["code"], state=answer["state"], iss=answer["iss"]
    )
    assert (session.did, session.handle) == (who.did, who.handle)
    assert session.issuer == pending.issuer
    assert session.refresh_token
    assert "atproto" in session.scope.split()

    changes: list[str] = []
    adapter = BlueskyAdapter(
        atproto_peer.pds,
        who.handle,
        oauth_session=session.to_dict(),
        oauth_client=None,
        on_session_change=changes.append,
    )
    try:
        assert adapter.whoami().id == who.did
        target = RemoteAccount(Network.BLUESKY, friend.did, friend.handle)
        [result] = adapter.apply([Action(ActionKind.FOLLOW, target, key="oauth-follow-1")])
    finally:
        adapter.close()
    assert result.error is None
    assert result.remote_id
    subjects = [r["value"]["subject"] for r in atproto_peer.records(who.did, FOLLOW)]
    assert subjects == [friend.did]


@pytest.mark.slow
def test_expired_tokens_are_refreshed_and_reported(atproto_peer: AtprotoPeer, oauth_client) -> None:
    who = atproto_peer.create_account()
    friend = atproto_peer.create_account()
    session = _sign_in(oauth_client, who)
    stale = oauth.OAuthSession.from_dict({**session.to_dict(), "expires_at": time.time() - 60})
    changes: list[str] = []
    refresher = oauth.OAuthClient(
        oauth_client.client,
        oauth.Resolver(plc_url=atproto_peer.plc, handle_service=atproto_peer.pds),
    )
    adapter = BlueskyAdapter(
        atproto_peer.pds,
        who.handle,
        oauth_session=stale,
        oauth_client=refresher,
        on_session_change=changes.append,
    )
    try:
        target = RemoteAccount(Network.BLUESKY, friend.did, friend.handle)
        [result] = adapter.apply([Action(ActionKind.FOLLOW, target, key="oauth-refresh-1")])
        assert result.error is None
        assert adapter._oauth.refreshes == 1
    finally:
        adapter.close()
    assert [r["value"]["subject"] for r in atproto_peer.records(who.did, FOLLOW)] == [friend.did]
    renewed = json.loads(changes[-1])
    assert renewed["refresh_token"] != session.refresh_token
    assert renewed["access_token"] != session.access_token
    assert renewed["expires_at"] > time.time()
    assert renewed["dpop_key"] == session.dpop_key  # the tokens stay bound to the same key
    assert json.loads(adapter.session_string)["refresh_token"] == renewed["refresh_token"]
    # Refresh tokens are single use: the old one is now refused.
    with pytest.raises(oauth.OAuthError) as reused:
        oauth_client.refresh(session)
    assert reused.value.reason == "refused"


@pytest.mark.slow
def test_a_token_the_pds_calls_invalid_is_renewed_once(
    atproto_peer: AtprotoPeer, oauth_client
) -> None:
    who = atproto_peer.create_account()
    session = _sign_in(oauth_client, who)
    header, payload, signature = session.access_token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"  # not expired, but not valid either
    refresher = oauth.OAuthClient(
        oauth_client.client,
        oauth.Resolver(plc_url=atproto_peer.plc, handle_service=atproto_peer.pds),
    )
    changes: list[str] = []
    adapter = BlueskyAdapter(
        atproto_peer.pds,
        who.handle,
        oauth_session={**session.to_dict(), "access_token": forged},
        oauth_client=refresher,
        on_session_change=changes.append,
    )
    try:
        uri = adapter.create_list("After a bad token")
        assert adapter._oauth.refreshes == 1
    finally:
        adapter.close()
    assert [r["uri"] for r in atproto_peer.records(who.did, "app.bsky.graph.list")] == [uri]
    assert json.loads(changes[-1])["access_token"] not in (forged, session.access_token)


@pytest.mark.slow
def test_a_nonce_challenge_from_the_pds_is_answered(
    atproto_peer: AtprotoPeer, oauth_client
) -> None:
    who = atproto_peer.create_account()
    session = _sign_in(oauth_client, who)
    session.dpop_nonce_pds = "a-nonce-the-pds-never-issued"
    adapter = BlueskyAdapter(atproto_peer.pds, who.handle, oauth_session=session)
    try:
        list_uri = adapter.create_list("Nonce test", key="nonce-list")
        assert adapter._oauth.nonce_challenges == 1
        assert adapter._oauth.session.dpop_nonce_pds != "a-nonce-the-pds-never-issued"
    finally:
        adapter.close()
    lists = atproto_peer.records(who.did, "app.bsky.graph.list")
    assert [r["uri"] for r in lists] == [list_uri]


@pytest.mark.slow
def test_revoked_tokens_cannot_be_refreshed(atproto_peer: AtprotoPeer, oauth_client) -> None:
    who = atproto_peer.create_account()
    session = _sign_in(oauth_client, who)
    assert oauth_client.revoke(session) is True
    with pytest.raises(oauth.OAuthError):
        oauth_client.refresh(session)
    expired = oauth.OAuthSession.from_dict({**session.to_dict(), "expires_at": 0})
    refresher = oauth.OAuthClient(
        oauth_client.client,
        oauth.Resolver(plc_url=atproto_peer.plc, handle_service=atproto_peer.pds),
    )
    adapter = BlueskyAdapter(
        atproto_peer.pds, who.handle, oauth_session=expired, oauth_client=refresher
    )
    try:
        with pytest.raises(AuthExpired):
            adapter.create_list("After revocation")
    finally:
        adapter.close()
    assert atproto_peer.records(who.did, "app.bsky.graph.list") == []


@pytest.mark.slow
def test_the_person_can_refuse(atproto_peer: AtprotoPeer, oauth_client) -> None:
    who = atproto_peer.create_account()
    pending = oauth_client.start(who.handle)
    answer = authorize_in_browser(
        pending.authorize_url, who, oauth_client.client.redirect_uri, deny=True
    )
    assert answer["error"] == "access_denied"
    assert "code" not in answer


def test_an_unknown_handle_is_reported_as_such(atproto_peer: AtprotoPeer, oauth_client) -> None:
    with pytest.raises(oauth.OAuthError) as unknown:
        oauth_client.start("nobody-here.test")
    assert unknown.value.reason == "handle"
    with pytest.raises(oauth.OAuthError) as malformed:
        oauth_client.start("not a handle")
    assert malformed.value.reason == "handle"


def test_an_unreachable_pds_is_reported_as_such() -> None:
    port = free_port()  # nothing listens there
    config = oauth.loopback_client("http://127.0.0.1:1/callback")
    with (
        oauth.OAuthClient(config, timeout=2) as oauth_client,
        pytest.raises(oauth.OAuthError) as down,
    ):
        oauth_client.start(f"http://127.0.0.1:{port}")
    assert down.value.reason == "unreachable"


# -- the sub → PDS → issuer check, with a server that lies ------------------------


def _lying_world(issuer_of_pds: str) -> httpx.MockTransport:
    """A token endpoint at https://as.test that issues tokens for a DID whose PDS
    names `issuer_of_pds` as its authorization server."""
    did = "did:plc:victimvictimvictimvictim"

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == "https://as.test/.well-known/oauth-authorization-server":
            return httpx.Response(
                200,
                json={
                    "issuer": "https://as.test",
                    "pushed_authorization_request_endpoint": "https://as.test/par",
                    "authorization_endpoint": "https://as.test/authorize",
                    "token_endpoint": "https://as.test/token",
                },
            )
        if url == "https://as.test/token":
            return httpx.Response(
                200,
                json={
                    "access_token": "at",
                    "refresh_token": "rt",
                    "token_type": "DPoP",
                    "scope": oauth.SCOPE,
                    "sub": did,
                    "expires_in": 3600,
                },
            )
        if url == f"https://plc.test/{did}":
            return httpx.Response(
                200,
                json={
                    "id": did,
                    "alsoKnownAs": ["at://victim.test"],
                    "service": [
                        {
                            "id": "#atproto_pds",
                            "type": "AtprotoPersonalDataServer",
                            "serviceEndpoint": "https://pds.test",
                        }
                    ],
                },
            )
        if url == "https://pds.test/.well-known/oauth-protected-resource":
            return httpx.Response(200, json={"authorization_servers": [issuer_of_pds]})
        return httpx.Response(404)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("real_issuer", ["https://other.test", "https://as.test"])
def test_the_token_subject_must_belong_to_the_issuer(real_issuer: str) -> None:
    http = httpx.Client(transport=_lying_world(real_issuer))
    resolver = oauth.Resolver(plc_url="https://plc.test", http=http)
    oauth_client = oauth.OAuthClient(
        oauth.loopback_client("http://127.0.0.1:9/cb"), resolver, http=http
    )
    pending = oauth.PendingAuth(
        state="s",
        verifier="v",
        dpop_key=oauth.key_to_jwk(oauth.new_key()),
        issuer="https://as.test",
        authorize_url="https://as.test/authorize",
        pds="https://as.test",
    )
    with oauth_client:
        if real_issuer == "https://as.test":
            session = oauth_client.finish(pending, code="c", state="s", iss="https://as.test")
            assert (session.did, session.pds, session.handle) == (
                "did:plc:victimvictimvictimvictim",
                "https://pds.test",
                "victim.test",
            )
            return
        with pytest.raises(oauth.OAuthError) as foreign:
            oauth_client.finish(pending, code="c", state="s", iss="https://as.test")
    assert foreign.value.reason == "issuer"


# -- the confidential web client's pieces (unit) ------------------------------------


@pytest.fixture
def web(tmp_path: Path) -> oauth.ClientConfig:
    key = oauth.load_signing_key(tmp_path / oauth.SIGNING_KEY_FILE)
    return oauth.web_client("https://portal.example/", key, "/signin/bluesky/oauth/callback/")


def test_the_signing_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / oauth.SIGNING_KEY_FILE
    first = oauth.load_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = oauth.load_signing_key(path)
    assert oauth.key_to_jwk(first) == oauth.key_to_jwk(again)


def test_client_metadata_has_what_the_spec_requires(web: oauth.ClientConfig) -> None:
    jwks_uri = "https://portal.example/oauth/jwks.json"
    meta = oauth.client_metadata(web, jwks_uri)
    assert meta["client_id"] == "https://portal.example/oauth/client-metadata.json"
    assert meta["application_type"] == "web"
    assert meta["grant_types"] == ["authorization_code", "refresh_token"]
    assert meta["response_types"] == ["code"]
    assert "atproto" in meta["scope"].split()
    assert meta["dpop_bound_access_tokens"] is True
    assert meta["redirect_uris"] == ["https://portal.example/signin/bluesky/oauth/callback/"]
    for uri in meta["redirect_uris"]:  # web clients: https, same origin as client_id
        assert urlsplit(uri).scheme == "https"
        assert urlsplit(uri).netloc == urlsplit(meta["client_id"]).netloc
    assert meta["token_endpoint_auth_method"] == "private_key_jwt"
    assert meta["token_endpoint_auth_signing_alg"] == "ES256"
    assert meta["jwks_uri"] == jwks_uri
    assert "jwks" not in meta
    assert urlsplit(meta["client_uri"]).netloc == "portal.example"
    json.dumps(meta)  # a JSON document
    with pytest.raises(ValueError, match="https"):
        oauth.web_client("http://portal.example", web.signing_key, "/cb")


def test_the_client_assertion_verifies_with_the_published_key(web: oauth.ClientConfig) -> None:
    [published] = oauth.jwks(web)["keys"]
    assert "d" not in published
    assert published["alg"] == "ES256"
    assert published["use"] == "sig"
    public = jwt.PyJWK(published).key
    issuer = "https://bsky.social"
    token = web.auth_params(issuer)["client_assertion"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == published["kid"]
    claims = jwt.decode(token, public, algorithms=["ES256"], audience=issuer)
    assert claims["iss"] == claims["sub"] == web.client_id
    assert 0 < claims["exp"] - claims["iat"] <= 300
    other = jwt.decode(
        oauth.client_assertion(web, issuer), public, algorithms=["ES256"], audience=issuer
    )
    assert other["jti"] != claims["jti"]  # single use
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, public, algorithms=["ES256"], audience="https://elsewhere.example")
    params = web.auth_params(issuer)
    assert params["client_assertion_type"] == (
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )
    loopback = oauth.loopback_client("http://127.0.0.1:8000/cb")
    assert loopback.auth_params(issuer) == {"client_id": loopback.client_id}


def test_a_dpop_proof_names_the_request_and_the_token() -> None:
    key = oauth.new_key()
    proof = oauth.dpop_proof(
        key, "post", "https://pds.example/xrpc/x.y?z=1#f", nonce="n1", access_token="tok"
    )
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == "ES256"
    assert "d" not in header["jwk"]
    claims = jwt.decode(proof, jwt.PyJWK(header["jwk"]).key, algorithms=["ES256"])
    assert claims["htm"] == "POST"
    assert claims["htu"] == "https://pds.example/xrpc/x.y"
    assert claims["nonce"] == "n1"
    import base64
    import hashlib

    expected = base64.urlsafe_b64encode(hashlib.sha256(b"tok").digest()).rstrip(b"=").decode()
    assert claims["ath"] == expected


def test_loopback_client_ids_round_trip() -> None:
    made = oauth.loopback_client("http://127.0.0.1:8123/signin/bluesky/oauth/callback/")
    assert made.client_id.startswith("http://localhost?redirect_uri=")
    again = oauth.loopback_client_from_id(made.client_id)
    assert (again.redirect_uri, again.scope) == (made.redirect_uri, made.scope)
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        oauth.loopback_client("http://localhost:8000/cb")  # the spec wants the IP literal


def test_did_web_identities_are_read_from_their_host() -> None:
    did = "did:web:pds.example.org"

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == "https://pds.example.org/.well-known/did.json":
            return httpx.Response(
                200,
                json={
                    "id": did,
                    "alsoKnownAs": ["at://web.example.org"],
                    "service": [
                        {
                            "id": "#atproto_pds",
                            "type": "AtprotoPersonalDataServer",
                            "serviceEndpoint": "https://pds.example.org/",
                        }
                    ],
                },
            )
        return httpx.Response(404)

    resolver = oauth.Resolver(http=httpx.Client(transport=httpx.MockTransport(handler)))
    try:
        assert resolver.identity(did) == oauth.Identity(
            did=did, handle="web.example.org", pds="https://pds.example.org"
        )
        with pytest.raises(oauth.OAuthError) as with_path:
            resolver.identity("did:web:example.org:users:alice")
        assert with_path.value.reason == "handle"
    finally:
        resolver.close()
