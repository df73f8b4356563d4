"""Every page answers, in French by default and in English on request."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PUBLIC = ["/", "/privacy/", "/signin/", "/stats/"]
PRIVATE = ["/upload/", "/consent/", "/review/", "/run/", "/later/", "/delete/"]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_answer_in_french_by_default(path) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "fr"
    assert b'<html lang="fr">' in response.content


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_follow_the_browser_language(path) -> None:
    response = Client(headers={"accept-language": "en"}).get(path)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en"


def test_welcome_page_is_translated() -> None:
    fr = Client().get("/").content.decode()
    en = Client(headers={"accept-language": "en"}).get("/").content.decode()
    assert "Leave X without losing anyone" in en
    assert "Quitter X sans perdre personne" in fr
    assert "Leave X without losing anyone" not in fr


def test_language_can_be_switched() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/privacy/"})
    assert response.status_code == 302
    assert client.get("/privacy/").headers["Content-Language"] == "en"


@pytest.mark.parametrize("path", PRIVATE)
def test_private_pages_send_strangers_to_sign_in(path) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response.url.startswith("/signin/")


@pytest.mark.parametrize("path", PRIVATE)
def test_private_pages_answer_a_signed_in_person(alice, path) -> None:
    response = alice.get(path, follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize("path", [*PRIVATE, "/stats/"])
def test_pages_with_a_migration(alice, alice_migration, path) -> None:
    response = alice.get(path)
    assert response.status_code == 200
    assert response.templates  # a page was rendered, not a redirect


def test_privacy_page_says_what_is_never_read() -> None:
    page = Client(headers={"accept-language": "en"}).get("/privacy/").content.decode()
    for words in ("Direct messages", "never", "Delete everything"):
        assert words in page
