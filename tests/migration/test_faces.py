"""Faces of directory accounts, read in the background from real peers.

Bluesky: the reference atproto stack (PLC + PDS + AppView on 127.0.0.1); the
avatars are blobs on the PDS that the AppView's own image server resizes,
as production's CDN does. Fediverse: mastodon-mock, a MOCK of Mastodon's
client API (FastAPI over SQLite, no federation) whose uploaded avatars are
real files, and whose default avatars are SVG identicons (refused here).
"""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone
from PIL import Image

from hirondelle.identity.models import AccountAvatar, Link, NetworkAccount
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.services import faces
from hirondelle.networks.faces import MastodonLookup
from hirondelle.networks.search import BlueskyPublic
from hirondelle.portal.services.faces import faces_for_links

pytestmark = pytest.mark.django_db


def picture(color=(30, 120, 200), size=(400, 300), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def stored(account: NetworkAccount) -> Image.Image:
    image = AccountAvatar.objects.get(account=account).image
    return Image.open(io.BytesIO(bytes(image)))


# -- Bluesky: the real AppView ---------------------------------------------------------------


@pytest.fixture(scope="module")
def bluesky_people(atproto_peer):
    """30 accounts (two getProfiles requests): 28 with an avatar; the last has a hostile name."""
    people = []
    for n in range(30):
        account = atproto_peer.create_account()
        name = f"Person {n}"
        avatar = picture((n * 8, 100, 200)) if n < 28 else b""
        if n == 29:
            name = "Evil\u202egnp.exe <b>bold</b>"
        atproto_peer.set_profile(account, display_name=name, avatar=avatar)
        people.append(account)
    atproto_peer.sync()
    return people


def _bluesky_rows(people) -> list[NetworkAccount]:
    return [
        NetworkAccount.objects.create(network="bluesky", handle=p.handle, uri=p.did) for p in people
    ]


def test_bluesky_faces_come_from_the_appview_25_at_a_time(atproto_peer, bluesky_people):
    rows = _bluesky_rows(bluesky_people)
    assert faces.want_faces(rows, queue=False) == 30
    with BlueskyPublic(atproto_peer.appview) as bluesky:
        report = faces.refresh_wanted(bluesky=bluesky)
        assert bluesky.requests == {"app.bsky.actor.getProfiles": 2}
    assert report.read == 30
    assert report.stored == 28
    assert report.no_avatar == 2  # the last two have none
    first = NetworkAccount.objects.get(pk=rows[0].pk)
    assert first.display_name == "Person 0"
    assert first.avatar_state == "stored"
    assert urlsplit(first.avatar_url).path.startswith("/img/avatar/")  # the AppView's CDN path
    with stored(first) as image:
        assert image.format == "WEBP"
        assert image.size == (96, 96)
        _r, g, b = image.convert("RGB").getpixel((48, 48))
        assert abs(g - 100) < 20
        assert abs(b - 200) < 20
    bare = NetworkAccount.objects.get(pk=rows[28].pk)
    assert bare.avatar_state == "none"
    assert not AccountAvatar.objects.filter(account=bare).exists()
    hostile = NetworkAccount.objects.get(pk=rows[29].pk)
    assert hostile.display_name == "Evilgnp.exe <b>bold</b>"  # no override; escaped on pages
    assert NetworkAccount.objects.filter(profile_wanted_at__isnull=False).count() == 0


def test_fresh_faces_are_not_read_again_and_stale_ones_are(atproto_peer, bluesky_people, settings):
    rows = _bluesky_rows(bluesky_people[:3])
    faces.want_faces(rows, queue=False)
    with BlueskyPublic(atproto_peer.appview) as bluesky:
        faces.refresh_wanted(bluesky=bluesky)
    rows = list(NetworkAccount.objects.filter(pk__in=[r.pk for r in rows]))
    assert faces.want_faces(rows, queue=False) == 0  # read a moment ago
    NetworkAccount.objects.filter(pk=rows[0].pk).update(
        profile_fetched_at=timezone.now() - timedelta(days=8)
    )
    rows = list(NetworkAccount.objects.filter(pk__in=[r.pk for r in rows]))
    assert faces.want_faces(rows, queue=False) == 1  # older than the 7-day setting


def test_a_claimed_account_is_not_read_by_a_second_worker(atproto_peer, bluesky_people):
    rows = _bluesky_rows(bluesky_people[:2])
    faces.want_faces(rows, queue=False)
    now = timezone.now()
    held = faces._claim([rows[0].pk], now)  # another worker is reading it
    assert [a.pk for a in held] == [rows[0].pk]
    assert faces._claim([rows[0].pk], now) == []  # nobody else can take it meanwhile
    with BlueskyPublic(atproto_peer.appview) as bluesky:
        report = faces.refresh_wanted(bluesky=bluesky)
    assert report.read == 1
    assert NetworkAccount.objects.get(pk=rows[0].pk).profile_fetched_at is None
    # The claim lapses (a dead worker): the next task takes it.
    later = now + faces.CLAIM_FOR + timedelta(seconds=1)
    with BlueskyPublic(atproto_peer.appview) as bluesky:
        report = faces.refresh_wanted(bluesky=bluesky, now=lambda: later)
    assert report.read == 1
    assert NetworkAccount.objects.get(pk=rows[0].pk).avatar_state == "stored"


def test_one_malformed_account_costs_nobody_else_their_face(atproto_peer, bluesky_people):
    """The AppView refuses a whole getProfiles request for one invalid actor:
    the batch is asked again one by one, and only that row goes without."""
    rows = _bluesky_rows(bluesky_people[:3])
    bad = NetworkAccount.objects.create(network="bluesky", handle="not a handle!")
    faces.want_faces([*rows, bad], queue=False)
    with BlueskyPublic(atproto_peer.appview) as bluesky:
        report = faces.refresh_wanted(bluesky=bluesky)
    assert report.unreachable == 1
    assert report.retry_after is None
    names = set(
        NetworkAccount.objects.filter(pk__in=[r.pk for r in rows]).values_list(
            "display_name", flat=True
        )
    )
    assert names == {"Person 0", "Person 1", "Person 2"}
    assert NetworkAccount.objects.filter(profile_wanted_at__isnull=False).count() == 0


# -- the fediverse: mastodon-mock (a mock) ----------------------------------------------------


def test_mastodon_faces_come_from_the_account_s_own_server(mastodon_peer, monkeypatch):
    from mastodon_mock.routers import accounts
    from starlette.datastructures import UploadFile

    # The mock checks uploads against FastAPI's UploadFile, which Starlette's
    # form parser does not produce: without this it drops every avatar upload.
    monkeypatch.setattr(accounts, "UploadFile", UploadFile)
    host = urlsplit(mastodon_peer.base_url).netloc
    upload = requests.patch(
        f"{mastodon_peer.base_url}/api/v1/accounts/update_credentials",
        headers={"Authorization": "Bearer bob_token"},
        files={"avatar": ("bob.jpg", picture((220, 40, 40), fmt="JPEG"), "image/jpeg")},
        timeout=10,
    )
    upload.raise_for_status()
    bob = NetworkAccount.objects.create(network="mastodon", handle=f"bob@{host}")
    carol = NetworkAccount.objects.create(network="mastodon", handle=f"carol@{host}")
    nobody = NetworkAccount.objects.create(network="mastodon", handle=f"nobody@{host}")
    with MastodonLookup(server_url=lambda _host: mastodon_peer.base_url) as lookup:
        report = faces.refresh_accounts([bob, carol, nobody], mastodon=lookup)
        assert lookup.requests == {"lookup": 3}
    bob.refresh_from_db()
    assert bob.display_name == "Bob"
    assert bob.avatar_state == "stored"
    with stored(bob) as image:
        r, g, _b = image.convert("RGB").getpixel((48, 48))
        assert r > 180
        assert g < 90
    # The mock's default avatar is an identicon on its made-up domain
    # (https://mock.local/…): unreachable, so carol keeps her initial.
    carol.refresh_from_db()
    assert carol.display_name == "Carol"
    assert carol.avatar_state == "failed"
    assert not AccountAvatar.objects.filter(account=carol).exists()
    assert report.failed == 1
    nobody.refresh_from_db()
    assert nobody.avatar_state == "none"
    assert nobody.profile_fetched_at is not None


# -- what a page sees, and what erasure leaves -------------------------------------------------


def _with_avatar(handle: str, x_id: int) -> tuple[Link, NetworkAccount]:
    link = assert_link(x_id, "mastodon", handle, evidence="roster", asserted_by="test")
    set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    account = link.network_account
    from hirondelle.networks.faces import reencode

    AccountAvatar.objects.create(
        account=account, image=reencode(picture()), source_url="x", fetched_at=timezone.now()
    )
    NetworkAccount.objects.filter(pk=account.pk).update(
        display_name="Dana", avatar_state="stored", avatar_digest="abcdef0123456789"
    )
    return link, account


def test_a_page_never_reads_the_network_and_queues_one_task(django_capture_on_commit_callbacks):
    link, account = _with_avatar("dana@remote.example", 123)
    other = assert_link(124, "mastodon", "eve@remote.example", evidence="roster", asserted_by="t")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        shown = faces_for_links([link.pk, other.pk])
    assert shown[link.pk].name == "Dana"
    assert shown[link.pk].avatar == f"/avatars/{account.pk}/abcdef0123456789.webp"
    assert shown[other.pk].avatar == ""  # the initial, until read
    assert len(queued) == 1  # one task for both stale accounts
    with django_capture_on_commit_callbacks(execute=False) as again:
        faces_for_links([link.pk, other.pk])
    assert again == []  # already wanted: no second task


def test_the_avatar_is_served_from_our_origin_with_safe_headers(client):
    _, account = _with_avatar("dana@remote.example", 123)
    response = client.get(f"/avatars/{account.pk}/abcdef0123456789.webp")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response["Cache-Control"]
    assert "max-age=31536000" in response["Cache-Control"]
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert Image.open(io.BytesIO(response.content)).format == "WEBP"
    assert client.get(f"/avatars/{account.pk}/0000000000000000.webp").status_code == 404
    assert client.post(f"/avatars/{account.pk}/abcdef0123456789.webp").status_code == 405


def test_unlinked_accounts_and_a_leaver_s_own_account_lose_their_face():
    link, account = _with_avatar("dana@remote.example", 123)
    _, kept = _with_avatar("fred@remote.example", 125)
    link.delete()  # reported, erased: nobody links it any more
    assert faces.forget_unlinked() == 1
    assert not AccountAvatar.objects.filter(account=account).exists()
    assert AccountAvatar.objects.filter(account=kept).exists()
    assert faces.forget_faces([kept.pk]) == 1
    kept.refresh_from_db()
    assert (kept.display_name, kept.avatar_state, kept.avatar_digest) == ("", "", "")


def test_erasing_a_person_forgets_their_own_face_even_if_others_link_them(django_user_model):
    from hirondelle.migration.models import ConnectedAccount
    from hirondelle.migration.services.erasure import erase_person

    alice = django_user_model.objects.create(username="alice")
    ConnectedAccount.objects.create(
        user=alice,
        network="mastodon",
        server="https://home.example",
        handle="alice@home.example",
        remote_id="https://home.example/users/alice",
        credentials={"access_token": "t"},
    )
    # A roster (not alice) links her account: the row stays for the others.
    link = assert_link(
        777,
        "mastodon",
        "alice@home.example",
        "https://home.example/users/alice",
        evidence="roster",
        asserted_by="city",
    )
    from hirondelle.networks.faces import reencode

    account = link.network_account
    AccountAvatar.objects.create(
        account=account, image=reencode(picture()), source_url="x", fetched_at=timezone.now()
    )
    NetworkAccount.objects.filter(pk=account.pk).update(
        display_name="Alice", avatar_state="stored", avatar_digest="0123456789abcdef"
    )
    _, bystander = _with_avatar("fred@remote.example", 125)

    erase_person(alice)

    account.refresh_from_db()  # still in the directory, for the roster's followers
    assert (account.display_name, account.avatar_digest, account.profile_fetched_at) == (
        "",
        "",
        None,
    )
    assert not AccountAvatar.objects.filter(account=account).exists()
    assert AccountAvatar.objects.filter(account=bystander).exists()  # others' faces stay


def test_review_and_later_pages_show_the_stored_face_escaped(client, person, migration, spec):
    x_id = int(spec.following[0])
    made = assert_link(x_id, "mastodon", "dana@remote.example", evidence="roster", asserted_by="t")
    set_consent(x_id, findable=True, auto_followable=True, auto_follow_arrivals=False)
    from hirondelle.networks.faces import reencode

    account = made.network_account
    AccountAvatar.objects.create(
        account=account, image=reencode(picture()), source_url="x", fetched_at=timezone.now()
    )
    NetworkAccount.objects.filter(pk=account.pk).update(
        display_name="Dana <img src=x onerror=alert(1)>",
        avatar_state="stored",
        avatar_digest="abcdef0123456789",
        profile_fetched_at=timezone.now(),
    )
    client.force_login(person)
    for page in ("/review/", "/later/"):
        html = client.get(page).content.decode()
        assert f'src="/avatars/{account.pk}/abcdef0123456789.webp"' in html, page
        assert "Dana &lt;img src=x onerror=alert(1)&gt;" in html, page
        assert "<img src=x" not in html, page


def test_one_unreachable_server_does_not_hold_up_the_others(mastodon_peer):
    host = urlsplit(mastodon_peer.base_url).netloc
    bob = NetworkAccount.objects.create(network="mastodon", handle=f"bob@{host}")
    # A server that is down (nothing listens on port 9 of the loopback address).
    ghost = NetworkAccount.objects.create(
        network="mastodon", handle="ghost@127.0.0.1:9", display_name="Ghost (as read before)"
    )

    def server(name: str) -> str:
        return mastodon_peer.base_url if name == host else f"http://{name}"

    faces.want_faces([ghost, bob], queue=False)
    with MastodonLookup(server_url=server) as lookup:
        report = faces.refresh_wanted(mastodon=lookup)
    assert report.retry_after is None  # the batch went on
    assert report.unreachable == 1
    bob.refresh_from_db()
    assert bob.display_name == "Bob"
    ghost.refresh_from_db()
    assert ghost.display_name == "Ghost (as read before)"  # kept until the next refresh
    assert ghost.profile_wanted_at is None
    assert ghost.profile_fetched_at is not None
    assert NetworkAccount.objects.filter(profile_wanted_at__isnull=False).count() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_read_each_face_once(serve):
    """Two refresh tasks run side by side (threads, each with its own database
    connection) over the same wanted accounts: every profile and every avatar is
    asked for exactly once. The server is a scripted one on 127.0.0.1 that
    answers slowly enough for the workers to overlap.

    PostgreSQL only: many workers is the portal's case; a laptop's SQLite runs
    one worker (and the suite's in-memory SQLite locks whole tables)."""
    import json
    import threading
    import time

    from django.db import connection

    from tests.support.listener import answer

    asked: list[str] = []
    lock = threading.Lock()
    png = picture()

    def handle(request):
        with lock:
            asked.append(request.path.split("?")[0] + "?" + request.path.partition("?")[2])
        time.sleep(0.05)
        if request.path.startswith("/api/v1/accounts/lookup"):
            user = request.path.split("acct=")[1]
            body = {
                "acct": user,
                "uri": f"https://faces.example/users/{user}",
                "display_name": f"Name of {user}",
                "avatar_static": f"http://127.0.0.1:{port}/avatars/{user}.png",
            }
            answer(request, json.dumps(body).encode())
        else:
            answer(request, png, headers={"Content-Type": "image/png"})

    port = serve(handle)
    host = f"127.0.0.1:{port}"
    rows = [
        NetworkAccount.objects.create(network="mastodon", handle=f"p{n}@{host}") for n in range(12)
    ]
    faces.want_faces(rows, queue=False)
    reports: list[faces.RefreshReport] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with MastodonLookup(server_url=lambda name: f"http://{name}") as lookup:
                reports.append(faces.refresh_wanted(mastodon=lookup, batch=3))
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
    lookups = [a for a in asked if a.startswith("/api/v1/accounts/lookup")]
    pictures = [a for a in asked if a.startswith("/avatars/")]
    assert sorted(lookups) == sorted(set(lookups))
    assert len(lookups) == 12
    assert sorted(pictures) == sorted(set(pictures))
    assert len(pictures) == 12
    assert sum(r.read for r in reports) == 12
    assert all(r.read for r in reports), "both workers took part"
    assert AccountAvatar.objects.count() == 12


def test_the_privacy_page_says_pictures_are_copied_here(client):
    french = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "votre navigateur ne demande jamais rien à leurs serveurs" in french
    english = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "your browser never asks their servers" in english


def test_the_task_hands_the_worker_back_and_queues_itself_again(
    monkeypatch, django_capture_on_commit_callbacks
):
    """40 batches a task at most; then it queues itself again if more are wanted.
    The accounts here are on reserved names: refused before any request."""
    from hirondelle.migration import tasks

    monkeypatch.setattr(tasks, "FACE_BATCHES_PER_TASK", 1)
    rows = [
        NetworkAccount.objects.create(network="mastodon", handle=f"p{n}@server.example")
        for n in range(faces.BATCH + 1)
    ]
    faces.want_faces(rows, queue=False)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = tasks.refresh_faces_task.call()
    assert first["waiting"] is False
    assert len(queued) == 1  # one account still wanted: queued again
    assert NetworkAccount.objects.filter(profile_wanted_at__isnull=False).count() == 1
    with django_capture_on_commit_callbacks(execute=False) as queued:
        tasks.refresh_faces_task.call()
    assert queued == []
    assert NetworkAccount.objects.filter(profile_wanted_at__isnull=False).count() == 0
