"""Where an upload's files live: inside the person's own upload folder."""

from __future__ import annotations

from pathlib import Path

from hirondelle.migration.services.erasure import upload_dir
from hirondelle.portal.models import ArchiveUpload

__all__ = ["archive_folder"]


def archive_folder(upload: ArchiveUpload) -> Path:
    """The folder laid out like the archive (``data/…``), which the importer opens.

    Under the person's upload folder, so "delete everything" removes it.
    """
    return upload_dir(upload.user) / str(upload.id) / "archive"
