"""Background tasks. A task only says "advance this account now": the state
of every item lives in its row, and budgets live with the account."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.running import advance

__all__ = [
    "advance_account",
    "discover_task",
    "on_directory_changed",
    "queue_arrivals_task",
    "refresh_faces_task",
    "schedule",
]


def schedule(account: ConnectedAccount, at: datetime | None = None) -> bool:
    """Ask a worker to advance this account at `at` (now by default).

    At most one wake-up is queued per account: an earlier one already queued
    makes this a no-op. Returns whether a task was enqueued.
    """
    at = at or timezone.now()
    updated = (
        ConnectedAccount.objects.filter(pk=account.pk)
        .filter(Q(wake_at__isnull=True) | Q(wake_at__gt=at))
        .update(wake_at=at)
    )
    if updated:
        advance_account.using(run_after=at).enqueue(account.pk)
    return bool(updated)


@task()
def advance_account(account_id: int) -> dict:
    ConnectedAccount.objects.filter(pk=account_id).update(wake_at=None)
    account = ConnectedAccount.objects.filter(pk=account_id).first()
    if account is None:  # deleted meanwhile
        return {"deleted": True}
    result = advance(account)
    if result.next_wake:
        schedule(account, result.next_wake)
    return {
        "done": result.done,
        "already_done": result.already_done,
        "failed": result.failed,
        "retried": result.retried,
        "stopped": result.stopped,
        "waiting_for": result.waiting_for,
    }


@task()
def queue_arrivals_task(x_ids: list[int] | str) -> int:
    """Queue follows of newly arrived people, then wake the accounts concerned.

    `x_ids` comes packed (`identity.signals.pack_x_ids`) or as a list.
    """
    from hirondelle.identity.signals import unpack_x_ids
    from hirondelle.migration.services.arrivals import queue_arrivals

    accounts = queue_arrivals(unpack_x_ids(x_ids))
    for account in accounts:
        schedule(account)
    return len(accounts)


#: X ids per arrival task: big snapshot merges become many small tasks.
ARRIVAL_CHUNK = 1000


def on_directory_changed(sender, *, x_ids: list[int], **kwargs) -> None:
    """Signal receiver: look for arrivals after the transaction commits."""
    from django.db import transaction

    from hirondelle.identity.signals import pack_x_ids

    ids = list(x_ids)
    for start in range(0, len(ids), ARRIVAL_CHUNK):
        chunk = pack_x_ids(ids[start : start + ARRIVAL_CHUNK])
        transaction.on_commit(lambda chunk=chunk: queue_arrivals_task.enqueue(chunk))


@task()
def discover_task(migration_id: int) -> dict:
    """Search the networks for one migration's unmatched people (resumes where it stopped)."""
    from hirondelle.migration.services.discovery import run_discovery_locked

    run = run_discovery_locked(migration_id)
    if run is None:
        return {"skipped": True}
    if run.state == "waiting" and run.next_at:
        discover_task.using(run_after=run.next_at).enqueue(migration_id)
    return {"state": run.state, "searched": run.searched, "total": run.total}


#: batches of 25 faces one task reads before handing the worker to other tasks
FACE_BATCHES_PER_TASK = 40


@task()
def refresh_faces_task() -> dict:
    """Read the names and avatars that pages asked for (`services.faces`).

    Takes no arguments: which accounts are wanted lives in their rows, so the
    task's record names nobody. Queued again later when a network asks to wait.
    """
    from datetime import timedelta

    from hirondelle.migration.services.candidate_faces import (
        any_candidate_wanted,
        refresh_candidate_faces,
    )
    from hirondelle.migration.services.faces import any_wanted, queue_refresh, refresh_wanted

    report = refresh_wanted(max_batches=FACE_BATCHES_PER_TASK)
    # The pictures of discovery's proposals (each person's own, `CandidateFace`).
    proposals = refresh_candidate_faces(max_batches=FACE_BATCHES_PER_TASK)
    if report.retry_after is not None:
        queue_refresh(timezone.now() + timedelta(seconds=max(1.0, report.retry_after)))
    elif (report.batches >= FACE_BATCHES_PER_TASK and any_wanted()) or (
        proposals.batches >= FACE_BATCHES_PER_TASK and any_candidate_wanted()
    ):
        # More are wanted: other tasks run first, then this one again.
        queue_refresh()
    return {
        "read": report.read,
        "stored": report.stored,
        "no_avatar": report.no_avatar,
        "failed": report.failed,
        "waiting": report.retry_after is not None,
        "proposals_stored": proposals.stored,
    }
