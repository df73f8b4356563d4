"""The discovery step of the page: its own consent, progress, and people found.

Candidates are written straight into the database here (the search itself is
tested on real servers in tests/migration/test_discovery_search.py): these
tests are about consent, what the page shows, and whose choices it records.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hirondelle.migration.models import DiscoveryCandidate, DiscoveryRun
from tests.portal.conftest import user_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(alice, bob):
    """The portal speaks French first; these tests read the English page."""
    for client in (alice, bob):
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


CONSENT = "their X usernames will be sent to Bluesky's public search and to my own server"


def _iso(days_ago: int) -> str:
    return (timezone.now() - timedelta(days=days_ago)).isoformat()


def _candidates(migration):
    owner = DiscoveryCandidate.objects.create(
        migration=migration,
        x_account_id=501,
        x_username="eve",
        x_display_name="Eve 🦋 eve.example",
        x_seen_in="1700000000000000001",
        network="bluesky",
        account="did:plc:eveeeeeeeeeeeeeeeeeeeeee",
        handle="eve.example",
        evidence="two_way",
        preselected=True,
        profile={
            "display_name": "Eve",
            "description": "Formerly x.com/eve here",
            "avatar": "https://cdn.example/eve.jpg",
            "followers": 1200,
            "posts": 340,
            "created_at": _iso(900),
            "claim": {"where": "description", "start": 9, "end": 18},
        },
    )
    impostor = DiscoveryCandidate.objects.create(
        migration=migration,
        x_account_id=502,
        x_username="vic",
        x_display_name="Vic",
        network="bluesky",
        account="did:plc:fakeeeeeeeeeeeeeeeeeeeee",
        handle="vic-official.example",
        evidence="profile_claim",
        preselected=False,
        profile={
            "display_name": "Vic",
            "description": "The real x.com/vic",
            "followers": 0,
            "posts": 0,
            "created_at": _iso(3),
            "claim": {"where": "description", "start": 9, "end": 18},
        },
    )
    return owner, impostor


def test_a_verified_field_is_shown_and_marked(alice, alice_migration):
    DiscoveryRun.objects.create(
        migration=alice_migration, consented_at=timezone.now(), state="done"
    )
    DiscoveryCandidate.objects.create(
        migration=alice_migration,
        x_account_id=503,
        x_username="fox",
        network="mastodon",
        account="https://mastodon.example/users/fox",
        handle="fox@mastodon.example",
        evidence="two_way",
        preselected=True,
        profile={
            "fields": [
                {"name": "Site", "value": "fox.example", "verified": False},
                {"name": "X", "value": "x.com/fox", "verified": True},
            ],
            "posts": 10,
            "created_at": _iso(800),
            "claim": {"where": "field", "field": "X", "verified": True},
        },
    )
    html = alice.get("/discover/").content.decode()
    assert "<dt>X</dt><dd><mark>x.com/fox</mark>" in html
    assert "<dd>fox.example</dd>" in html
    assert html.count("link checked by their server") == 1


def test_the_search_needs_its_own_yes(alice, alice_migration, django_capture_on_commit_callbacks):
    page = alice.get("/discover/")
    assert page.status_code == 200
    assert CONSENT in page.content.decode()
    refused = alice.post("/discover/", {"start": "1"}, follow=True)
    assert "nothing was sent" in refused.content.decode()
    assert not DiscoveryRun.objects.exists()
    assert not DBTaskResult.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        with_yes = alice.post("/discover/", {"start": "1", "consent": "yes"})
    assert with_yes.status_code == 302
    run = DiscoveryRun.objects.get(migration=alice_migration)
    assert run.consented_at is not None
    tasks = list(DBTaskResult.objects.values_list("task_path", "args_kwargs"))
    assert [(p.rsplit(".", 1)[-1], a["args"]) for p, a in tasks] == [
        ("discover_task", [alice_migration.pk])
    ]


def test_found_people_are_shown_as_people(alice, alice_migration):
    DiscoveryRun.objects.create(
        migration=alice_migration,
        consented_at=timezone.now(),
        state="done",
        total=2,
        searched=2,
    )
    owner, impostor = _candidates(alice_migration)
    html = alice.get("/discover/").content.decode()
    assert "@eve" in html
    assert "Eve 🦋 eve.example" in html  # the X side, as the archive knew it
    assert "https://x.com/eve/status/1700000000000000001" in html
    assert "<mark>x.com/eve</mark>" in html  # the claim, highlighted
    # Never the profile's own picture URL: a visitor's browser loads nothing
    # from another server (the initial until the directory has a face).
    assert "cdn.example" not in html
    assert '<span class="avatar initial" aria-hidden="true">' in html
    assert re.search(r"1[,\u202f\u00a0 ]?200 followers", html)  # with or without separators
    assert "340 posts" in html
    assert f'id="pick-{owner.pk}" name="pick" value="{owner.pk}" checked' in html
    assert f'id="pick-{impostor.pk}" name="pick" value="{impostor.pk}">' in html
    assert html.count("how impostors usually look") == 1  # only the new, empty one
    assert 'role="status"' in html


def test_ticks_are_saved_for_this_person_only(alice, bob, alice_migration):
    DiscoveryRun.objects.create(
        migration=alice_migration, consented_at=timezone.now(), state="done"
    )
    owner, impostor = _candidates(alice_migration)
    response = alice.post("/discover/", {"shown": [owner.pk, impostor.pk], "pick": [impostor.pk]})
    assert response.status_code == 302
    owner.refresh_from_db()
    impostor.refresh_from_db()
    assert owner.chosen is False
    assert impostor.chosen is True
    # Bob sees none of it, and cannot tick Alice's candidates.
    assert "vic-official" not in bob.get("/discover/").content.decode()
    bob.post("/discover/", {"shown": [owner.pk], "pick": [owner.pk]})
    owner.refresh_from_db()
    assert owner.chosen is False
    assert user_of(bob) != alice_migration.owner


def test_french_page(alice, alice_migration):
    html = alice.get("/discover/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Chercher sur les réseaux les personnes que je suis" in html


def test_a_candidate_the_directory_knows_shows_its_stored_face(alice, alice_migration):
    """The directory's face, served by this site; the others keep their initial."""
    from hirondelle.identity.models import AccountAvatar, NetworkAccount

    DiscoveryRun.objects.create(
        migration=alice_migration, consented_at=timezone.now(), state="done", total=2, searched=2
    )
    owner, _ = _candidates(alice_migration)
    known = NetworkAccount.objects.create(
        network="bluesky",
        handle=owner.handle,
        uri=owner.account,
        display_name="Eve",
        avatar_state="stored",
        avatar_digest="feedfacefeedface",
        profile_fetched_at=timezone.now(),
    )
    AccountAvatar.objects.create(
        account=known, image=b"RIFF", source_url="x", fetched_at=timezone.now()
    )
    html = alice.get("/discover/").content.decode()
    assert f'src="/avatars/{known.pk}/feedfacefeedface.webp"' in html
    assert html.count('class="avatar initial"') == 1  # the impostor, not in the directory
    assert "cdn.example" not in html
