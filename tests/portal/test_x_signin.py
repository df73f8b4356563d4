"""Proving one's X account: the `x_oauth` evidence, through the real flow.

The browser's trip is followed hop by hop: the portal's POST redirects to the
imitation of X's authorize page (tests/support/x_oauth_server.py, a real HTTP
server on 127.0.0.1), which redirects back to the portal's callback, which
exchanges the code, reads ``/2/users/me`` and revokes the token on that
server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from hirondelle.config import get_settings
from hirondelle.identity.models import (
    Consent,
    Evidence,
    Link,
    LinkConflict,
    XAccount,
    x_id_to_db,
)
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.identity.services.keys import generate_signing_key
from hirondelle.identity.services.snapshots import export_snapshot
from hirondelle.identity.signals import directory_changed
from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.importing import import_archive
from hirondelle.migration.services.matching import match_migration
from tests.portal.conftest import sign_in, user_of
from tests.support.ports import free_port
from tests.support.x_archive import sample_spec, write_archive
from tests.support.x_oauth_server import XOAuthServer, x_oauth_server  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

ALICE_X = "1500000000000000001"
CALLBACK = "http://testserver/x/callback/"


def _configure(monkeypatch, server: XOAuthServer, **overrides: str) -> None:
    env = {
        "HIRONDELLE_X_CLIENT_ID": server.client_id,
        "HIRONDELLE_X_CLIENT_SECRET": server.client_secret or "",
        "HIRONDELLE_X_AUTHORIZE_URL": server.authorize_url,
        "HIRONDELLE_X_TOKEN_URL": server.token_url,
        "HIRONDELLE_X_REVOKE_URL": server.revoke_url,
        "HIRONDELLE_X_API_URL": server.api_url,
        **overrides,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


@pytest.fixture(params=["public", "confidential"])
def x_app(request, x_oauth_server, monkeypatch):  # noqa: F811
    """The operator configured an X app (a public or a confidential OAuth 2.0 client)."""
    server = x_oauth_server
    if request.param == "confidential":
        server.client_secret = "s3cret-of-the-portal"
    server.redirect_uris.append(CALLBACK)
    server.add_user(ALICE_X, "alice_x", "Alice on X")
    server.add_user("1500000000000000002", "bob_x")
    server.approve_as = "alice_x"
    _configure(monkeypatch, server)
    yield server
    for name in list(os.environ):
        if name.startswith("HIRONDELLE_X_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()


@pytest.fixture
def not_configured():
    get_settings.cache_clear()
    assert not get_settings().x_client_id
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _english(request) -> None:
    """The portal is French first; these tests read the English wording."""
    for name in ("alice", "bob"):
        if name in request.fixturenames:
            request.getfixturevalue(name).defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def _texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _to_x(client: Client, server: XOAuthServer) -> str:
    """Press the button; returns where X sends the browser back."""
    response = client.post("/x/prove/")
    assert response.status_code == 302, response.content
    assert response.url.startswith(server.authorize_url + "?")
    at_x = httpx.get(response.url, follow_redirects=False)
    assert at_x.status_code == 302, at_x.text
    back = at_x.headers["location"]
    assert back.startswith(CALLBACK + "?")
    return back.removeprefix("http://testserver")


def _prove(client: Client, server: XOAuthServer):
    response = client.get(_to_x(client, server))
    assert response.status_code == 302
    assert response.url == "/"
    return response


def _add_mastodon(client: Client) -> ConnectedAccount:
    return ConnectedAccount.objects.create(
        user=user_of(client),
        network="mastodon",
        server="https://masto.test",
        handle="alice@masto.test",
        remote_id="https://masto.test/users/alice",
    )


def test_proof_links_every_connected_account_with_x_oauth(alice, x_app) -> None:
    _add_mastodon(alice)
    seen: list[list[int]] = []

    def receiver(sender, *, x_ids, **kwargs):
        seen.append(list(x_ids))

    directory_changed.connect(receiver, dispatch_uid="test-x-oauth")
    try:
        response = _prove(alice, x_app)
    finally:
        directory_changed.disconnect(dispatch_uid="test-x-oauth")
    assert any("@alice_x" in text for text in _texts(response))
    links = Link.objects.filter(x_account_id=x_id_to_db(ALICE_X)).select_related("network_account")
    assert {(link.network, link.network_account.uri) for link in links} == {
        ("bluesky", "did:plc:alice"),
        ("mastodon", "https://masto.test/users/alice"),
    }
    assert {link.evidence for link in links} == {Evidence.X_OAUTH}
    assert {link.state for link in links} == {Link.State.CURRENT}
    assert {link.created_by_id for link in links} == {user_of(alice).pk}
    assert XAccount.objects.get(id=x_id_to_db(ALICE_X)).username == "alice_x"
    assert [x_id_to_db(ALICE_X)] in seen  # settle told the reconnection machinery
    # The token was revoked at once: X holds no live token for Hirondelle.
    assert len(x_app.revoked) == 1
    assert x_app.tokens == {}
    # The home page remembers the proof.
    page = alice.get("/").content.decode()
    assert "@alice_x" in page
    assert "x-proof" in page


def _everything_stored() -> str:
    """Every row of every table as text, plus decoded sessions and decrypted credentials."""
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            parts.extend(repr(row) for row in cursor.fetchall())
    parts.extend(json.dumps(s.get_decoded(), default=str) for s in Session.objects.all())
    parts.extend(json.dumps(a.credentials) for a in ConnectedAccount.objects.all())
    return "\n".join(parts)


def test_a_failed_revocation_is_told_and_the_proof_kept(alice, x_app) -> None:
    x_app.fail_revoke = 503
    response = _prove(alice, x_app)
    texts = _texts(response)
    assert any("did not confirm that it took back" in text for text in texts)
    assert any("@alice_x" in text for text in texts)
    assert x_app.calls("/2/oauth2/revoke") == 1
    assert Link.objects.filter(evidence="x_oauth").count() == 1


def test_the_x_token_is_never_stored(alice, x_app) -> None:
    _prove(alice, x_app)
    (token,) = x_app.revoked
    stored = _everything_stored()
    assert ALICE_X in stored or str(x_id_to_db(ALICE_X)) in stored  # the scan does see data
    assert token not in stored
    assert token[:16] not in stored


def test_x_oauth_beats_self_and_domain_links(alice, bob, x_app) -> None:
    """Someone else's word and a website proof for the same X id lose to X itself."""
    bob_user = user_of(bob)
    self_link = assert_link(
        ALICE_X,
        "bluesky",
        "bob.test",
        "did:plc:bob",
        evidence="self",
        asserted_by="portal sign-in as bob.test",
        created_by=bob_user,
    )
    domain_link = assert_link(
        ALICE_X, "bluesky", "alice.example.org", evidence="domain", asserted_by="domain check"
    )
    assert Link.objects.get(pk=domain_link.pk).state == Link.State.CURRENT
    _prove(alice, x_app)
    winner = Link.objects.get(
        x_account_id=x_id_to_db(ALICE_X), network_account__uri="did:plc:alice"
    )
    assert (winner.evidence, winner.state) == (Evidence.X_OAUTH, Link.State.CURRENT)
    assert Link.objects.get(pk=self_link.pk).state == Link.State.SUPERSEDED
    assert Link.objects.get(pk=domain_link.pk).state == Link.State.SUPERSEDED
    conflict = LinkConflict.objects.get(x_account_id=x_id_to_db(ALICE_X), network="bluesky")
    assert conflict.winner_id == winner.pk
    assert conflict.contenders == 3
    assert conflict.is_open


