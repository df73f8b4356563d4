"""Delete everything Hirondelle knows about a person, and revoke its access.

"Delete" means gone: the connected accounts (every token ever issued for
them revoked on the networks first, the replaced ones too), the imported
graph and posts, the plan, the uploaded archive files, the links this
person asserted and their consent, the X account and network account rows
that only they brought, their background task records, their sessions, and
the person. Links that others published (an institution's roster, a signed
snapshot) stay theirs, but without this person's consent they are no longer
findable for anyone. Impersonation reports the person sent stay with the
moderators, without their name and their words (see `forget_reporter`).

On SQLite, the freed space is given back to the disk (VACUUM).
`tests/migration/test_erasure_everything.py` lists every table and proves
nothing else stays.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection, transaction
from django.db.models import Count, Q
from django_tasks_db.models import DBTaskResult

from hirondelle.identity.models import (
    Consent,
    Link,
    LinkConflict,
    NetworkAccount,
    XAccount,
)
from hirondelle.identity.services.directory import settle
from hirondelle.identity.signals import pack_x_ids, unpack_x_ids
from hirondelle.migration.models import Migration
from hirondelle.migration.services.accounts import disconnect_account, revoke_retired
from hirondelle.migration.services.faces import forget_faces

__all__ = ["ErasureReport", "erase_person", "give_space_back", "upload_dir"]

logger = logging.getLogger(__name__)

#: Background tasks whose first argument names something of one person.
_TASKS_BY_ACCOUNT = ("hirondelle.migration.tasks.advance_account",)
_TASKS_BY_PERSON = ("hirondelle.portal.tasks.notify_person",)
_TASKS_BY_UPLOAD = ("hirondelle.portal.tasks.import_upload",)
#: Background tasks carrying a list of X ids (directory changes).
_TASKS_BY_X_IDS = (
    "hirondelle.migration.tasks.queue_arrivals_task",
    "hirondelle.portal.tasks.notice_arrivals",
)


@dataclass
class ErasureReport:
    accounts_revoked: list[str] = field(default_factory=list)
    accounts_not_revoked: list[str] = field(default_factory=list)  # revoke by hand
    #: tokens of earlier sign-ins the networks did not confirm as revoked
    old_tokens_not_revoked: int = 0
    #: Bluesky accounts connected with an app password: sessions are revoked,
    #: but only the person can delete the app password itself
    app_passwords: list[str] = field(default_factory=list)
    migrations: int = 0
    links: int = 0


def upload_dir(user) -> Path:
    """Where a person's uploaded archive files live."""
    return Path(settings.MEDIA_ROOT) / "uploads" / str(user.pk)


def erase_person(user) -> ErasureReport:
    report = ErasureReport()
    uploads = upload_dir(user)
    accounts = list(user.connected_accounts.all())
    account_ids = [a.pk for a in accounts]
    own_accounts = {(a.network, a.remote_id) for a in accounts}
    for account in accounts:
        label = f"{account.handle} ({account.network})"
        if (account.credentials or {}).get("app_password"):
            report.app_passwords.append(account.handle)
        if disconnect_account(account):
            report.accounts_revoked.append(label)
        else:
            report.accounts_not_revoked.append(label)
    report.old_tokens_not_revoked = revoke_retired(user)
    # Uploads live in the portal app; the reverse accessor avoids importing it here.
    upload_ids = [str(pk) for pk in user.archive_uploads.values_list("id", flat=True)]
    with transaction.atomic():
        migrations = Migration.objects.filter(owner=user)
        x_ids = set(migrations.values_list("x_account_id", flat=True))
        links = Link.objects.filter(created_by=user)
        linked_x = set(links.values_list("x_account_id", flat=True))
        network_ids = set(links.values_list("network_account_id", flat=True))
        report.links = links.count()
        links.delete()
        Consent.objects.filter(x_account_id__in=x_ids, given_by=user).delete()
        report.migrations = migrations.count()
        migrations.delete()
        _forget_tasks(account_ids, user.pk, upload_ids, x_ids | linked_x)
        _forget_sessions(user.pk)
        user.delete()
        _forget_orphans(x_ids | linked_x, network_ids, own_accounts)
    shutil.rmtree(uploads, ignore_errors=True)
    give_space_back()
    return report


