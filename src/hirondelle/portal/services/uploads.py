"""Receive the archive files a browser sends, safely, resumably.

The browser opens the zip itself and sends only what a migration needs; the
server trusts none of it: every name is checked against the short list of
files the importer reads (so a direct message can never be stored here, even
by a hand-made request), sizes are capped, and each file is written inside
the upload's own folder, laid out like the archive (``data/following.js``) so
the archive reader opens it as an unzipped archive.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from hirondelle.config import get_settings, private_dir
from hirondelle.portal.models import ArchiveUpload
from hirondelle.portal.services.allowlist import is_allowed
from hirondelle.portal.services.storage import archive_folder
from hirondelle.portal.tasks import import_upload

__all__ = [
    "CHUNK_BYTES",
    "UploadError",
    "add_chunk",
    "add_whole_files",
    "archive_folder",
    "declare_upload",
    "finish_upload",
    "is_allowed",
    "received",
]

#: Largest chunk one request may carry (under Django's 10 MiB body limit).
CHUNK_BYTES = 8 * 1024 * 1024
#: An upload may hold this many files at most (media included).
MAX_FILES = 50_000
#: The window of the daily upload limits.
DAY = timedelta(days=1)
#: The whole upload may not exceed this many times the per-file cap: the
#: largest archives seen are about 11 GB, with media.
TOTAL_FACTOR = 24


class UploadError(Exception):
    """A request the upload cannot accept; `message` tells the person what to do."""

    def __init__(self, message: str, *, status: int = 400, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.offset = offset


def _target(upload: ArchiveUpload, name: str) -> Path:
    root = archive_folder(upload).resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):  # belt and braces: names are already checked
        raise UploadError(_("Refused file name %(name)s.") % {"name": name})
    return path


def declare_upload(user, files: dict[str, int], *, republish: bool) -> ArchiveUpload:
    """Start an upload of these files (archive member name → size).

    Raises UploadError naming the refused files or the size over the cap.
    """
    if not isinstance(files, dict) or not files:
        raise UploadError(_("No file to send: choose your X archive (the .zip file) first."))
    if len(files) > MAX_FILES:
        raise UploadError(
            _("Too many files (%(n)d); at most %(max)d are accepted.")
            % {"n": len(files), "max": MAX_FILES}
        )
    cap = get_settings().max_upload_bytes
    refused = sorted(
        n for n in files if not isinstance(n, str) or not is_allowed(n, republish=republish)
    )
    if refused:
        shown = ", ".join(repr(n) for n in refused[:5])
        raise UploadError(
            _(
                "These files are not needed and were not accepted: %(names)s. "
                "Send only the files the page lists."
            )
            % {"names": shown}
        )
    for name, size in files.items():
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise UploadError(_("Invalid size for %(name)s.") % {"name": name})
        if size > cap:
            raise UploadError(
                _("%(name)s is %(size)d bytes, over this site's limit of %(cap)d bytes per file.")
                % {"name": name, "size": size, "cap": cap},
                status=413,
            )
    if sum(files.values()) > cap * TOTAL_FACTOR:
        raise UploadError(_("The files are larger than this site accepts in total."), status=413)
    if not any(n.rsplit("/", 1)[-1] == "account.js" for n in files):
        raise UploadError(
            _(
                "This does not look like an X archive: the file that names your account is "
                "missing. Choose the zip X sent you, as you downloaded it."
            )
        )
    total = sum(files.values())
    _check_daily_limits(user, total)
    upload = ArchiveUpload.objects.create(
        user=user, files=files, republish=republish, declared_bytes=total
    )
    private_dir(archive_folder(upload))
    return upload


def _check_daily_limits(user, incoming: int) -> None:
    """Bound the disk uploads can fill: per person and for the whole site, over 24 hours.

    Counted on declared sizes, before any byte is stored, so a refused upload
    costs nothing. Raises UploadError (429) saying when to come back.
    """
    config = get_settings()
    since = timezone.now() - DAY
    recent = ArchiveUpload.objects.filter(created_at__gte=since)
    limits = [
        (
            config.upload_bytes_per_person_day,
            recent.filter(user=user),
            _(
                "You have sent as many archive files as this site accepts from one person in "
                "24 hours (%(limit)s). Try again tomorrow; your earlier uploads are kept."
            ),
        ),
        (
            config.upload_bytes_per_day,
            recent,
            _(
                "This site has received as many archive files as it can take in 24 hours "
                "(%(limit)s). Try again tomorrow."
            ),
        ),
    ]
    for limit, uploads, message in limits:
        if not limit:
            continue
        used = uploads.aggregate(used=Sum("declared_bytes"))["used"] or 0
        if used + incoming > limit:
            raise UploadError(message % {"limit": filesizeformat(limit)}, status=429)


def received(upload: ArchiveUpload) -> dict[str, int]:
    """Bytes already stored per declared file: where a resumed upload starts."""
    out = {}
    for name in upload.files:
        try:
            out[name] = _target(upload, name).stat().st_size
        except FileNotFoundError:
            out[name] = 0
    return out


@dataclass(frozen=True)
class ChunkResult:
    offset: int
    complete: bool


def add_chunk(upload: ArchiveUpload, name: str, offset: int, data: bytes) -> ChunkResult:
    """Append `data` to `name` at `offset`.

    An offset other than the bytes already stored is refused with status 409
    and the right offset, so the browser resumes exactly where it stopped.
    """
    if upload.state != ArchiveUpload.State.RECEIVING:
        raise UploadError(_("This upload is already complete."), status=409)
    if name not in upload.files:
        raise UploadError(_("%(name)s was not declared for this upload.") % {"name": name})
    if len(data) > CHUNK_BYTES:
        raise UploadError(_("Chunks are at most %(max)d bytes.") % {"max": CHUNK_BYTES}, status=413)
    size = upload.files[name]
    path = _target(upload, name)
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        have = os.fstat(fd).st_size
        if offset != have:
            raise UploadError(_("Resume from the stored offset."), status=409, offset=have)
        if have + len(data) > size:
            raise UploadError(
                _("%(name)s is larger than declared (%(size)d bytes).")
                % {"name": name, "size": size}
            )
        os.write(fd, data)
        have += len(data)
    finally:
        os.close(fd)
    return ChunkResult(offset=have, complete=have == size)


def add_whole_files(upload: ArchiveUpload, files: dict[str, bytes]) -> dict[str, int]:
    """Store several small declared files in one go (one request instead of many).

    Each must arrive whole; one already stored whole (a retried batch) is
    left as it is. Returns the stored size of each.
    """
    if sum(len(data) for data in files.values()) > CHUNK_BYTES:
        raise UploadError(
            _("A batch carries at most %(max)d bytes.") % {"max": CHUNK_BYTES}, status=413
        )
    stored = {}
    for name, data in files.items():
        if name not in upload.files:
            raise UploadError(_("%(name)s was not declared for this upload.") % {"name": name})
        if len(data) != upload.files[name]:
            raise UploadError(
                _("%(name)s must be sent whole in a batch (%(size)d bytes).")
                % {"name": name, "size": upload.files[name]}
            )
        try:
            stored[name] = add_chunk(upload, name, 0, data).offset
        except UploadError as e:
            if e.offset != upload.files[name]:  # anything but "already stored whole"
                raise
            stored[name] = e.offset
    return stored


def finish_upload(upload: ArchiveUpload) -> ArchiveUpload:
    """Check every file arrived whole, then queue the import for a worker."""
    if upload.state != ArchiveUpload.State.RECEIVING:
        return upload
    have = received(upload)
    missing = sorted(n for n, size in upload.files.items() if have.get(n) != size)
    if missing:
        raise UploadError(
            _("Some files are incomplete (%(names)s): send them again.")
            % {"names": ", ".join(missing[:3])},
            status=409,
        )
    with transaction.atomic():
        updated = ArchiveUpload.objects.filter(
            pk=upload.pk, state=ArchiveUpload.State.RECEIVING
        ).update(state=ArchiveUpload.State.QUEUED)
        if updated:
            transaction.on_commit(lambda: import_upload.enqueue(str(upload.pk)))
    upload.refresh_from_db()
    return upload