def test_an_existing_self_link_is_strengthened(alice, alice_migration, x_app) -> None:
    """Proving the X account of one's own archive upgrades one's own `self` link."""
    x_app.add_user(str(alice_migration.x_account_id), "swallow3")
    x_app.approve_as = "swallow3"
    response = alice.post("/consent/", {"findable": "on"})
    assert response.status_code == 302
    own = Link.objects.get(x_account_id=alice_migration.x_account_id)
    assert own.evidence == Evidence.SELF
    response = _prove(alice, x_app)
    own.refresh_from_db()
    assert (own.evidence, own.state) == (Evidence.X_OAUTH, Link.State.CURRENT)
    assert Link.objects.filter(x_account_id=alice_migration.x_account_id).count() == 1
    assert not any("another X account" in text for text in _texts(response))


def test_two_profiles_proving_the_same_x_account_are_contested(alice, bob, x_app) -> None:
    """Equal evidence for two accounts on one network: a tie, review only."""
    _prove(alice, x_app)
    _prove(bob, x_app)
    links = Link.objects.filter(x_account_id=x_id_to_db(ALICE_X), network="bluesky")
    assert {link.state for link in links} == {Link.State.CONTESTED}
    assert links.count() == 2
    conflict = LinkConflict.objects.get(x_account_id=x_id_to_db(ALICE_X), network="bluesky")
    assert conflict.winner_id is None


