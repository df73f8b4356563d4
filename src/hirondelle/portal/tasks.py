"""Background work the portal queues: importing an uploaded archive, and
telling people who arrived (arrival notices).

The upload view only stores files; reading and importing a graph of millions
of edges happens here, in a worker, so the web page answers at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from hirondelle.archive import ArchiveError
from hirondelle.identity.signals import pack_x_ids, unpack_x_ids
from hirondelle.migration.services.importing import POST_DATA, ImportRefused, import_archive
from hirondelle.migration.services.running import hold_period
from hirondelle.portal.models import ArchiveUpload, NotificationPreference
from hirondelle.portal.services.import_report import ImportWatcher, archive_facts, missing_parts
from hirondelle.portal.services.notifications import (
    forgotten_people,
    people_to_notify,
    process_person,
)
from hirondelle.portal.services.storage import (
    archive_folder,
    prune_after_import,
    remove_upload_files,
)

log = logging.getLogger(__name__)

__all__ = [
    "import_upload",
    "notice_arrivals",
    "notify_person",
    "on_directory_changed",
    "refresh_server_list",
    "schedule_notices",
]


def _reason_code(e: Exception) -> str:
    """Why the archive was refused, as a code the page words in the person's
    language (see import_report.ERROR_TEXTS); the details go to the log."""
    if isinstance(e, ImportRefused) and "allow-older" in str(e):
        return "older"
    return "unreadable"


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
    expected, _ = archive_facts(upload)
    watcher = ImportWatcher(upload, expected)
    watcher.write("following", 0)
    try:
        result = import_archive(
            archive_folder(upload),
            owner=upload.user,
            progress=watcher,
            left_out=() if upload.republish else POST_DATA,  # posts not sent on purpose
        )
    except (ArchiveError, ImportRefused) as e:  # the person's archive: tell them why
        log.info("import of upload %s refused: %s", upload_id, e)
        _fail(upload_id, _reason_code(e))
        remove_upload_files(upload)  # useless now: the person sends a new archive
        return {"failed": str(e)}
    except Exception:
        _fail(upload_id, "server")
        raise  # files kept: an operator may look at what broke, then "delete everything" goes
    summary = {
        "counts": result.counts,
        "gone": result.gone,
        "missing": missing_parts(result.missing),
        "republish": upload.republish,
    }
    ArchiveUpload.objects.filter(pk=upload_id).update(
        state=ArchiveUpload.State.DONE, migration=result.migration, error="", summary=summary
    )
    prune_after_import(upload)
    return {"migration": result.migration.pk, "counts": result.counts}


# --- arrival notices (see hirondelle.portal.services.notifications) ----------


def schedule_notices(user_id: int, at: datetime | None = None) -> bool:
    """Ask a worker to look at this person's notices at `at` (now by default).

    At most one wake-up is queued per person, as for plan runs; one that
    should have run long ago (its worker was killed) no longer counts.
    """
    at = at or timezone.now()
    stale = timezone.now() - hold_period()
    updated = (
        NotificationPreference.objects.filter(user_id=user_id, enabled=True)
        .filter(Q(wake_at__isnull=True) | Q(wake_at__gt=at) | Q(wake_at__lt=stale))
        .update(wake_at=at)
    )
    if updated:
        notify_person.using(run_after=at).enqueue(user_id)
    return bool(updated)


@task()
def notify_person(user_id: int) -> dict:
    """Gather the person's new arrivals and send their due notices."""
    NotificationPreference.objects.filter(user_id=user_id).update(wake_at=None)
    wake = process_person(user_id)
    if wake is not None:
        schedule_notices(user_id, wake)
    return {"next": wake.isoformat() if wake else None}


@task()
def notice_arrivals(x_ids: list[int] | str) -> int:
    """Arrivals happened: wake the opted-in people whose X graph holds them.

    `x_ids` comes packed (`identity.signals.pack_x_ids`) or as a list.
    """
    people = people_to_notify(unpack_x_ids(x_ids))
    # Also wake whoever a killed worker left waiting: arrivals are frequent
    # on a portal, so this is the sweep, with no timer to run.
    for user_id in {*people, *forgotten_people()}:
        schedule_notices(user_id)
    return len(people)


#: X ids per notice task, as for the arrival tasks.
NOTICE_CHUNK = 1000


def on_directory_changed(sender, *, x_ids: list[int], **kwargs) -> None:
    """Signal receiver: look for people to tell once the transaction commits."""
    ids = list(x_ids)
    for start in range(0, len(ids), NOTICE_CHUNK):
        chunk = pack_x_ids(ids[start : start + NOTICE_CHUNK])
        transaction.on_commit(lambda chunk=chunk: notice_arrivals.enqueue(chunk))


# --- the suggested Mastodon servers (see hirondelle.portal.services.servers) --


@task()
def refresh_server_list(languages: list[str]) -> dict:
    """Fetch joinmastodon.org's list for these languages; a failure keeps the last good one."""
    from hirondelle.portal.services.servers import refresh_servers

    return {r.language: r.count if r.ok else r.error for r in refresh_servers(languages)}