def _forget_tasks(account_ids: list[int], user_id: int, upload_ids: list[str], x_ids) -> None:
    """Task records name the person's accounts, uploads, id and X ids: remove them."""
    DBTaskResult.objects.filter(
        Q(task_path__in=_TASKS_BY_ACCOUNT, args_kwargs__args__0__in=account_ids)
        | Q(task_path__in=_TASKS_BY_PERSON, args_kwargs__args__0=user_id)
        | Q(task_path__in=_TASKS_BY_UPLOAD, args_kwargs__args__0__in=upload_ids)
    ).delete()
    if not x_ids:
        return
    ids = set(x_ids)
    for task in DBTaskResult.objects.filter(task_path__in=_TASKS_BY_X_IDS).only(
        "id", "status", "args_kwargs"
    ):
        packed = (task.args_kwargs.get("args") or [[]])[0]
        listed = unpack_x_ids(packed)
        if not ids.intersection(listed):
            continue
        rest = [x for x in listed if x not in ids]
        if task.status == "READY" and rest:  # still to run for the others
            kept = pack_x_ids(rest) if isinstance(packed, str) else rest
            task.args_kwargs = {**task.args_kwargs, "args": [kept]}
            task.save(update_fields=["args_kwargs"])
        else:
            task.delete()


def _forget_sessions(user_id: int) -> None:
    """Sessions signed in as the person on other browsers (the current one is flushed)."""
    mine = str(user_id)
    stale = [
        s.session_key
        for s in Session.objects.iterator()
        if str(s.get_decoded().get("_auth_user_id")) == mine
    ]
    Session.objects.filter(session_key__in=stale).delete()


def _forget_orphans(x_ids: set[int], network_ids: set[int], own_accounts: set) -> None:
    """Shared rows only this person brought: gone once nothing else refers to them."""
    settle(x_ids)  # the other links of these X accounts win again, conflicts recomputed
    for conflict in LinkConflict.objects.filter(x_account_id__in=x_ids):
        others = Link.objects.filter(
            x_account_id=conflict.x_account_id, network=conflict.network
        ).exclude(state=Link.State.REJECTED)
        if others.count() < 2:
            conflict.delete()
    XAccount.objects.filter(id__in=x_ids).annotate(
        n_links=Count("links", distinct=True),
        n_migrations=Count("migrations", distinct=True),
        n_conflicts=Count("conflicts", distinct=True),
    ).filter(n_links=0, n_migrations=0, n_conflicts=0, consent__isnull=True).delete()
    own = Q(pk__in=network_ids)
    for network, remote_id in own_accounts:
        own |= Q(network=network, uri=remote_id)
    NetworkAccount.objects.filter(own).annotate(n_links=Count("links")).filter(n_links=0).delete()
    # Their own accounts' rows may stay for others' links; their face does not
    # (orphans above took theirs with them: the avatar cascades).
    mine = Q(pk__in=[])
    for network, remote_id in own_accounts:
        mine |= Q(network=network, uri=remote_id)
    forget_faces(NetworkAccount.objects.filter(mine).values_list("pk", flat=True))


def give_space_back() -> None:
    """SQLite keeps deleted pages in its file: VACUUM gives them back to the disk.

    It rewrites what remains (one person's data on a laptop: quick), so it
    runs after the deletion has committed; inside a transaction (tests) it is
    skipped. PostgreSQL reuses the space by itself (autovacuum).
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except OperationalError as exc:  # another process held the database too long
        logger.warning("The space of deleted data was not given back (VACUUM: %s).", exc)
