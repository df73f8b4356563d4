"""What uploads leave on the server's disk, and how much they may fill.

Files are private (0600 in 0700 folders); once imported, only what later
steps read again stays (the media, and the account and manifest to open the
folder); a failed import leaves nothing; disk use per person and per day is
bounded, with a message in the person's language.
"""

from __future__ import annotations

import stat

import pytest

from hirondelle.archive import open_archive
from hirondelle.config import get_settings
from hirondelle.migration.models import Migration
from hirondelle.portal.models import ArchiveUpload
from hirondelle.portal.services.storage import archive_folder as folder_of
from hirondelle.portal.tasks import import_upload
from tests.portal.conftest import user_of
from tests.portal.test_upload import _chunk, _new, _send_folder
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


def _files(folder):
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_uploaded_files_are_private(alice, archive_folder) -> None:
    _, folder = archive_folder
    upload = ArchiveUpload.objects.get(pk=_send_folder(alice, folder))
    stored = folder_of(upload)
    for path in [stored, *stored.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    # The folders above, up to the person's own, too.
    assert stat.S_IMODE(stored.parent.parent.stat().st_mode) == 0o700


def test_only_what_republishing_needs_stays_after_the_import(alice, tmp_path) -> None:
    spec = sample_spec(seed=5, n_posts=30, n_following=50, n_followers=30)
    folder = write_archive(tmp_path / "archive", spec, zipped=False)
    upload = ArchiveUpload.objects.get(pk=_send_folder(alice, folder, republish=True))
    sent = _files(folder_of(upload))
    media = {n for n in sent if "_media/" in n}
    assert media  # the generated archive has photos
    assert "data/following.js" in sent
    alice.post(f"/upload/{upload.pk}/finish")
    import_upload.call(str(upload.pk))
    upload.refresh_from_db()
    assert upload.state == "done"
    kept = _files(folder_of(upload))
    assert kept == media | {"data/account.js", "data/manifest.js"} & sent
    # Republishing still opens the folder and reads a photo from it.
    migration = Migration.objects.get(owner=user_of(alice))
    with open_archive(migration.archive_path) as archive, archive.open_member(min(media)) as f:
        assert f.read()


def test_graph_only_upload_keeps_no_graph_file(alice, archive_folder) -> None:
    _, folder = archive_folder
    upload = ArchiveUpload.objects.get(pk=_send_folder(alice, folder))
    alice.post(f"/upload/{upload.pk}/finish")
    import_upload.call(str(upload.pk))
    assert _files(folder_of(upload)) <= {"data/account.js", "data/manifest.js"}


def test_a_newer_upload_removes_the_older_ones_files(alice, archive_folder) -> None:
    _, folder = archive_folder
    first = ArchiveUpload.objects.get(pk=_send_folder(alice, folder))
    alice.post(f"/upload/{first.pk}/finish")
    import_upload.call(str(first.pk))
    assert folder_of(first).exists()  # the migration reads it
    second = ArchiveUpload.objects.get(pk=_send_folder(alice, folder))
    alice.post(f"/upload/{second.pk}/finish")
    import_upload.call(str(second.pk))
    assert not folder_of(first).exists()
    assert folder_of(second).exists()


def test_a_failed_import_leaves_no_file(alice) -> None:
    upload = _new(alice, {"data/account.js": 9}).json()
    _chunk(alice, upload["id"], "data/account.js", 0, b"not json!")
    alice.post(f"/upload/{upload['id']}/finish")
    import_upload.call(upload["id"])
    stored = ArchiveUpload.objects.get(pk=upload["id"])
    assert stored.state == "failed"
    assert not folder_of(stored).exists()


@pytest.fixture
def limits(monkeypatch):
    def set_limits(person: int = 0, site: int = 0) -> None:
        monkeypatch.setenv("HIRONDELLE_UPLOAD_BYTES_PER_PERSON_DAY", str(person))
        monkeypatch.setenv("HIRONDELLE_UPLOAD_BYTES_PER_DAY", str(site))
        get_settings.cache_clear()

    yield set_limits
    get_settings.cache_clear()


def test_one_person_may_upload_so_much_a_day(alice, bob, limits) -> None:
    limits(person=3000)
    assert _new(alice, {"data/account.js": 2000}).status_code == 201
    refused = _new(alice, {"data/account.js": 1001})
    assert refused.status_code == 429
    assert "24 hours" in refused.json()["error"] or "24 heures" in refused.json()["error"]
    assert ArchiveUpload.objects.filter(user=user_of(alice)).count() == 1  # nothing stored
    assert _new(alice, {"data/account.js": 1000}).status_code == 201  # up to the limit
    assert _new(bob, {"data/account.js": 2000}).status_code == 201  # others are not held


def test_the_whole_site_may_take_so_much_a_day(alice, bob, limits) -> None:
    limits(site=3000)
    assert _new(alice, {"data/account.js": 2000}).status_code == 201
    refused = _new(bob, {"data/account.js": 2000})
    assert refused.status_code == 429
    assert refused.json()["error"]


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "dans 24 heures"), ("en", "in 24 hours")],
)
def test_the_limit_is_explained_in_the_persons_language(alice, limits, language, words) -> None:
    limits(person=100)
    alice.cookies["django_language"] = language
    refused = _new(alice, {"data/account.js": 200})
    assert refused.status_code == 429
    message = refused.json()["error"]
    assert words in message
    assert "100" in message  # the limit, in bytes as the page shows it
