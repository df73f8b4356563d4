"""Where an upload's files live, and how long they stay.

Inside the person's own upload folder (private, 0700), so "delete
everything" removes them. Once an import has finished, only what later steps
read again is kept: the media files and the archive's account and manifest
(to open the folder as an archive when republishing). The graph files and
posts (hundreds of MB for a big account) are in the database by then.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from hirondelle.migration.models import Migration, PlanItem
from hirondelle.migration.services.erasure import upload_dir
from hirondelle.portal.models import ArchiveUpload

__all__ = ["archive_folder", "prune_after_import", "remove_upload_files"]

#: Members read again after the import: by the archive reader to open the
#: folder, and by republishing (the media of the posts).
_KEPT_AFTER_IMPORT = re.compile(
    r"data/(?:account|manifest)\.js"
    r"|data/(?:tweets_media|tweet_media|community_tweet_media|profile_media)/.+"
)


def archive_folder(upload: ArchiveUpload) -> Path:
    """The folder laid out like the archive (``data/…``), which the importer opens.

    Under the person's upload folder, so "delete everything" removes it.
    """
    return upload_dir(upload.user) / str(upload.id) / "archive"


def remove_upload_files(upload: ArchiveUpload) -> None:
    """Remove every file of an upload (a failed import: the person sends a new one)."""
    shutil.rmtree(archive_folder(upload).parent, ignore_errors=True)


def prune_after_import(upload: ArchiveUpload) -> int:
    """Keep only what later steps need of this upload; forget older uploads'
    folders nothing refers to any more. Returns the bytes freed."""
    root = archive_folder(upload)
    freed = 0
    if root.is_dir():
        for path in sorted(root.rglob("*"), reverse=True):
            name = path.relative_to(root).as_posix()
            if path.is_file() and not _KEPT_AFTER_IMPORT.fullmatch(name):
                freed += path.stat().st_size
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    for older in ArchiveUpload.objects.filter(user=upload.user).exclude(pk=upload.pk):
        folder = archive_folder(older)
        if folder.exists() and not _still_used(upload.user, folder):
            freed += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder.parent, ignore_errors=True)
    return freed


def _still_used(user, folder: Path) -> bool:
    """A migration reads its media from here, or a planned post will."""
    paths = {str(folder), str(folder.resolve())}
    if Migration.objects.filter(owner=user, archive_path__in=paths).exists():
        return True
    return (
        PlanItem.objects.filter(account__user=user, kind="post", payload__archive_path__in=paths)
        .open()
        .exists()
    )