def test_x_oauth_makes_no_one_findable(alice, bob, x_app, tmp_path) -> None:
    """Strong evidence is not consent: others find the person only once they agree."""
    spec = sample_spec(seed=11, n_posts=0, n_following=10)
    spec.following[0] = ALICE_X
    folder = write_archive(tmp_path / "bob-archive", spec, zipped=False)
    bob_migration = import_archive(folder, owner=user_of(bob)).migration
    _prove(alice, x_app)
    link = Link.objects.get(x_account_id=x_id_to_db(ALICE_X))
    assert link.evidence == Evidence.X_OAUTH
    assert link in Link.objects.usable()
    assert link not in Link.objects.usable().findable()
    assert [m for m in match_migration(bob_migration) if m.x_id == int(ALICE_X)] == []
    set_consent(
        ALICE_X,
        findable=True,
        auto_followable=True,
        auto_follow_arrivals=False,
        given_by=user_of(alice),
    )
    assert link in Link.objects.usable().findable()
    (found,) = [m for m in match_migration(bob_migration) if m.x_id == int(ALICE_X)]
    assert (found.evidence, found.handle, found.auto) == ("x_oauth", "alice.test", True)


def test_a_snapshot_carries_the_proof_only_with_consent(alice, x_app, tmp_path) -> None:
    key = generate_signing_key("Portail Test", data_dir=tmp_path / "keys")
    _prove(alice, x_app)
    assert export_snapshot(tmp_path / "before.jsonl", key=key).lines == 0
    set_consent(ALICE_X, findable=True, auto_followable=False, auto_follow_arrivals=False)
    assert export_snapshot(tmp_path / "after.jsonl", key=key).lines == 1
    (row,) = [json.loads(line) for line in (tmp_path / "after.jsonl").read_text().splitlines()]
    assert "x_oauth" in row.values()


def test_deleting_everything_removes_the_proof(alice, x_app) -> None:
    _prove(alice, x_app)
    assert Link.objects.filter(evidence="x_oauth").count() == 1
    response = alice.post("/delete/", {"confirm": "yes"})
    assert response.status_code == 200
    assert not Link.objects.filter(evidence="x_oauth").exists()


def test_refusing_on_x_changes_nothing(alice, x_app) -> None:
    x_app.approve_as = None
    back = _to_x(alice, x_app)
    assert "error=access_denied" in back
    response = alice.get(back)
    assert response.status_code == 302
    assert any("did not allow" in text for text in _texts(response))
    assert not Link.objects.exists()
    assert not XAccount.objects.exists()
    assert x_app.calls("/2/oauth2/token") == 0


def test_a_tampered_state_is_refused_before_asking_x(alice, x_app) -> None:
    back = _to_x(alice, x_app)
    response = alice.get(back.replace("state=", "state=x"))
    assert any("not started here" in text for text in _texts(response))
    assert not Link.objects.exists()
    assert x_app.calls("/2/oauth2/token") == 0
    # The state is single use: the genuine callback, replayed after, is refused too.
    response = alice.get(back)
    assert any("not started here" in text for text in _texts(response))
    assert not Link.objects.exists()


def test_a_callback_cannot_be_replayed(alice, x_app) -> None:
    back = _to_x(alice, x_app)
    alice.get(back)
    assert Link.objects.count() == 1
    response = alice.get(back)
    assert any("not started here" in text for text in _texts(response))
    assert x_app.calls("/2/oauth2/token") == 1


