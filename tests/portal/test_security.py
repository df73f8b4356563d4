"""Security: headers, CSRF on every form, and one person never reaching another's data."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.portal.models import ArchiveUpload
from tests.portal.conftest import sign_in, user_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/signin/", "/stats/", "/privacy/"])
def test_security_headers(path) -> None:
    response = Client().get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_carry_no_inline_script(alice, alice_migration) -> None:
    for path in ["/", "/upload/", "/review/", "/run/", "/stats/", "/consent/"]:
        html = alice.get(path).content.decode()
        for tag in html.split("<script")[1:]:
            head = tag.split(">", 1)[0]
            assert 'src="' in head or 'type="application/json"' in head, (path, head)
        assert " style=" not in html, path
        assert "onclick=" not in html, path
        assert "onload=" not in html, path


FORMS = [
    ("/signin/bluesky/", {"handle": "x.test", "app_password": "p"}),
    ("/signin/mastodon/", {"server": "127.0.0.1:9"}),
    ("/signout/", {}),
    ("/consent/", {"findable": "on"}),
    ("/review/", {"shown": "mastodon:1"}),
    ("/run/start", {}),
    ("/delete/", {"confirm": "yes"}),
    ("/i18n/setlang/", {"language": "en"}),
    ("/upload/new", {}),
]


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_every_form_needs_the_csrf_token(fake_networks, path, data) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/")  # a session and a CSRF cookie, but no token in the POST
    response = client.post(path, data)
    assert response.status_code == 403


def test_a_form_with_its_token_passes_csrf(fake_networks) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/signin/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/signin/bluesky/",
        {"handle": "carol.test", "app_password": "pw", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response.url == "/"


def _declare(client: Client, files: dict) -> dict:
    response = client.post(
        "/upload/new", json.dumps({"files": files}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_nobody_reaches_another_persons_upload(alice, bob) -> None:
    upload = _declare(alice, {"data/account.js": 3})
    base = f"/upload/{upload['id']}"
    assert bob.get(f"{base}/").status_code == 404
    assert bob.get(f"{base}/file?name=data/account.js").status_code == 404
    assert (
        bob.post(
            f"{base}/file?name=data/account.js&offset=0",
            b"abc",
            content_type="application/octet-stream",
        ).status_code
        == 404
    )
    assert bob.post(f"{base}/finish").status_code == 404
    assert ArchiveUpload.objects.get(pk=upload["id"]).state == ArchiveUpload.State.RECEIVING
    assert alice.get(f"{base}/").status_code == 200


def test_strangers_get_401_from_the_json_endpoints(alice) -> None:
    upload = _declare(alice, {"data/account.js": 3})
    stranger = Client()
    assert stranger.get(f"/upload/{upload['id']}/").status_code == 401
    assert stranger.get("/run/progress.json").status_code == 401
    assert stranger.post("/upload/new", "{}", content_type="application/json").status_code == 401


def test_progress_lists_only_my_accounts(alice, bob) -> None:
    mine = alice.get("/run/progress.json").json()["accounts"]
    theirs = bob.get("/run/progress.json").json()["accounts"]
    assert [a["handle"] for a in mine] == ["alice.test"]
    assert [a["handle"] for a in theirs] == ["bob.test"]


def test_pages_show_only_my_migration(alice, bob, alice_migration) -> None:
    username = alice_migration.x_username
    assert username
    assert username in alice.get("/").content.decode()
    for path in ["/", "/review/", "/consent/", "/later/", "/stats/"]:
        response = bob.get(path, follow=True)
        assert username not in response.content.decode(), path
    # Bob's consent form cannot touch Alice's X account.
    bob.post("/consent/", {"findable": "on"})
    assert not hasattr(alice_migration.x_account, "consent") or not (
        alice_migration.x_account.consent.findable
    )


def test_running_touches_only_my_accounts(alice, bob, alice_migration) -> None:
    bob.post("/run/start", {})
    assert not PlanItem.objects.filter(account__user=user_of(alice)).exists()
    assert ConnectedAccount.objects.get(user=user_of(alice)).wake_at is None


def test_delete_needs_confirmation_and_erases_only_me(alice, bob, alice_migration) -> None:
    response = alice.post("/delete/", {})
    assert response.status_code == 200
    assert ConnectedAccount.objects.filter(user=user_of(alice)).exists()
    bob_user = user_of(bob)
    alice_user = user_of(alice)
    response = alice.post("/delete/", {"confirm": "yes"})
    assert response.status_code == 200
    assert b'id="deleted"' in response.content
    assert not type(alice_user).objects.filter(pk=alice_user.pk).exists()
    assert type(bob_user).objects.filter(pk=bob_user.pk).exists()
    assert alice.get("/run/").status_code == 302  # signed out


def test_returning_person_finds_their_profile(fake_networks) -> None:
    first, second = Client(), Client()
    sign_in(first, "dora.test")
    sign_in(second, "dora.test")
    assert user_of(first) == user_of(second)


def test_an_account_of_someone_else_cannot_be_added(alice, fake_networks) -> None:
    other = Client()
    sign_in(other, "eve.test")
    # Alice, signed in, tries to sign in with Eve's account (which she would
    # need Eve's app password for; the fake accepts any): refused, not merged.
    response = alice.post(
        "/signin/bluesky/", {"handle": "eve.test", "app_password": "pw"}, follow=True
    )
    assert "eve.test" in response.content.decode()
    assert not ConnectedAccount.objects.filter(user=user_of(alice), handle="eve.test").exists()


def test_refused_sign_in_creates_nobody(fake_networks) -> None:
    from django.contrib.auth import get_user_model

    before = get_user_model().objects.count()
    client = Client(headers={"accept-language": "en"})
    response = client.post(
        "/signin/bluesky/", {"handle": "x.test", "app_password": "wrong"}, follow=True
    )
    assert get_user_model().objects.count() == before
    assert "_auth_user_id" not in client.session
    # What the server answered is not shown; what failed is, in plain words.
    assert b"Invalid identifier or password" not in response.content
    assert "refused the sign-in" in response.content.decode()
