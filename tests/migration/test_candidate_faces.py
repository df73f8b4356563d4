"""Pictures of the accounts discovery proposed: the person's own, fetched in the
background, served only to them, gone with their migration.

Bluesky: the reference atproto stack (PLC + PDS + AppView on 127.0.0.1), whose
image server resizes the avatar blobs as production's CDN does; the proposals'
profiles are read from its AppView as discovery reads them. Fediverse:
mastodon-mock, a MOCK of Mastodon's client API (no federation), whose
uploaded avatars are real files and whose default avatars are on a made-up
domain.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone
from PIL import Image

from hirondelle.identity.models import AccountAvatar, NetworkAccount
from hirondelle.migration.models import CandidateFace, DiscoveryCandidate, DiscoveryRun
from hirondelle.migration.services import candidate_faces as cf
from hirondelle.migration.services.erasure import erase_person
from hirondelle.migration.services.importing import import_archive
from hirondelle.networks.faces import MastodonLookup, reencode
from hirondelle.networks.search import BlueskyPublic
from hirondelle.portal.services.discover import people_found
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


def picture(color=(30, 120, 200), size=(400, 300), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def _propose(migration, profiles, x_id: int = 900) -> list[DiscoveryCandidate]:
    """Candidates as discovery stores them: the public profile as read."""
    return [
        DiscoveryCandidate.objects.create(
            migration=migration,
            x_account_id=x_id + n,
            x_username=f"x{n}",
            network=p.network,
            account=p.account,
            handle=p.handle,
            evidence="name_match",
            profile=p.to_dict(),
        )
        for n, p in enumerate(profiles)
    ]


def _cards(migration):
    return {c.row.handle: c for person in people_found(migration) for c in person.candidates}


@pytest.fixture(scope="module")
def bluesky_proposed(atproto_peer):
    """Three accounts: two with an avatar, the third with none and a hostile name."""
    people = []
    for n in range(3):
        account = atproto_peer.create_account()
        name = "Evil\u202egnp.exe" if n == 2 else f"Proposed {n}"
        avatar = picture((200, 40 * n, 40)) if n < 2 else b""
        atproto_peer.set_profile(account, display_name=name, avatar=avatar)
        people.append(account)
    atproto_peer.sync()
    with BlueskyPublic(atproto_peer.appview) as bluesky:
        return bluesky.get_profiles([p.did for p in people])


def test_proposals_get_their_own_pictures_never_in_the_directory(
    bluesky_proposed, migration, django_capture_on_commit_callbacks
):
    rows = _propose(migration, bluesky_proposed)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        cards = _cards(migration)
    assert len(queued) == 1  # one task; the page sent nothing itself
    assert all(not c.face.avatar for c in cards.values())  # the initial, until fetched
    assert cards[rows[2].handle].name == "Evilgnp.exe"  # the bidi override is gone
    assert CandidateFace.objects.filter(migration=migration, wanted_at__isnull=False).count() == 2
    with django_capture_on_commit_callbacks(execute=False) as again:
        _cards(migration)
    assert again == []  # already wanted: no second task

    report = cf.refresh_candidate_faces()
    assert (report.stored, report.avatar_requests) == (2, 2)
    # Nothing of this search reached the shared directory.
    assert NetworkAccount.objects.count() == 0
    assert AccountAvatar.objects.count() == 0
    cards = _cards(migration)
    for row in rows[:2]:
        face = CandidateFace.objects.get(migration=migration, account=row.account)
        assert urlsplit(face.source_url).path.startswith("/img/avatar/")  # the AppView's CDN
        assert cards[row.handle].face.avatar == f"/discover/avatars/{face.pk}/{face.digest}.webp"
        with Image.open(io.BytesIO(bytes(face.image))) as image:
            assert image.format == "WEBP"
            assert image.size == (96, 96)
            r, _g, _b = image.convert("RGB").getpixel((48, 48))
            assert r > 150
    assert not cards[rows[2].handle].face.avatar  # no avatar: the initial
    assert cf.refresh_candidate_faces().avatar_requests == 0  # never fetched twice


def test_a_proposal_the_directory_knows_uses_its_face(bluesky_proposed, migration):
    [row] = _propose(migration, bluesky_proposed[:1])
    known = NetworkAccount.objects.create(
        network="bluesky",
        handle=row.handle,
        uri=row.account,
        avatar_state="stored",
        avatar_digest="abcdef0123456789",
        profile_fetched_at=timezone.now(),
    )
    AccountAvatar.objects.create(
        account=known, image=reencode(picture()), source_url="x", fetched_at=timezone.now()
    )
    card = _cards(migration)[row.handle]
    assert card.face.avatar == f"/avatars/{known.pk}/abcdef0123456789.webp"
    assert not CandidateFace.objects.exists()  # not fetched again


def test_a_claimed_picture_is_not_fetched_by_a_second_worker(bluesky_proposed, migration):
    _propose(migration, bluesky_proposed[:2])
    cf.want_candidate_faces(migration, migration.candidates.all(), queue=False)
    first = CandidateFace.objects.order_by("pk").first()
    assert cf._claim([first.pk], timezone.now()) == [first]  # a worker holds it
    report = cf.refresh_candidate_faces()
    assert report.avatar_requests == 1  # only the other one
    first.refresh_from_db()
    assert first.state == ""
    assert first.wanted_at is not None


def test_mastodon_proposals_from_the_account_s_server(mastodon_peer, migration, monkeypatch):
    from mastodon_mock.routers import accounts
    from starlette.datastructures import UploadFile

    # The mock checks uploads against FastAPI's UploadFile, which Starlette's
    # form parser does not produce: without this it drops every avatar upload.
    monkeypatch.setattr(accounts, "UploadFile", UploadFile)
    host = urlsplit(mastodon_peer.base_url).netloc
    requests.patch(
        f"{mastodon_peer.base_url}/api/v1/accounts/update_credentials",
        headers={"Authorization": "Bearer bob_token"},
        files={"avatar": ("bob.jpg", picture((220, 40, 40), fmt="JPEG"), "image/jpeg")},
        timeout=10,
    ).raise_for_status()
    with MastodonLookup(server_url=lambda _host: mastodon_peer.base_url) as lookup:
        profiles = [lookup.lookup(f"{user}@{host}") for user in ("bob", "carol")]
    bob, carol = _propose(migration, profiles)
    _cards(migration)
    report = cf.refresh_candidate_faces()
    assert report.stored == 1
    # carol's default avatar is on the mock's made-up domain (mock.local): refused
    assert report.failed == 1
    cards = _cards(migration)
    assert cards[bob.handle].name == "Bob"
    assert cards[bob.handle].face.avatar.startswith("/discover/avatars/")
    assert not cards[carol.handle].face.avatar
    assert CandidateFace.objects.get(account=carol.account).state == "failed"


def _stored_face(migration) -> CandidateFace:
    row = DiscoveryCandidate.objects.create(
        migration=migration,
        x_account_id=77,
        network="mastodon",
        account="https://remote.example/users/zed",
        handle="zed@remote.example",
        evidence="profile_claim",
        profile={"display_name": "Zed", "avatar": "https://remote.example/zed.png"},
    )
    return CandidateFace.objects.create(
        migration=migration,
        network=row.network,
        account=row.account,
        source_url="https://remote.example/zed.png",
        state="stored",
        digest="0123456789abcdef",
        image=reencode(picture()),
        fetched_at=timezone.now(),
    )


def test_only_the_owner_gets_the_picture(client, person, migration, django_user_model):
    face = _stored_face(migration)
    url = f"/discover/avatars/{face.pk}/{face.digest}.webp"
    assert client.get(url).status_code == 404  # not signed in
    stranger = django_user_model.objects.create(username="stranger")
    client.force_login(stranger)
    assert client.get(url).status_code == 404  # someone else
    client.force_login(person)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["Cache-Control"].startswith("private")  # no shared cache keeps it
    assert "immutable" in response["Cache-Control"]
    assert Image.open(io.BytesIO(response.content)).format == "WEBP"
    assert client.get(f"/discover/avatars/{face.pk}/ffffffffffffffff.webp").status_code == 404
    assert client.post(url).status_code == 405
    DiscoveryRun.objects.create(migration=migration, consented_at=timezone.now(), state="done")
    page = client.get("/discover/")
    assert url in page.content.decode()
    assert "remote.example/zed.png" not in page.content.decode()  # never the remote URL


def test_erasure_and_a_new_search_remove_the_pictures(
    migration, person, django_user_model, tmp_path
):
    _stored_face(migration)
    other = django_user_model.objects.create(username="bystander")
    theirs = import_archive(
        write_archive(tmp_path / "other", sample_spec(seed=5, n_posts=1)), owner=other
    ).migration
    kept = _stored_face(theirs)
    # A new search that no longer proposes the account: its picture goes.
    DiscoveryCandidate.objects.filter(migration=theirs).delete()
    assert cf.forget_orphans() == 1
    assert not CandidateFace.objects.filter(pk=kept.pk).exists()
    kept = _stored_face(theirs)
    erase_person(person)
    assert not CandidateFace.objects.filter(migration_id=migration.pk).exists()
    assert CandidateFace.objects.filter(pk=kept.pk).exists()  # others' stay


def test_the_privacy_page_says_proposals_pictures_are_the_person_s(client):
    french = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "montrées à vous seul·e, et supprimées avec elles" in french
    english = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "shown only to you, and deleted with it" in english


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_fetch_each_picture_once(serve, migration):
    """Two refresh tasks side by side (threads, each with its own database
    connection) over the same wanted pictures: each is fetched exactly once.
    The pictures come from a scripted server on 127.0.0.1 that answers slowly
    enough for the workers to overlap. PostgreSQL only, as the directory's
    own test: many workers is the portal's case."""
    import threading
    import time

    from django.db import connection

    from tests.support.listener import answer

    asked: list[str] = []
    lock = threading.Lock()
    png = picture()

    def handle(request):
        with lock:
            asked.append(request.path)
        time.sleep(0.05)
        answer(request, png, headers={"Content-Type": "image/png"})

    port = serve(handle)
    for n in range(12):
        DiscoveryCandidate.objects.create(
            migration=migration,
            x_account_id=n,
            network="mastodon",
            account=f"https://faces.example/users/p{n}",
            handle=f"p{n}@faces.example",
            evidence="name_match",
            profile={"avatar": f"http://127.0.0.1:{port}/p{n}.png"},
        )
    assert cf.want_candidate_faces(migration, migration.candidates.all(), queue=False) == 12
    reports: list[cf.CandidateReport] = []
    errors: list[BaseException] = []

    def worker():
        try:
            reports.append(cf.refresh_candidate_faces(batch=3))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(asked) == sorted(set(asked))
    assert len(asked) == 12
    assert sum(r.stored for r in reports) == 12
    assert all(r.stored for r in reports), "both workers took part"
    assert CandidateFace.objects.filter(state="stored").count() == 12
