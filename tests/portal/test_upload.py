"""The browser upload: declared files only, capped, resumable, imported in a worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hirondelle.config import get_settings
from hirondelle.migration.models import Migration
from hirondelle.portal.models import ArchiveUpload
from hirondelle.portal.services.storage import archive_folder as folder_of
from hirondelle.portal.services.uploads import CHUNK_BYTES, is_allowed
from hirondelle.portal.tasks import import_upload
from tests.portal.conftest import user_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    [
        "data/account.js",
        "data/profile.js",
        "data/manifest.js",
        "data/following.js",
        "data/follower-part2.js",
        "data/block.js",
        "data/mute.js",
        "data/lists-member.js",
        "following.js",  # 2019 archives: files at the root
    ],
)
def test_graph_files_are_allowed(name) -> None:
    assert is_allowed(name, republish=False)


@pytest.mark.parametrize(
    "name",
    ["data/tweets.js", "data/tweet-part1.js", "data/note-tweet.js", "data/tweets_media/1-a.jpg"],
)
def test_posts_and_media_only_when_republishing(name) -> None:
    assert not is_allowed(name, republish=False)
    assert is_allowed(name, republish=True)


@pytest.mark.parametrize(
    "name",
    [
        "data/direct-messages.js",
        "data/direct_messages_media/1-a.jpg",
        "data/ip-audit.js",
        "data/contact.js",
        "data/like.js",
        "../data/account.js",
        "data/../../etc/passwd",
        "/etc/passwd",
        "data/tweets_media/../../secret",
        "data\\account.js",
        "Your archive.html",
        "data/account.js/",
    ],
)
def test_everything_else_is_refused(name) -> None:
    assert not is_allowed(name, republish=True)


def _new(client, files, republish=False):
    return client.post(
        "/upload/new",
        json.dumps({"files": files, "republish": republish}),
        content_type="application/json",
    )


def _chunk(client, upload_id, name, offset, data):
    return client.post(
        f"/upload/{upload_id}/file?name={name}&offset={offset}",
        data,
        content_type="application/octet-stream",
    )


def test_a_private_file_is_refused_with_its_name(alice) -> None:
    response = _new(alice, {"data/account.js": 10, "data/direct-messages.js": 10})
    assert response.status_code == 400
    assert "direct-messages.js" in response.json()["error"]
    assert not ArchiveUpload.objects.exists()


def test_posts_need_the_republish_choice(alice) -> None:
    assert _new(alice, {"data/account.js": 1, "data/tweets.js": 1}).status_code == 400
    assert (
        _new(alice, {"data/account.js": 1, "data/tweets.js": 1}, republish=True).status_code == 201
    )


def test_not_an_archive_without_account(alice) -> None:
    response = _new(alice, {"data/following.js": 10})
    assert response.status_code == 400
    assert "le fichier qui nomme votre compte manque" in response.json()["error"]  # French first


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1,2]",
        json.dumps({"files": {"data/account.js": -1}}).encode(),
        json.dumps({"files": {"data/account.js": "12"}}).encode(),
    ],
)
def test_malformed_declarations_are_refused(alice, body) -> None:
    response = alice.post("/upload/new", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]


def test_size_cap(alice, monkeypatch) -> None:
    monkeypatch.setenv("HIRONDELLE_MAX_UPLOAD_BYTES", "1000")
    get_settings.cache_clear()
    try:
        response = _new(alice, {"data/account.js": 10, "data/following.js": 1001})
        assert response.status_code == 413
        assert "1000" in response.json()["error"]
        assert _new(alice, {"data/account.js": 10, "data/following.js": 1000}).status_code == 201
    finally:
        monkeypatch.delenv("HIRONDELLE_MAX_UPLOAD_BYTES")
        get_settings.cache_clear()


def test_chunks_resume_at_the_stored_offset(alice) -> None:
    upload = _new(alice, {"data/account.js": 10}).json()
    assert upload["received"] == {"data/account.js": 0}
    assert _chunk(alice, upload["id"], "data/account.js", 0, b"01234").json() == {
        "offset": 5,
        "complete": False,
    }
    # The same chunk again (a retry after a lost answer): refused, with where to go on.
    again = _chunk(alice, upload["id"], "data/account.js", 0, b"01234")
    assert again.status_code == 409
    assert again.json()["offset"] == 5
    assert alice.get(f"/upload/{upload['id']}/file?name=data/account.js").json() == {"offset": 5}
    assert alice.get(f"/upload/{upload['id']}/").json()["received"] == {"data/account.js": 5}
    too_long = _chunk(alice, upload["id"], "data/account.js", 5, b"0123456789")
    assert too_long.status_code == 400
    assert _chunk(alice, upload["id"], "data/account.js", 5, b"56789").json()["complete"]
    undeclared = _chunk(alice, upload["id"], "data/following.js", 0, b"x")
    assert undeclared.status_code == 400


def test_chunks_are_capped(alice) -> None:
    upload = _new(alice, {"data/account.js": CHUNK_BYTES + 1}).json()
    response = _chunk(alice, upload["id"], "data/account.js", 0, b"x" * (CHUNK_BYTES + 1))
    assert response.status_code in (400, 413)


def test_finish_refuses_incomplete_files(alice) -> None:
    upload = _new(alice, {"data/account.js": 10}).json()
    _chunk(alice, upload["id"], "data/account.js", 0, b"01234")
    response = alice.post(f"/upload/{upload['id']}/finish")
    assert response.status_code == 409
    assert ArchiveUpload.objects.get(pk=upload["id"]).state == ArchiveUpload.State.RECEIVING


def _send_folder(client, folder: Path, *, republish=False) -> str:
    files = {
        p.relative_to(folder).as_posix(): p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and is_allowed(p.relative_to(folder).as_posix(), republish=republish)
    }
    upload = _new(client, files, republish=republish).json()
    for name, size in files.items():
        data = (folder / name).read_bytes()
        for offset in range(0, max(size, 1), 4096):
            response = _chunk(client, upload["id"], name, offset, data[offset : offset + 4096])
            assert response.status_code == 200, response.content
    return upload["id"]


def test_upload_then_import_in_a_worker(alice, archive_folder) -> None:
    spec, folder = archive_folder
    upload_id = _send_folder(alice, folder)
    stored = ArchiveUpload.objects.get(pk=upload_id)
    names = set(stored.files)
    assert "data/following.js" in names
    assert not any("direct" in n or "tweets" in n for n in names)
    # Only the declared files exist on the server.
    on_disk = {
        p.relative_to(folder_of(stored)).as_posix()
        for p in folder_of(stored).rglob("*")
        if p.is_file()
    }
    assert on_disk == names
    response = alice.post(f"/upload/{upload_id}/finish")
    assert response.status_code == 200
    assert response.json()["state"] == "queued"
    assert not Migration.objects.exists()  # the web request did not import
    import_upload.call(upload_id)  # what a worker does
    status = alice.get(f"/upload/{upload_id}/").json()
    assert status["state"] == "done", status
    migration = Migration.objects.get(owner=user_of(alice))
    assert migration.x_account_id == int(spec.account.id)
    assert migration.counts["following"] == len(set(spec.following))
    assert migration.counts.get("posts", 0) == 0
    # Posts were left out on purpose: no warning about them.
    assert migration.import_warnings == []


def test_a_broken_archive_fails_with_a_reason(alice) -> None:
    upload = _new(alice, {"data/account.js": 9}).json()
    _chunk(alice, upload["id"], "data/account.js", 0, b"not json!")
    alice.post(f"/upload/{upload['id']}/finish")
    import_upload.call(upload["id"])
    status = alice.get(f"/upload/{upload['id']}/").json()
    assert status["state"] == "failed"
    assert status["error"]


def test_small_files_travel_together(alice, archive_folder) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    _, folder = archive_folder
    names = ["data/account.js", "data/following.js", "data/profile.js"]
    files = {n: (folder / n).read_bytes() for n in names}
    upload = _new(alice, {n: len(b) for n, b in files.items()}).json()
    url = f"/upload/{upload['id']}/files"
    parts = {n: SimpleUploadedFile(n, b) for n, b in files.items()}
    response = alice.post(url, parts)
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == {n: len(b) for n, b in files.items()}
    # A retried batch (the answer was lost) is harmless.
    again = alice.post(url, {n: SimpleUploadedFile(n, b) for n, b in files.items()})
    assert again.status_code == 200
    assert alice.post(f"/upload/{upload['id']}/finish").json()["state"] == "queued"


def test_a_batch_must_carry_whole_declared_files(alice) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = _new(alice, {"data/account.js": 10}).json()
    url = f"/upload/{upload['id']}/files"
    half = alice.post(url, {"data/account.js": SimpleUploadedFile("a", b"01234")})
    assert half.status_code == 400
    stranger = alice.post(url, {"data/direct-messages.js": SimpleUploadedFile("d", b"secret")})
    assert stranger.status_code == 400
    assert not any("direct" in p.name for p in (folder_of(ArchiveUpload.objects.get()).rglob("*")))


def test_an_archive_lacking_a_file_is_imported_with_a_warning(alice, archive_folder) -> None:
    """The manifest lists following.js but the zip lacks it (a trimmed archive):
    the import goes on, the summary names what is missing and never says
    "you follow 0 accounts"."""
    spec, folder = archive_folder
    (folder / "data" / "following.js").unlink()
    upload_id = _send_folder(alice, folder)
    alice.post(f"/upload/{upload_id}/finish")
    import_upload.call(upload_id)
    status = alice.get(f"/upload/{upload_id}/", headers={"accept-language": "en"}).json()
    assert status["state"] == "done", status
    assert ArchiveUpload.objects.get(pk=upload_id).summary["missing"] == ["following"]
    html = status["summary_html"]
    assert "We cannot find the people you follow" in html
    assert "Download a new archive from X" in html
    assert "You follow 0" not in html
    assert f"{len(set(spec.followers))} accounts follow you" in html


def test_the_import_reports_its_progress_in_numbers(alice, archive_folder) -> None:
    """While importing, the page reads what is being read, how far, out of how many."""
    from hirondelle.portal.services.import_report import ImportWatcher, archive_facts

    spec, folder = archive_folder
    upload_id = _send_folder(alice, folder)
    alice.post(f"/upload/{upload_id}/finish")
    upload = ArchiveUpload.objects.get(pk=upload_id)
    expected, missing = archive_facts(upload)
    assert expected["following"] == len(spec.following)
    assert missing == []
    ArchiveUpload.objects.filter(pk=upload_id).update(state=ArchiveUpload.State.IMPORTING)
    ImportWatcher(upload, expected).write("followers", 3)
    progress = alice.get(f"/upload/{upload_id}/", headers={"accept-language": "fr"}).json()[
        "progress"
    ]
    total = len(spec.followers)
    assert progress["text"].startswith(f"Lecture des personnes qui vous suivent : 3 sur {total}")
    assert progress["read"] == len(spec.following) + 3  # following read first
