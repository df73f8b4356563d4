"""Signing in with Mastodon: the app registered on the fly, authorization code with PKCE.

Against `mastodon-mock` (a stateful imitation of Mastodon's API, not
Mastodon) served on 127.0.0.1: its authorize page is an account picker.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from hirondelle.migration.models import ConnectedAccount
from hirondelle.portal.models import MastodonApp
from tests.portal.conftest import user_of
from tests.support.mastodon_peer import (
    _mastodon_server,  # noqa: F401 - fixture
    mastodon_peer,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.django_db


def _approve(authorize_url: str, username: str) -> str:
    """What the person does on their server: pick the account, get sent back."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"]
    base = authorize_url.split("/oauth/authorize")[0]
    response = requests.post(
        f"{base}/oauth/authorize",
        data={
            "username": username,
            "redirect_uri": query["redirect_uri"],
            "client_id": query["client_id"],
            "scope": query["scope"],
            "state": query["state"],
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    return response.headers["location"]


def _sign_in(client: Client, peer, username: str):
    response = client.post("/signin/mastodon/", {"server": peer.base_url})
    assert response.status_code == 302
    assert response.url.startswith(peer.base_url + "/oauth/authorize?")
    back = _approve(response.url, username)
    assert back.startswith("http://testserver/signin/mastodon/callback/")
    return client.get(back.removeprefix("http://testserver"))


def test_sign_in_with_mastodon(mastodon_peer) -> None:  # noqa: F811
    client = Client()
    response = _sign_in(client, mastodon_peer, "alice")
    assert response.status_code == 302
    assert response.url == "/"
    account = ConnectedAccount.objects.get(user=user_of(client))
    assert account.network == "mastodon"
    assert account.handle.startswith("alice")
    assert account.credentials["access_token"]
    assert account.credentials["client_id"] == MastodonApp.objects.get().client_id
    # A second person from the same server reuses the registration.
    other = Client()
    _sign_in(other, mastodon_peer, "bob")
    assert MastodonApp.objects.count() == 1
    assert user_of(other) != user_of(client)


def test_a_forged_callback_is_refused(mastodon_peer) -> None:  # noqa: F811
    client = Client()
    start = client.post("/signin/mastodon/", {"server": mastodon_peer.base_url})
    back = _approve(start.url, "alice")
    forged = back.replace("state=", "state=x")
    response = client.get(forged.removeprefix("http://testserver"), follow=True)
    assert "_auth_user_id" not in client.session
    assert not ConnectedAccount.objects.exists()
    assert response.status_code == 200


def test_an_unreachable_server_is_explained() -> None:
    client = Client(headers={"accept-language": "en"})
    response = client.post("/signin/mastodon/", {"server": "http://127.0.0.1:9"}, follow=True)
    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()


def test_delete_everything_revokes_the_mastodon_token(mastodon_peer) -> None:  # noqa: F811
    client = Client()
    _sign_in(client, mastodon_peer, "alice")
    token = ConnectedAccount.objects.get().credentials["access_token"]
    response = client.post("/delete/", {"confirm": "yes"})
    assert response.status_code == 200
    assert not ConnectedAccount.objects.exists()
    check = requests.get(
        f"{mastodon_peer.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert check.status_code == 401
