"""The "Republish my posts" page: choose, preview without changes, start, and stay in one's lane."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.networks.base import ActionKind
from tests.portal.conftest import user_of

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}


def _account(client: Client) -> ConnectedAccount:
    return ConnectedAccount.objects.get(user=user_of(client))


def _choices(client: Client, **extra) -> dict:
    data = {
        "account": str(_account(client).pk),
        "visibility": "unlisted",
        "language": "en",
        "include_replies": "on",
        "include_retweets": "on",
        "action": "preview",
    }
    data.update(extra)
    return data


def test_page_requires_sign_in() -> None:
    response = Client().get("/republish/")
    assert response.status_code == 302
    assert "/signin/" in response["Location"]
    assert Client().post("/republish/", {"action": "start"}).status_code == 302


def test_form_defaults_and_explanations(alice, alice_migration) -> None:
    response = alice.get("/republish/", headers=EN)
    assert response.status_code == 200
    form = response.context["form"]
    assert form["visibility"].value() == "unlisted"
    assert form["language"].value() == "en"
    assert form["account"].value() == str(_account(alice).pk)
    html = response.content.decode()
    assert "Circle" in html
    assert "do not flood your followers' home timelines" in html
    assert 'name="exclude_from_1"' in html
    assert 'name="exclude_to_1"' in html
    for box in ("include_replies", "include_retweets", "media_only"):
        assert not form[box].value()
    french = alice.get("/republish/", headers={"accept-language": "fr"})
    assert french.context["form"]["language"].value() == "fr"
    assert "Republier mes publications" in french.content.decode()


def test_without_imported_posts_the_page_points_to_the_upload(alice) -> None:
    html = alice.get("/republish/", headers=EN).content.decode()
    assert "You have no imported posts to republish." in html
    assert 'href="/upload/"' in html
    assert 'id="republish-form"' not in html


def test_preview_counts_and_changes_nothing(alice, alice_migration) -> None:
    response = alice.post("/republish/", _choices(alice), headers=EN)
    assert response.status_code == 200
    preview = response.context["preview"]
    imported = alice_migration.posts.filter(gone_at__isnull=True).count()
    assert 0 < preview["posts"] <= imported
    assert preview["parts"] >= preview["posts"]
    assert sum(preview["by_year"].values()) == preview["posts"]
    assert preview["added"] == 0
    assert "Each post at most 300 characters and 4 pictures" in response.content.decode()
    assert not PlanItem.objects.filter(kind=ActionKind.POST).exists()
    assert not DBTaskResult.objects.filter(task_path__endswith="advance_account").exists()
    # The choices stay on the page.
    assert response.context["form"]["include_replies"].value() is True


def test_date_range_narrows_the_preview(alice, alice_migration) -> None:
    everything = alice.post("/republish/", _choices(alice)).context["preview"]
    years = sorted(everything["by_year"])
    last = years[-1]
    narrowed = alice.post(
        "/republish/", _choices(alice, since=f"{last}-01-01", until=f"{last}-12-31")
    ).context["preview"]
    assert narrowed["by_year"] == {last: everything["by_year"][last]}
    left_out = alice.post(
        "/republish/",
        _choices(alice, exclude_from_1=f"{last}-01-01", exclude_to_1=f"{last}-12-31"),
    ).context["preview"]
    assert last not in left_out["by_year"]
    assert left_out["posts"] == everything["posts"] - everything["by_year"][last]


def test_start_plans_posts_and_queues_the_work(alice, alice_migration) -> None:
    preview = alice.post("/republish/", _choices(alice)).context["preview"]
    response = alice.post("/republish/", _choices(alice, action="start"), headers=EN)
    assert response.status_code == 302
    assert response["Location"] == "/run/"
    account = _account(alice)
    items = PlanItem.objects.filter(account=account, kind=ActionKind.POST)
    assert items.count() == preview["parts"] > 0
    assert all(i.payload["visibility"] == "unlisted" for i in items)
    queued = DBTaskResult.objects.filter(task_path__endswith="advance_account")
    assert queued.count() == 1
    assert queued.get().args_kwargs["args"] == [account.pk]
    followed = alice.get(response["Location"], headers=EN).content.decode()
    assert "Republishing started on alice.test" in followed
    # Starting again adds nothing new: nothing is planned twice.
    alice.post("/republish/", _choices(alice, action="start"))
    assert items.count() == preview["parts"]


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        (
            {"since": "2023-05-01", "until": "2023-01-01"},
            "until",
            "The last day comes before the first day",
        ),
        (
            {"exclude_from_1": "2023-11-30", "exclude_to_1": "2022-08-01"},
            "exclude_to_1",
            "ends before it starts",
        ),
        ({"exclude_from_1": "2022-08-01"}, "exclude_to_1", "needs both its first and its last"),
        ({"since": "yesterday"}, "since", "Write a date as YYYY-MM-DD."),
    ],
)
def test_bad_dates_show_the_form_again(alice, alice_migration, extra, field, message) -> None:
    data = _choices(alice, action="start", media_only="on", **extra)
    response = alice.post("/republish/", data, headers=EN)
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert message in response.content.decode()
    assert form["media_only"].value() is True  # nothing lost
    assert "preview" not in response.context
    assert not PlanItem.objects.filter(kind=ActionKind.POST).exists()


def test_errors_are_translated(alice, alice_migration) -> None:
    response = alice.post(
        "/republish/",
        _choices(alice, since="2023-05-01", until="2023-01-01"),
        headers={"accept-language": "fr"},
    )
    assert "Le dernier jour vient avant le premier" in response.content.decode()


def test_another_persons_account_is_not_found(alice, alice_migration, bob) -> None:
    bobs = _account(bob)
    for action in ("preview", "start"):
        response = alice.post("/republish/", _choices(alice, account=str(bobs.pk), action=action))
        assert response.status_code == 404
    assert alice.post("/republish/", _choices(alice, account="nonsense")).status_code == 404
    assert not PlanItem.objects.filter(kind=ActionKind.POST).exists()
    assert not DBTaskResult.objects.exists()
    # Bob has no migration of his own: he sees no posts, certainly not Alice's.
    html = bob.get("/republish/", headers=EN).content.decode()
    assert "You have no imported posts to republish." in html
    assert bob.post("/republish/", _choices(bob, action="start")).status_code == 302
    assert not PlanItem.objects.filter(kind=ActionKind.POST).exists()


def test_post_without_csrf_token_is_refused(fake_networks, alice_migration) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice_migration.owner)
    account = ConnectedAccount.objects.get(user=alice_migration.owner)
    response = client.post(
        "/republish/",
        {"account": str(account.pk), "visibility": "unlisted", "language": "en", "action": "start"},
    )
    assert response.status_code == 403
    assert not PlanItem.objects.filter(kind=ActionKind.POST).exists()
