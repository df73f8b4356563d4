"""Signing in to the portal with Bluesky through atproto OAuth, against the
real atproto stack (PLC + PDS + AppView from npm `@atproto/dev-env`); the
person's part is played in Chromium on the PDS's own authorize page.

The local PDS accepts only the loopback development client (its client_id
is not fetched); the confidential web client's documents are checked here
as the portal serves them, and its assertion in tests/networks/bluesky/test_oauth.py.
"""

from __future__ import annotations

import json
import subprocess
from urllib.parse import urlencode, urlsplit

import jwt
import pytest
from django.test import Client

from hirondelle.config import get_settings
from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.accounts import disconnect_account
from hirondelle.migration.services.adapters import adapter_for, bluesky_oauth_client
from hirondelle.networks.base import Action, ActionKind, Network, RemoteAccount
from hirondelle.networks.bluesky import oauth
from tests.networks.bluesky.test_oauth import approve_on_pds, authorize_in_browser, in_chromium
from tests.portal.conftest import user_of
from tests.support.atproto_peer import PEER_DIR, AtprotoPeer, TestAccount, find_node
from tests.support.browser import serve_portal, stop_portal

pytestmark = pytest.mark.django_db

START = "/signin/bluesky/oauth/"
CALLBACK = "/signin/bluesky/oauth/callback/"
LOOPBACK_CALLBACK = "http://127.0.0.1" + CALLBACK
FOLLOW = "app.bsky.graph.follow"


