"""Background tasks. A task only says "advance this account now": the state
of every item lives in its row, and budgets live with the account."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.running import advance

__all__ = ["advance_account", "schedule"]


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
    }
