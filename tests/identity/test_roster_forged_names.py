"""A forged archive cannot steer an institution's roster to another account.

Anyone can forge an X archive claiming a famous username for their own X id.
A roster line that names an X account by username only resolves through the
institution's own data (this roster, its earlier rosters) or X itself (a
person who signed in with X); otherwise it waits for an X id, and the import
says so.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hirondelle.identity.models import Link, RosterImport
from hirondelle.identity.services.directory import assert_link
from hirondelle.identity.services.roster import import_roster
from hirondelle.migration.services.importing import import_archive
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db

REAL, FORGER = 5551212, 9990001
BY_NAME = "x_username;fediverse\n@MairieDeLyon;lyon@social.lyon.fr\n"


@pytest.fixture
def forged(django_user_model, tmp_path):
    """Mallory's archive says her X account is @MairieDeLyon; so does her own link."""
    mallory = django_user_model.objects.create(username="mallory")
    spec = sample_spec(seed=4, n_posts=1, n_following=2, account_id=str(FORGER))
    spec.account = dataclasses.replace(spec.account, username="MairieDeLyon")
    import_archive(write_archive(tmp_path / "forged", spec), owner=mallory)
    assert_link(
        FORGER,
        "mastodon",
        "mallory@evil.example",
        evidence="self",
        asserted_by="mallory",
        x_username="MairieDeLyon",
        created_by=mallory,
    )
    return mallory


def _roster(tmp_path, text: str, name: str = "roster.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_username_claimed_by_an_archive_waits_for_an_x_id(forged, tmp_path):
    result = import_roster(_roster(tmp_path, BY_NAME), institution="Ville de Lyon")
    assert result.waiting == ("line 2: @mairiedelyon",)
    assert result.accounts == 0
    assert not Link.objects.filter(evidence="roster").exists()
    assert not Link.objects.filter(network_account__handle="lyon@social.lyon.fr").exists()


def test_the_institutions_earlier_roster_resolves_the_username(forged, tmp_path):
    with_id = "x_id;x_username;bluesky\n5551212;MairieDeLyon;lyon.fr\n"
    import_roster(_roster(tmp_path, with_id, "first.csv"), institution="Ville de Lyon")
    result = import_roster(_roster(tmp_path, BY_NAME), institution="Ville de Lyon")
    assert result.waiting == ()
    link = Link.objects.get(network_account__handle="lyon@social.lyon.fr")
    assert link.x_account_id == REAL
    # Another institution cannot lean on the Ville de Lyon's word.
    other = import_roster(_roster(tmp_path, BY_NAME, "other.csv"), institution="Métropole")
    assert other.waiting == ("line 2: @mairiedelyon",)


def test_x_itself_resolves_the_username(forged, tmp_path):
    assert_link(  # what "Prove my X account" records: X's own answer
        REAL,
        "mastodon",
        "mairie@social.lyon.fr",
        evidence="x_oauth",
        asserted_by="portal: X sign-in",
        x_username="MairieDeLyon",
    )
    result = import_roster(_roster(tmp_path, BY_NAME), institution="Ville de Lyon")
    assert result.waiting == ()
    assert Link.objects.get(network_account__handle="lyon@social.lyon.fr").x_account_id == REAL


def test_the_admin_says_which_lines_wait(forged, admin_client):
    response = admin_client.post(
        "/admin/identity/rosterimport/add/",
        {
            "file": SimpleUploadedFile("lyon.csv", BY_NAME.encode(), content_type="text/csv"),
            "institution": "Ville de Lyon",
        },
        follow=True,
        headers={"accept-language": "en"},
    )
    html = response.content.decode()
    assert "1 lines wait for an X id (line 2: @mairiedelyon)" in html
    assert "An X archive&#x27;s word is not enough" in html
    assert RosterImport.objects.get().waiting == "line 2: @mairiedelyon"
    french = admin_client.post(
        "/admin/identity/rosterimport/add/",
        {
            "file": SimpleUploadedFile("lyon.csv", BY_NAME.encode(), content_type="text/csv"),
            "institution": "Ville de Lyon",
        },
        follow=True,
        headers={"accept-language": "fr"},
    )
    assert "attendent un identifiant X" in french.content.decode()
