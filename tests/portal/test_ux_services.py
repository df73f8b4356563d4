"""The page-side services of the guided path: suggested servers, import facts
and progress, failure reasons in words, "since your last visit"."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import translation

from hirondelle.config import get_settings
from hirondelle.portal.services.results import reason_kind
from hirondelle.portal.services.servers import shipped_list, suggested_servers


@pytest.fixture
def clean_settings(monkeypatch):
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.django_db
def test_the_shipped_list_says_where_it_comes_from_and_when() -> None:
    data = shipped_list()
    assert data["source"].startswith("https://joinmastodon.org")
    assert data["checked"][:4].isdigit()
    assert suggested_servers("fr")[0].domain == "piaille.fr"
    assert "piaille.fr" not in [s.domain for s in suggested_servers("en")]


def test_an_institution_and_a_portal_choose_their_servers(clean_settings) -> None:
    clean_settings.setenv("HIRONDELLE_INSTITUTION_SERVER", "https://social.ville.example/")
    clean_settings.setenv("HIRONDELLE_INSTITUTION_NAME", "Ville d'Exemple")
    clean_settings.setenv(
        "HIRONDELLE_RECOMMENDED_SERVERS", json.dumps(["one.example", "two.example"])
    )
    get_settings.cache_clear()
    servers = suggested_servers("fr")
    assert [s.domain for s in servers] == ["social.ville.example", "one.example", "two.example"]
    assert servers[0].institution
    page = Client(headers={"accept-language": "fr"}).get("/signin/").content.decode()
    assert page.index("social.ville.example") < page.index("one.example")
    assert "le serveur de Ville d&#x27;Exemple" in page
    assert "https://social.ville.example/auth/sign_up" in page


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("ghost@gone.example could not be found from this server.", "not_found"),
        ("https://x.example/api/v1/follows refused: blocked (HTTP 403).", "refused"),
        ("the Bluesky session could not be renewed: sign in again", "auth"),
        ("Bluesky could not be reached (createRecord): ConnectError()", "unreachable"),
        ("its list was deleted before the member was added", "list_gone"),
        ("something nobody foresaw", "other"),
    ],
)
def test_network_reasons_are_sorted_into_what_a_person_can_do(error, kind) -> None:
    assert reason_kind(error) == kind


@pytest.mark.django_db
def test_since_your_last_visit_survives_a_newer_archive(alice, alice_migration) -> None:
    """Arrivals count from the first import, and "new" from the last visit of
    the page: importing a newer archive hides nobody."""
    from django.utils import timezone

    from hirondelle.identity.models import x_id_from_db
    from hirondelle.identity.services.directory import assert_link, set_consent
    from hirondelle.migration.models import Direction, Edge

    x_id = x_id_from_db(
        Edge.objects.filter(migration=alice_migration, direction=Direction.FOLLOWING)
        .values_list("x_account_id", flat=True)
        .first()
    )
    assert_link(x_id, "bluesky", "newcomer.test", evidence="domain", asserted_by="test")
    set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    with translation.override("en"):
        first = alice.get("/later/", headers={"accept-language": "en"}).content.decode()
    assert "newcomer.test" in first
    assert "1 person of your X network arrived" in first
    # A newer archive is imported: the migration's import date moves on.
    alice_migration.imported_at = timezone.now()
    alice_migration.save(update_fields=["imported_at"])
    again = alice.get("/later/", headers={"accept-language": "en"}).content.decode()
    assert "newcomer.test" in again  # still listed
    assert "Since your last visit on" in again
    assert "0 people of your X network arrived" in again  # nobody new since the last visit


@pytest.mark.parametrize(
    ("missing", "absent", "warning"),
    [
        (["followers"], "accounts follow you", "We cannot find the people who follow you"),
        (["blocks"], "You blocked", "We cannot find the accounts you blocked"),
        (["media"], "", "pictures and videos of your posts"),
    ],
)
def test_a_missing_part_is_never_counted_as_zero(missing, absent, warning) -> None:
    from django.template.loader import render_to_string

    summary = {
        "counts": {"following": 1234, "followers": 0, "blocks": 0, "mutes": 0, "lists": 0},
        "missing": missing,
        "republish": True,
    }
    with translation.override("en"):
        html = render_to_string("portal/_import_summary.html", {"summary": summary})
    assert warning in html
    assert 'role="status"' in html
    if absent:
        assert absent not in html
    assert "You follow 1,234 accounts on X." in html  # English number format
    with translation.override("fr"):
        html = render_to_string("portal/_import_summary.html", {"summary": summary})
    assert "Vous suivez 1\xa0234 comptes sur X." in html  # French: 1 234


@pytest.mark.django_db
def test_the_lists_page_opens_when_a_list_address_has_no_number(alice, alice_migration) -> None:
    """Lists addressed as x.com/<name>/lists/<slug> (no number) used to stop the page."""
    from hirondelle.migration.models import ImportedList

    assert ImportedList.objects.filter(migration=alice_migration, url__contains="/lists/").exists()
    response = alice.get("/lists/", headers={"accept-language": "en"})
    assert response.status_code == 200
