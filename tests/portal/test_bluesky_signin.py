"""Signing in with a Bluesky app password, against the real atproto stack
(PLC + PDS + AppView from npm `@atproto/dev-env`) on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
import requests
from django.test import Client

from hirondelle.config import get_settings
from hirondelle.migration.models import ConnectedAccount
from hirondelle.networks.bluesky import oauth
from tests.portal.conftest import user_of
from tests.support.listener import answer

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def peer_plc(monkeypatch, atproto_peer):
    """The handle resolves to a DID of the peer's PLC, whose document names the PDS."""
    monkeypatch.setenv("HIRONDELLE_BLUESKY_PLC_URL", atproto_peer.plc)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_sign_in_with_a_bluesky_app_password(atproto_peer) -> None:
    who = atproto_peer.create_account()
    client = Client()
    response = client.post(
        "/signin/bluesky/",
        {"handle": "@" + who.handle, "app_password": who.app_password, "server": atproto_peer.pds},
    )
    assert response.status_code == 302
    assert response.url == "/"
    account = ConnectedAccount.objects.get(user=user_of(client))
    assert (account.network, account.remote_id, account.handle) == ("bluesky", who.did, who.handle)
    assert account.credentials["app_password"] == who.app_password
    assert account.credentials["session"]  # the session the check opened is kept
    # Signing in again later finds the same person.
    again = Client()
    again.post(
        "/signin/bluesky/",
        {"handle": who.handle, "app_password": who.app_password, "server": atproto_peer.pds},
    )
    assert user_of(again) == user_of(client)


def test_a_wrong_app_password_is_refused(atproto_peer) -> None:
    who = atproto_peer.create_account()
    client = Client(headers={"accept-language": "en"})
    response = client.post(
        "/signin/bluesky/",
        {"handle": who.handle, "app_password": "aaaa-bbbb-cccc-dddd", "server": atproto_peer.pds},
        follow=True,
    )
    assert "_auth_user_id" not in client.session
    assert not ConnectedAccount.objects.exists()
    assert "refused the sign-in" in response.content.decode()


def test_the_password_goes_only_to_the_pds_the_did_document_names(atproto_peer, serve) -> None:
    """The server typed in the form resolves the handle, nothing more: a lying
    one that also asks for the password never receives it."""
    who = atproto_peer.create_account()
    received: list[str] = []

    def liar(request) -> None:
        received.append(request.path + " " + request.body.decode(errors="replace"))
        if "resolveHandle" in request.path:
            answer(request, json.dumps({"did": who.did}).encode())
        else:
            answer(request, b'{"accessJwt": "x", "refreshJwt": "y"}')

    port = serve(liar)
    client = Client()
    response = client.post(
        "/signin/bluesky/",
        {
            "handle": who.handle,
            "app_password": who.app_password,
            "server": f"http://127.0.0.1:{port}",
        },
    )
    assert response.status_code == 302
    assert response.url == "/"
    account = ConnectedAccount.objects.get(user=user_of(client))
    assert account.remote_id == who.did
    document = requests.get(f"{atproto_peer.plc}/{who.did}", timeout=10).json()
    assert account.server == oauth.Resolver.pds_of(document)  # the PDS the DID document names
    assert received  # the typed server was asked who the handle is...
    assert all("resolveHandle" in line for line in received)  # ...and nothing else
    assert not any(who.app_password in line for line in received)