def _configure(monkeypatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(f"HIRONDELLE_{name.upper()}", value)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def loopback(monkeypatch, atproto_peer: AtprotoPeer) -> None:
    """The portal as a laptop on 127.0.0.1 runs it, with the development client."""
    _configure(monkeypatch, bluesky_oauth="loopback", bluesky_plc_url=atproto_peer.plc)
    yield
    for name in ("HIRONDELLE_BLUESKY_OAUTH", "HIRONDELLE_BLUESKY_PLC_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def _browser_client(lang: str = "en") -> Client:
    return Client(HTTP_HOST="127.0.0.1", headers={"accept-language": lang})


def _start(client: Client, peer: AtprotoPeer, who: TestAccount) -> str:
    response = client.post(START, {"handle": "@" + who.handle, "server": peer.pds})
    assert response.status_code == 302, response.content
    return response.url


def _sign_in(client: Client, peer: AtprotoPeer, who: TestAccount) -> None:
    url = _start(client, peer, who)
    answer = authorize_in_browser(url, who, LOOPBACK_CALLBACK)
    response = client.get(CALLBACK + "?" + urlencode(answer))
    assert response.status_code == 302
    assert response.url == "/"


def _follow(account: ConnectedAccount, target: TestAccount, key: str) -> None:
    adapter = adapter_for(account)
    try:
        [result] = adapter.apply(
            [
                Action(
                    ActionKind.FOLLOW,
                    RemoteAccount(Network.BLUESKY, target.did, target.handle),
                    key=key,
                )
            ]
        )
    finally:
        adapter.close()
    assert result.error is None


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.mark.slow
def test_sign_in_follow_refresh_and_revoke(atproto_peer: AtprotoPeer, loopback) -> None:
    who = atproto_peer.create_account()
    friend = atproto_peer.create_account()
    other = atproto_peer.create_account()
    client = _browser_client()
    page = client.get("/signin/").content.decode()
    assert 'id="bluesky-oauth-form"' in page
    url = _start(client, atproto_peer, who)
    assert urlsplit(url).path.endswith("/oauth/authorize")
    answer = authorize_in_browser(url, who, LOOPBACK_CALLBACK)
    response = client.get(CALLBACK + "?" + urlencode(answer), follow=True)
    assert f"Signed in as {who.handle}" in _messages(response)

    account = ConnectedAccount.objects.get(user=user_of(client))
    assert (account.network, account.remote_id, account.handle) == ("bluesky", who.did, who.handle)
    stored = account.credentials["oauth"]
    assert stored["did"] == who.did
    assert stored["dpop_key"]["d"]  # the key the tokens are bound to, kept with them
    assert "app_password" not in account.credentials

    # The adapter acts with the stored OAuth session.
    _follow(account, friend, "portal-oauth-1")
    assert [r["value"]["subject"] for r in atproto_peer.records(who.did, FOLLOW)] == [friend.did]

    # An expired access token is renewed, and the new tokens are stored (encrypted).
    account.credentials = {**account.credentials, "oauth": {**stored, "expires_at": 0}}
    account.save()
    _follow(account, other, "portal-oauth-2")
    account.refresh_from_db()
    renewed = account.credentials["oauth"]
    assert renewed["refresh_token"] != stored["refresh_token"]
    assert renewed["expires_at"] > 0
    subjects = {r["value"]["subject"] for r in atproto_peer.records(who.did, FOLLOW)}
    assert subjects == {friend.did, other.did}

    # Signing in again later, in another browser, finds the same person.
    again = _browser_client()
    _sign_in(again, atproto_peer, who)
    assert user_of(again) == user_of(client)
    assert ConnectedAccount.objects.filter(remote_id=who.did).count() == 1

    # Disconnecting revokes the tokens at the authorization server.
    account = ConnectedAccount.objects.get(remote_id=who.did)
    last = oauth.OAuthSession.from_dict(account.credentials["oauth"])
    assert disconnect_account(account) is True
    assert not ConnectedAccount.objects.filter(remote_id=who.did).exists()
    with bluesky_oauth_client(last.client_id) as refresher, pytest.raises(oauth.OAuthError):
        refresher.refresh(last)


@pytest.mark.slow
def test_a_tampered_state_is_refused(atproto_peer: AtprotoPeer, loopback) -> None:
    who = atproto_peer.create_account()
    client = _browser_client()
    url = _start(client, atproto_peer, who)
    answer = authorize_in_browser(url, who, LOOPBACK_CALLBACK)
    tampered = {**answer, "state": answer["state"][:-2] + "xy"}
    response = client.get(CALLBACK + "?" + urlencode(tampered), follow=True)
    assert "has expired or was not started here" in _messages(response)
    assert "_auth_user_id" not in client.session
    assert not ConnectedAccount.objects.exists()
    # The pending sign-in is spent: the genuine answer, replayed now, is refused too.
    response = client.get(CALLBACK + "?" + urlencode(answer), follow=True)
    assert "has expired or was not started here" in _messages(response)
    assert not ConnectedAccount.objects.exists()


@pytest.mark.slow
def test_an_answer_from_another_issuer_is_refused(atproto_peer: AtprotoPeer, loopback) -> None:
    who = atproto_peer.create_account()
    client = _browser_client()
    _start(client, atproto_peer, who)
    state = client.session["hirondelle_bluesky_oauth"]["state"]
    query = urlencode({"code": "cod-forged", "state": state, "iss": "https://evil.example"})
    response = client.get(CALLBACK + "?" + query, follow=True)
    assert "did not come from the server that holds this account" in _messages(response)
    assert "_auth_user_id" not in client.session
    assert not ConnectedAccount.objects.exists()


@pytest.mark.slow
def test_a_refusal_on_bluesky_changes_nothing(atproto_peer: AtprotoPeer, loopback) -> None:
    who = atproto_peer.create_account()
    client = _browser_client()
    url = _start(client, atproto_peer, who)
    answer = authorize_in_browser(url, who, LOOPBACK_CALLBACK, deny=True)
    response = client.get(CALLBACK + "?" + urlencode(answer), follow=True)
    assert "You did not give access on Bluesky" in _messages(response)
    assert not ConnectedAccount.objects.exists()


def test_unknown_handles_and_unreachable_servers_are_explained(
    atproto_peer: AtprotoPeer, loopback
) -> None:
    client = _browser_client()
    response = client.post(
        START, {"handle": "nobody-at-all.test", "server": atproto_peer.pds}, follow=True
    )
    assert "No Bluesky account answers to nobody-at-all.test" in _messages(response)
    from tests.support.browser import free_port

    down = f"http://127.0.0.1:{free_port()}"
    response = client.post(START, {"handle": "alice.test", "server": down}, follow=True)
    assert "could not be reached" in _messages(response)
    french = _browser_client("fr")
    response = french.post(
        START, {"handle": "nobody-at-all.test", "server": atproto_peer.pds}, follow=True
    )
    assert "Aucun compte Bluesky ne répond au nom nobody-at-all.test" in _messages(response)


def test_the_loopback_client_needs_the_loopback_address(loopback) -> None:
    response = Client(headers={"accept-language": "en"}).post(
        START, {"handle": "alice.test"}, follow=True
    )
    assert "works only when Hirondelle is opened at http://127.0.0.1" in _messages(response)


def test_without_an_https_address_the_page_keeps_app_passwords(monkeypatch) -> None:
    _configure(monkeypatch, public_url="http://portal.example")
    page = Client(headers={"accept-language": "en"}).get("/signin/").content.decode()
    assert 'id="bluesky-oauth-form"' not in page
    assert 'id="bluesky-form"' in page
    # The reason is the operator's business (it names a setting): not on the public page.
    assert "HIRONDELLE_PUBLIC_URL" not in page
    response = Client(headers={"accept-language": "en"}).post(
        START, {"handle": "alice.test"}, follow=True
    )
    assert "needs a public https address" in _messages(response)
    assert Client().get("/oauth/client-metadata.json").status_code == 404
    assert Client().get("/oauth/jwks.json").status_code == 404


def test_off_means_app_passwords_only(monkeypatch) -> None:
    _configure(monkeypatch, public_url="https://portal.example", bluesky_oauth="off")
    page = Client(headers={"accept-language": "en"}).get("/signin/").content.decode()
    assert 'id="bluesky-oauth-form"' not in page
    assert "turned off here" in page


#: Runs the PDS's own checks of a client metadata document (`@atproto/oauth-types`'
#: schema, then `ClientManager.validateClientMetadata`, as the PDS does when it
#: fetches a client_id), on the document read from stdin.
VALIDATE_WITH_THE_PDS = """
import { readFileSync } from 'node:fs'
const base = process.cwd() + '/node_modules/@atproto/'
const { ClientManager } = await import(base + 'oauth-provider/dist/client/client-manager.js')
const { oauthClientMetadataSchema } = await import(base + 'oauth-types/dist/index.js')
try {
  const metadata = oauthClientMetadataSchema.parse(JSON.parse(readFileSync(0, 'utf8')))
  const manager = Object.create(ClientManager.prototype)
  manager.serverMetadata = { grant_types_supported: ['authorization_code', 'refresh_token'] }
  manager.validateClientMetadata(metadata.client_id, metadata)
  console.log(JSON.stringify({ ok: true }))
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: String(err?.message ?? err) }))
}
"""


def _pds_verdict(metadata: dict) -> dict:
    out = subprocess.run(
        [find_node(), "--input-type=module", "-e", VALIDATE_WITH_THE_PDS],
        cwd=PEER_DIR,
        input=json.dumps(metadata),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_public_portal_serves_valid_client_metadata(monkeypatch) -> None:
    _configure(monkeypatch, public_url="https://portal.hirondelle.org/")
    page = Client().get("/signin/").content.decode()
    assert 'id="bluesky-oauth-form"' in page
    assert 'id="bluesky-form"' in page  # app passwords remain possible
    response = Client().get("/oauth/client-metadata.json")
    assert response.status_code == 200
    meta = response.json()
    # The atproto OAuth spec's required fields, with the values it demands.
    assert meta["client_id"] == "https://portal.hirondelle.org/oauth/client-metadata.json"
    assert meta["application_type"] == "web"
    assert set(meta["grant_types"]) == {"authorization_code", "refresh_token"}
    assert meta["response_types"] == ["code"]
    assert meta["scope"].split() == ["atproto", "transition:generic"]
    assert meta["dpop_bound_access_tokens"] is True
    assert meta["redirect_uris"] == ["https://portal.hirondelle.org" + CALLBACK]
    assert meta["token_endpoint_auth_method"] == "private_key_jwt"
    assert meta["token_endpoint_auth_signing_alg"] == "ES256"
    assert meta["jwks_uri"] == "https://portal.hirondelle.org/oauth/jwks.json"
    # The PDS's own validator accepts it, and would refuse it without the signing alg.
    assert _pds_verdict(meta) == {"ok": True}
    broken = {k: v for k, v in meta.items() if k != "token_endpoint_auth_signing_alg"}
    assert "token_endpoint_auth_signing_alg" in _pds_verdict(broken)["error"]
    keys = Client().get("/oauth/jwks.json").json()["keys"]
    assert len(keys) == 1
    assert "d" not in keys[0]
    # The published key verifies the assertions this portal makes.
    key = oauth.load_signing_key(get_settings().data_dir / oauth.SIGNING_KEY_FILE)
    web = oauth.web_client("https://portal.hirondelle.org", key, CALLBACK)
    assertion = oauth.client_assertion(web, "https://bsky.social")
    claims = jwt.decode(
        assertion,
        jwt.PyJWK(keys[0]).key,
        algorithms=["ES256"],
        audience="https://bsky.social",
    )
    assert claims["iss"] == meta["client_id"]


@pytest.mark.slow
def test_in_a_real_browser_through_the_served_portal(atproto_peer: AtprotoPeer, tmp_path) -> None:
    """The whole way, as a person on a laptop does it: portal page, PDS page, back."""
    who = atproto_peer.create_account()
    portal = serve_portal(
        tmp_path / "portal-data",
        extra_env={
            "HIRONDELLE_BLUESKY_OAUTH": "loopback",
            "HIRONDELLE_BLUESKY_PLC_URL": atproto_peer.plc,
        },
    )

    def steps(chromium) -> tuple[str, str, str]:
        context = chromium.new_context(locale="en-US")
        page = context.new_page()
        try:
            page.goto(portal.url + "/signin/")
            form = page.locator("#bluesky-oauth-form")
            form.locator("#oauth-handle").fill(who.handle)
            form.locator("summary").click()
            form.locator("#oauth-pds").fill(atproto_peer.pds)
            form.get_by_role("button", name="Continue on Bluesky").click()
            page.wait_for_url("**/oauth/authorize**")
            authorize_host = urlsplit(page.url).netloc
            approve_on_pds(page, who)
            page.wait_for_url(portal.url + "/")
            return authorize_host, page.url, page.content()
        finally:
            context.close()

    try:
        authorize_host, landed, home = in_chromium(steps)
        stored = portal.python(
            """
            from hirondelle.migration.models import ConnectedAccount
            [a] = ConnectedAccount.objects.all()
            print(a.remote_id, a.handle, sorted(a.credentials))
            """
        )
    finally:
        stop_portal(portal)
    assert authorize_host == urlsplit(atproto_peer.pds).netloc.replace("127.0.0.1", "localhost")
    assert landed == portal.url + "/"
    assert f"Signed in as {who.handle}" in home
    assert stored.split(" ", 2) == [who.did, who.handle, "['identifier', 'oauth']\n"]