def test_another_person_cannot_use_someones_callback(alice, bob, x_app) -> None:
    back = _to_x(alice, x_app)
    response = bob.get(back)
    assert any("not started here" in text for text in _texts(response))
    assert not Link.objects.exists()
    assert x_app.calls("/2/oauth2/token") == 0
    # Alice's own trip still works: bob's attempt spent nothing of hers.
    alice.get(back)
    (link,) = Link.objects.select_related("network_account")
    assert link.network_account.uri == "did:plc:alice"


def test_the_archive_of_another_x_account_is_shown_and_not_linked(
    alice, alice_migration, x_app
) -> None:
    archive_id = alice_migration.x_account_id
    assert archive_id != x_id_to_db(ALICE_X)
    response = _prove(alice, x_app)
    warnings = [t for t in _texts(response) if "another X account" in t]
    assert len(warnings) == 1
    assert "@swallow3" in warnings[0]
    assert "@alice_x" in warnings[0]
    assert not Link.objects.filter(x_account_id=archive_id).exists()
    assert Link.objects.filter(x_account_id=x_id_to_db(ALICE_X), evidence="x_oauth").count() == 1
    page = alice.get("/").content.decode()
    assert "@swallow3" in page.split('id="x-proof"')[1]


def test_once_x_confirmed_someone_else_the_archive_gets_no_consent(
    alice, alice_migration, x_app
) -> None:
    """A forged or borrowed archive: its X account's choices stay its owner's."""
    _prove(alice, x_app)
    response = alice.post(
        "/consent/", {"findable": "on", "auto_followable": "on"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert any("can only be made by its owner" in t for t in _texts(alice.get("/consent/")))
    assert not Consent.objects.filter(x_account_id=alice_migration.x_account_id).exists()
    assert not Link.objects.filter(x_account_id=alice_migration.x_account_id).exists()


def test_x_unreachable(alice, x_app, monkeypatch) -> None:
    closed = f"http://127.0.0.1:{free_port()}/2/oauth2/token"  # nothing listens there
    _configure(monkeypatch, x_app, HIRONDELLE_X_TOKEN_URL=closed)
    response = alice.get(_to_x(alice, x_app))
    assert any("could not be reached" in text for text in _texts(response))
    assert not Link.objects.exists()
    assert not XAccount.objects.exists()


def test_a_token_endpoint_error_records_nothing(alice, x_app) -> None:
    x_app.fail_token = 503
    response = alice.get(_to_x(alice, x_app))
    assert any("X refused to confirm" in text for text in _texts(response))
    assert not Link.objects.exists()
    assert not XAccount.objects.exists()


def test_not_configured_is_404_and_no_button(alice, not_configured) -> None:
    assert alice.post("/x/prove/").status_code == 404
    assert alice.get("/x/callback/?code=a&state=b").status_code == 404
    assert Client().post("/x/prove/").status_code == 404
    assert "/x/prove/" not in alice.get("/").content.decode()


def test_the_button_shows_when_configured(alice, x_app) -> None:
    page = alice.get("/").content.decode()
    assert 'action="/x/prove/"' in page
    assert "Prove my X account" in page


def test_in_french(alice, x_app) -> None:
    alice.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    assert "Prouver mon compte X" in alice.get("/").content.decode()
    x_app.approve_as = None
    response = alice.get(_to_x(alice, x_app))
    assert "Vous n’avez pas autorisé la connexion sur X. Rien n’a été modifié." in _texts(response)


def test_starting_needs_the_csrf_token(fake_networks, x_app) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/signin/bluesky/", {"handle": "alice.test", "app_password": "app-pass-word"}
    )
    assert response.status_code == 403  # sign-in is a POST too: fetch a token first
    client.get("/signin/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/signin/bluesky/",
        {"handle": "alice.test", "app_password": "app-pass-word", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert client.post("/x/prove/").status_code == 403
    assert x_app.calls("/i/oauth2/authorize") == 0
    client.get("/")
    token = client.cookies["csrftoken"].value
    response = client.post("/x/prove/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response.url.startswith(x_app.authorize_url)


def test_signed_out_people_are_sent_to_sign_in(fake_networks, x_app) -> None:
    client = Client()
    response = client.post("/x/prove/")
    assert response.status_code == 302
    assert response.url.startswith("/signin/")
    assert client.get("/x/callback/?code=a&state=b").url.startswith("/signin/")


def test_a_person_without_new_accounts_cannot_start(x_app) -> None:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(get_user_model().objects.create_user(username="nobody"))
    response = client.post("/x/prove/")
    assert response.status_code == 302
    assert response.url == "/"
    assert any("Mastodon or Bluesky" in text for text in _texts(response))
    assert x_app.calls("/i/oauth2/authorize") == 0


def test_the_authorize_url_asks_exactly_what_x_documents(alice, x_app) -> None:
    response = alice.post("/x/prove/")
    query = dict(httpx.URL(response.url).params)
    assert query["response_type"] == "code"
    assert query["client_id"] == x_app.client_id
    assert query["redirect_uri"] == CALLBACK
    assert query["scope"] == "users.read tweet.read"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"]


def test_second_person_signing_in_is_unaffected(alice, x_app) -> None:
    """Sanity: the flow ties the proof to the person who started it."""
    other = Client()
    sign_in(other, "carol.test")
    _prove(alice, x_app)
    assert Link.objects.filter(network_account__uri="did:plc:carol").count() == 0


# The imitation itself must refuse what X refuses, or the tests above prove little.


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize(server: XOAuthServer, challenge: str, redirect_uri: str = CALLBACK):
    return httpx.get(
        server.authorize_url,
        params={
            "response_type": "code",
            "client_id": server.client_id,
            "redirect_uri": redirect_uri,
            "scope": "users.read tweet.read",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )


def _code(server: XOAuthServer, challenge: str) -> str:
    response = _authorize(server, challenge)
    assert response.status_code == 302
    return dict(httpx.URL(response.headers["location"]).params)["code"]


def _exchange(server: XOAuthServer, code: str, verifier: str, auth=None, **extra: str):
    if auth is None and server.client_secret:
        auth = httpx.BasicAuth(server.client_id, server.client_secret)
    data = {
        "code": code,
        "grant_type": "authorization_code",
        "client_id": server.client_id,
        "redirect_uri": CALLBACK,
        "code_verifier": verifier,
        **extra,
    }
    return httpx.post(server.token_url, data=data, auth=auth)


def _me(server: XOAuthServer, token: str) -> httpx.Response:
    return httpx.get(f"{server.api_url}/users/me", headers={"Authorization": f"Bearer {token}"})


def test_the_imitation_checks_pkce_code_reuse_and_redirect_uri(x_app) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = _s256(verifier)
    wrong_verifier = _exchange(x_app, _code(x_app, challenge), secrets.token_urlsafe(48))
    assert wrong_verifier.status_code == 400
    other_redirect = _exchange(
        x_app, _code(x_app, challenge), verifier, redirect_uri=CALLBACK + "x"
    )
    assert other_redirect.status_code == 400
    code = _code(x_app, challenge)
    first = _exchange(x_app, code, verifier)
    assert first.status_code == 200
    token = first.json()["access_token"]
    assert _me(x_app, token).json()["data"] == {
        "id": ALICE_X,
        "name": "Alice on X",
        "username": "alice_x",
    }
    again = _exchange(x_app, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"
    assert _me(x_app, token).status_code == 401  # reusing a code revokes what it gave
    unregistered = _authorize(x_app, challenge, redirect_uri="http://elsewhere.test/")
    assert unregistered.status_code == 400  # an error page, never a redirect
    assert "location" not in unregistered.headers


def test_the_imitation_checks_client_authentication(x_app) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _code(x_app, _s256(verifier))
    if x_app.client_secret:
        wrong = httpx.BasicAuth(x_app.client_id, "not-the-secret")
        assert _exchange(x_app, code, verifier, auth=wrong).status_code == 401
        revoke = httpx.post(x_app.revoke_url, data={"token": "t", "client_id": x_app.client_id})
        assert revoke.status_code == 401
    else:
        assert _exchange(x_app, code, verifier, client_id="someone-else").status_code == 400
        # An unauthenticated attempt does not spend the code of the real client.
        assert _exchange(x_app, code, verifier).status_code == 200
