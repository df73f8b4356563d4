"""Signing in with a Bluesky app password, against the real atproto stack
(PLC + PDS + AppView from npm `@atproto/dev-env`) on 127.0.0.1."""

from __future__ import annotations

import pytest
from django.test import Client

from hirondelle.migration.models import ConnectedAccount
from tests.portal.conftest import user_of

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


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
