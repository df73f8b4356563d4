"""The lists page: name a list, choose found people or paste handles, save;
only one's own lists and accounts; CSRF; unknown handles explained."""

from __future__ import annotations

import pytest
from django.test import Client

from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import ConnectedAccount, ImportedList, ListRebuild, PlanItem
from hirondelle.migration.services.importing import import_archive
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db

CREATED = "https://twitter.com/i/lists/1111111111"
MEMBER = "https://twitter.com/i/lists/3333333333"


@pytest.fixture
def setup(django_user_model, tmp_path):
    spec = sample_spec(seed=5, n_posts=2, n_following=6, n_followers=2)
    spec.lists_created = [CREATED]
    spec.lists_member = [MEMBER]
    alice = django_user_model.objects.create(username="alice")
    migration = import_archive(write_archive(tmp_path, spec), owner=alice).migration
    account = ConnectedAccount.objects.create(
        user=alice,
        network="bluesky",
        server="https://pds.example",
        handle="alice.test",
        remote_id="did:plc:aliceaaaaaaaaaaaaaaaaaaa",
        credentials={"app_password": "p"},
    )
    for i, x_id in enumerate(spec.following[:3]):
        assert_link(
            x_id,
            "bluesky",
            f"friend{i}.test",
            f"did:plc:friend{i}aaaaaaaaaaaaaaaaa",
            evidence="roster",
            asserted_by="test",
            x_username=f"friend{i}",
        )
        set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # the portal speaks French first
    client.force_login(alice)
    imported = ImportedList.objects.get(url=CREATED)
    return {
        "client": client,
        "spec": spec,
        "migration": migration,
        "account": account,
        "list": imported,
        "user": alice,
    }


def test_page_shows_created_lists_found_people_and_others_read_only(setup):
    page = setup["client"].get("/lists/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="X list 1111111111"' in html  # the name, prefilled
    assert "@friend0 → friend0.test" in html
    assert html.count(f'name="members_{setup["account"].pk}"') == 3
    assert MEMBER in html
    assert 'id="member-lists"' in html
    assert "portal/lists.js" in html


def test_saving_plans_members_and_schedules_the_run(setup):
    spec, account = setup["spec"], setup["account"]
    response = setup["client"].post(
        "/lists/",
        {
            "list": setup["list"].pk,
            "account": account.pk,
            "name": "Amis",
            f"members_{account.pk}": [spec.following[0]],
            "handles": "@friend1\nhttps://x.com/friend2\n@nobody_here\n@@@",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "@nobody_here" in html
    assert "nobody has linked this X account" in html
    assert "not an X handle" in html
    rebuild = ListRebuild.objects.get()
    assert rebuild.name == "Amis"
    items = PlanItem.objects.filter(kind="list_add", payload__rebuild=rebuild.pk)
    assert sorted(items.values_list("x_id", flat=True)) == sorted(spec.following[:3])
    account.refresh_from_db()
    assert account.wake_at is not None  # a run is scheduled
    # saving again with one member fewer: no duplicate, the dropped one skipped
    setup["client"].post(
        "/lists/",
        {
            "list": setup["list"].pk,
            "account": account.pk,
            "name": "Amis",
            f"members_{account.pk}": spec.following[:2],
        },
    )
    assert items.count() == 3
    assert list(items.filter(state="skipped").values_list("x_id", flat=True)) == [spec.following[2]]
    page = setup["client"].get("/lists/").content.decode()
    assert "“Amis” on alice.test" in page
    assert page.count("checked>") >= 2


def test_a_bad_name_is_explained_and_nothing_planned(setup):
    account = setup["account"]
    response = setup["client"].post(
        "/lists/", {"list": setup["list"].pk, "account": account.pk, "name": "x" * 65}
    )
    assert response.status_code == 200
    assert "64 characters" in response.content.decode()
    assert not PlanItem.objects.exists()


def test_other_peoples_lists_and_accounts_are_not_found(setup, django_user_model):
    mallory = django_user_model.objects.create(username="mallory")
    theirs = ConnectedAccount.objects.create(
        user=mallory,
        network="bluesky",
        server="https://pds.example",
        handle="mallory.test",
        remote_id="did:plc:malloryaaaaaaaaaaaaaaaaa",
    )
    other = Client()
    other.force_login(mallory)
    # mallory has no migration of her own but tries alice's list
    response = other.post("/lists/", {"list": setup["list"].pk, "account": theirs.pk})
    assert response.status_code == 404
    assert not ListRebuild.objects.exists()
    # alice posting with mallory's account, or a list that is not hers to rebuild
    client = setup["client"]
    assert (
        client.post(
            "/lists/", {"list": setup["list"].pk, "account": theirs.pk, "name": "n"}
        ).status_code
        == 404
    )
    member = ImportedList.objects.get(url=MEMBER)
    assert (
        client.post(
            "/lists/", {"list": member.pk, "account": setup["account"].pk, "name": "n"}
        ).status_code
        == 404
    )
    assert client.post("/lists/", {"list": "x", "account": "y"}).status_code == 404
    assert not PlanItem.objects.exists()


def test_mallory_with_her_own_archive_gets_404_for_alices_list(setup, django_user_model, tmp_path):
    mallory = django_user_model.objects.create(username="mallory")
    spec = sample_spec(seed=9, n_posts=1, n_following=2, n_followers=1)
    spec.lists_created = ["https://twitter.com/i/lists/999"]
    import_archive(write_archive(tmp_path / "m", spec), owner=mallory)
    theirs = ConnectedAccount.objects.create(
        user=mallory,
        network="bluesky",
        server="https://pds.example",
        handle="mallory.test",
        remote_id="did:plc:malloryaaaaaaaaaaaaaaaaa",
    )
    client = Client()
    client.force_login(mallory)
    response = client.post(
        "/lists/", {"list": setup["list"].pk, "account": theirs.pk, "name": "stolen"}
    )
    assert response.status_code == 404
    assert not ListRebuild.objects.exists()


def test_saving_needs_the_csrf_token_and_a_sign_in(setup):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(setup["user"])
    data = {"list": setup["list"].pk, "account": setup["account"].pk, "name": "Amis"}
    assert client.post("/lists/", data).status_code == 403
    page = client.get("/lists/")
    token = page.cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert client.post("/lists/", {**data, "csrfmiddlewaretoken": token.value}).status_code == 200
    assert ListRebuild.objects.count() == 1
    anonymous = Client().get("/lists/")
    assert anonymous.status_code == 302


def test_french_page(setup):
    page = setup["client"].get("/lists/", HTTP_ACCEPT_LANGUAGE="fr")
    html = page.content.decode()
    assert "Mes listes" in html
    assert "Enregistrer et recréer" in html
    assert "3 personnes trouvées pour alice.test" in html
    english = setup["client"].get("/lists/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3 people found for alice.test" in english
