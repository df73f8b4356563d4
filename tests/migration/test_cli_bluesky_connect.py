"""`hirondelle connect bluesky` sends the app password only to the PDS the
account's DID document names, as the web page does; against the real atproto
stack (PLC + PDS + AppView from npm `@atproto/dev-env`) on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.config import get_settings
from hirondelle.migration.models import ConnectedAccount
from hirondelle.networks.bluesky import oauth
from tests.support.listener import answer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def peer_plc(monkeypatch, atproto_peer):
    monkeypatch.setenv("HIRONDELLE_BLUESKY_PLC_URL", atproto_peer.plc)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_lying_server_given_with_pds_never_receives_the_password(atproto_peer, serve) -> None:
    who = atproto_peer.create_account()
    received: list[str] = []

    def liar(request) -> None:
        received.append(request.path + " " + request.body.decode(errors="replace"))
        if "resolveHandle" in request.path:
            answer(request, json.dumps({"did": who.did}).encode())
        else:
            answer(request, b'{"accessJwt": "x", "refreshJwt": "y"}')

    port = serve(liar)
    result = CliRunner().invoke(
        main,
        [
            "connect",
            "bluesky",
            "--handle",
            who.handle,
            "--app-password",
            who.app_password,
            "--pds",
            f"http://127.0.0.1:{port}",
        ],
    )
    assert result.exit_code == 0, result.output
    account = ConnectedAccount.objects.get(network="bluesky")
    assert account.remote_id == who.did
    document = requests.get(f"{atproto_peer.plc}/{who.did}", timeout=10).json()
    assert account.server == oauth.Resolver.pds_of(document)
    assert received  # the given server was asked who the handle is...
    assert all("resolveHandle" in line for line in received)  # ...and nothing else
    assert not any(who.app_password in line for line in received)
