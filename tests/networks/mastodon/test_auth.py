"""Signing in from a terminal, against `mastodon-mock` on 127.0.0.1.

`mastodon-mock` is a stateful imitation of Mastodon, not Mastodon: it
registers apps, issues and revokes tokens, but its authorization codes are
mock shortcuts (``mockcode_<username>``, what its own approval page hands
out) and it does not verify the PKCE verifier. So the PKCE challenge is
checked here against RFC 7636 directly, and every request against the
documented API.
"""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from hirondelle.networks.errors import AuthExpired, Refused
from hirondelle.networks.mastodon import (
    authorization_url,
    exchange_code,
    login_with_token,
    new_pkce,
    register_app,
    revoke,
    revoke_token,
)
from hirondelle.networks.mastodon.auth import OOB_REDIRECT, normalise_server
from tests.networks.mastodon.contract import problems
from tests.support.mastodon_peer import RecordedRequest, Recorder


@pytest.fixture
def recorded() -> tuple[requests.Session, Recorder]:
    recorder = Recorder()
    return recorder.attach(requests.Session()), recorder


def test_code_flow_with_pkce_then_revoke(mastodon_peer, recorded) -> None:
    session, recorder = recorded
    app = register_app(mastodon_peer.base_url, session=session)
    assert app.redirect_uri == OOB_REDIRECT
    assert app.scopes == ("read", "write", "follow")

    pkce = new_pkce()
    assert 43 <= len(pkce.verifier) <= 128
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    url = urlsplit(authorization_url(app, pkce, state="s1"))
    query = parse_qsl(url.query)
    assert url.path == "/oauth/authorize"
    assert dict(query)["code_challenge"] == pkce.challenge
    assert dict(query)["code_challenge_method"] == "S256"
    assert dict(query)["scope"] == "read write follow"
    assert problems(RecordedRequest("GET", url.path, query, "", None, {})) == []

    token = exchange_code(app, "mockcode_alice", pkce, session=session)
    me = login_with_token(mastodon_peer.base_url, token.access_token)
    assert me.handle == "alice@mock.local"

    revoke(app, token.access_token, session=session)
    with pytest.raises(AuthExpired):
        login_with_token(mastodon_peer.base_url, token.access_token)

    token_request = next(r for r in recorder.requests if r.path == "/oauth/token")
    assert ("code_verifier", pkce.verifier) in token_request.body
    wrong = {r.path: problems(r) for r in recorder.requests if problems(r)}
    assert not wrong


def test_a_bad_code_says_what_to_do(mastodon_peer) -> None:
    app = register_app(mastodon_peer.base_url)
    with pytest.raises(Refused, match="open the sign-in link again"):
        exchange_code(app, "not-a-code", new_pkce())
    with pytest.raises(ValueError, match="Paste the code"):
        exchange_code(app, "  ", new_pkce())


def test_each_sign_in_gets_its_own_verifier() -> None:
    assert new_pkce().verifier != new_pkce().verifier


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("@me@mastodon.social", "https://mastodon.social"),
        ("https://piaille.fr/", "https://piaille.fr"),
    ],
)
def test_server_names_are_normalised(given: str, expected: str) -> None:
    assert normalise_server(given) == expected


def test_a_blank_server_is_refused_with_advice() -> None:
    with pytest.raises(ValueError, match=r"like mastodon\.social"):
        normalise_server("https://")


def test_revoke_token_takes_the_stored_strings(mastodon_peer) -> None:
    app = register_app(mastodon_peer.base_url)
    token = exchange_code(app, "mockcode_bob", new_pkce())
    assert login_with_token(mastodon_peer.base_url, token.access_token).handle == "bob@mock.local"
    revoke_token(mastodon_peer.base_url, app.client_id, app.client_secret, token.access_token)
    with pytest.raises(AuthExpired):
        login_with_token(mastodon_peer.base_url, token.access_token)
