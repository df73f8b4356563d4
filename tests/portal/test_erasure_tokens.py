"""Signing in twice with the same Mastodon account, then deleting everything,
leaves no valid token on the server.

Against `mastodon-mock` (a stateful imitation of Mastodon's API, not
Mastodon) served on 127.0.0.1.
"""

from __future__ import annotations

import pytest
import requests
from django.test import Client

from hirondelle.migration.models import ConnectedAccount, RetiredCredentials
from tests.portal.test_mastodon_signin import _sign_in
from tests.support.mastodon_peer import (
    _mastodon_server,  # noqa: F401 - fixture
    mastodon_peer,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.django_db


def _valid(peer, token: str) -> bool:
    check = requests.get(
        f"{peer.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return check.status_code == 200


def test_every_token_ever_issued_is_revoked(mastodon_peer) -> None:  # noqa: F811
    laptop, phone = Client(), Client()
    _sign_in(laptop, mastodon_peer, "alice")
    first = ConnectedAccount.objects.get().credentials["access_token"]
    _sign_in(phone, mastodon_peer, "alice")  # the same person, another browser
    second = ConnectedAccount.objects.get().credentials["access_token"]
    assert first != second
    assert _valid(mastodon_peer, first)  # the server still honours the first one
    assert RetiredCredentials.objects.count() == 1

    assert phone.post("/delete/", {"confirm": "yes"}).status_code == 200

    assert not _valid(mastodon_peer, second)
    assert not _valid(mastodon_peer, first)
    assert not RetiredCredentials.objects.exists()
    # The other browser's session is gone too.
    assert laptop.get("/").wsgi_request.user.is_anonymous


def test_the_person_is_told_to_delete_a_bluesky_app_password(alice) -> None:
    """Hirondelle can end its sessions, not the app password itself: say so.

    `alice` signs in through the suite's fake networks (tests/portal/conftest.py)."""
    page = alice.post("/delete/", {"confirm": "yes"}, headers={"accept-language": "en"})
    html = page.content.decode()
    assert "only you can delete the app password you gave it" in html
    assert "alice.test" in html
