"""Background work the portal queues: importing an uploaded archive.

The upload view only stores files; reading and importing a graph of millions
of edges happens here, in a worker, so the web page answers at once.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_tasks import task

from hirondelle.archive import ArchiveError
from hirondelle.migration.services.importing import ImportRefused, import_archive
from hirondelle.portal.models import ArchiveUpload
from hirondelle.portal.services.storage import archive_folder

__all__ = ["import_upload"]


def _fail(upload_id: str, message: str) -> None:
    ArchiveUpload.objects.filter(pk=upload_id).update(
        state=ArchiveUpload.State.FAILED, error=message[:2000]
    )


@task()
def import_upload(upload_id: str) -> dict:
    """Import an uploaded archive folder into the owner's migration."""
    claimed = ArchiveUpload.objects.filter(pk=upload_id, state=ArchiveUpload.State.QUEUED).update(
        state=ArchiveUpload.State.IMPORTING
    )
    if not claimed:  # deleted meanwhile, or another worker took it
        return {"skipped": True}
    upload = ArchiveUpload.objects.select_related("user").get(pk=upload_id)
    try:
        result = import_archive(archive_folder(upload), owner=upload.user)
    except (ArchiveError, ImportRefused) as e:  # the person's archive: tell them why
        _fail(upload_id, str(e))
        return {"failed": str(e)}
    except Exception:
        _fail(upload_id, _("The import failed on the server; the site's operators can see why."))
        raise
    ArchiveUpload.objects.filter(pk=upload_id).update(
        state=ArchiveUpload.State.DONE, migration=result.migration, error=""
    )
    return {"migration": result.migration.pk, "counts": result.counts}
