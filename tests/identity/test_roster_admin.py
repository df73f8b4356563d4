"""Importing an institution's roster from the admin: staff only, all or nothing, recorded."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hirondelle.identity.models import Consent, Link, RosterImport, User

pytestmark = pytest.mark.django_db

ADD = "/admin/identity/rosterimport/add/"
GOOD = (
    "x_id;x_username;fediverse;bluesky;bluesky_did\n"
    "24744541;lemonde;lemonde@mastodon.social;lemonde.fr;did:plc:lemonde\n"
    "5551212;mairie;mairie@social.lyon.fr;;\n"
)


def _upload(client: Client, content: str | bytes, **fields):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        ADD,
        {
            "file": SimpleUploadedFile("official accounts.csv", data, content_type="text/csv"),
            "institution": "Le Monde",
            **fields,
        },
        follow=True,
        headers={"accept-language": "en"},
    )


def test_the_add_page_is_the_upload_form(admin_client) -> None:
    assert reverse("admin:identity_rosterimport_add") == ADD
    page = admin_client.get(ADD, headers={"accept-language": "en"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Import a roster" in html


def test_a_roster_is_imported_and_recorded(admin_client, admin_user) -> None:
    response = _upload(admin_client, GOOD, auto_followable="on")
    assert response.redirect_chain[-1][0] == reverse("admin:identity_rosterimport_changelist")
    html = response.content.decode()
    assert "Roster of Le Monde imported: 2 accounts, 3 links added" in html
    record = RosterImport.objects.get()
    assert (
        record.institution,
        record.file_name,
        record.accounts,
        record.added,
        record.skipped,
        record.auto_followable,
        record.imported_by,
    ) == ("Le Monde", "official accounts.csv", 2, 3, 0, True, admin_user)
    assert set(Link.objects.values_list("evidence", "asserted_by")) == {
        ("roster", "roster: Le Monde")
    }
    assert Consent.objects.get(x_account_id=24744541).auto_followable
    entry = LogEntry.objects.get(action_flag=ADDITION, user=admin_user)
    assert entry.object_id == str(record.pk)
    assert "official accounts.csv" in entry.change_message
    # The same file again adds no link (it renews their date), and says so.
    again = _upload(admin_client, GOOD)
    assert "0 links added, 3 strengthened, 0 already known" in again.content.decode()
    # Records are read-only: the trail cannot be edited or erased here.
    change = reverse("admin:identity_rosterimport_change", args=[record.pk])
    assert admin_client.post(change, {"institution": "Other"}).status_code == 403
    delete = reverse("admin:identity_rosterimport_delete", args=[record.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert RosterImport.objects.get(pk=record.pk).institution == "Le Monde"


def test_a_bad_roster_imports_nothing_and_lists_every_problem(admin_client) -> None:
    bad = "x_id,fediverse\n1,a@b.social\nzz,b@b.social\n4,not an address\n"
    response = _upload(admin_client, bad)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was imported." in html
    assert "line 3" in html
    assert "line 4" in html
    assert "official accounts.csv was not imported" in html
    assert "/tmp" not in html  # the server's temporary path is not shown
    assert not Link.objects.exists()
    assert not RosterImport.objects.exists()
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("name,email\nA,a@b.c\n", "header must name an X column"),
        ("x_id,fediverse\n1,caf\xe9@b.social\n".encode("latin-1"), "is not UTF-8 text"),
    ],
)
def test_unreadable_files_say_what_to_do(admin_client, content, says) -> None:
    html = _upload(admin_client, content).content.decode()
    assert says in html
    assert not Link.objects.exists()


def test_the_form_needs_a_file_and_an_institution(admin_client) -> None:
    response = admin_client.post(ADD, {"institution": ""}, headers={"accept-language": "en"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"file", "institution"}
    assert not RosterImport.objects.exists()


def test_only_staff_may_import(client) -> None:
    person = User.objects.create_user("someone", password="pw")
    client.force_login(person)
    response = _upload(client, GOOD)
    assert response.redirect_chain[0][0].startswith("/admin/login/")
    assert not Link.objects.exists()
    staff = User.objects.create_user("helper", password="pw", is_staff=True)
    client.force_login(staff)  # staff, but without the permission to add rosters
    assert client.post(ADD, {"institution": "X"}).status_code == 403


def test_the_upload_needs_a_csrf_token(admin_user) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    response = strict.post(
        ADD,
        {"file": SimpleUploadedFile("r.csv", GOOD.encode()), "institution": "Le Monde"},
    )
    assert response.status_code == 403
    assert not Link.objects.exists()


def test_the_roster_page_is_in_french(admin_client) -> None:
    html = admin_client.get(ADD, headers={"accept-language": "fr"}).content.decode()
    assert "Importer une liste officielle" in html
    assert "Fichier CSV" in html


def test_the_links_page_offers_the_import(admin_client) -> None:
    html = admin_client.get(
        reverse("admin:identity_link_changelist"), headers={"accept-language": "en"}
    ).content.decode()
    assert f'href="{ADD}"' in html
