"""After signing in, the person comes back to the page that sent them (the
institutions' "follow them all" page), and never to another site."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _sign_in(client: Client):
    return client.post("/signin/bluesky/", {"handle": "alice.test", "app_password": "app-pass"})


def test_sign_in_returns_to_the_page_that_asked(fake_networks) -> None:
    client = Client()
    client.get("/signin/", {"next": "/institutions/region/follow/"})
    response = _sign_in(client)
    assert response.status_code == 302
    assert response.url == "/institutions/region/follow/"
    # Remembered once: the next sign-in goes home.
    again = _sign_in(client)
    assert again.url == "/"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "relative"]
)
def test_another_site_is_never_a_destination(fake_networks, target) -> None:
    client = Client()
    client.get("/signin/", {"next": target})
    assert _sign_in(client).url == "/"
