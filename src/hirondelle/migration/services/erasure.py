"""Delete everything Hirondelle knows about a person, and revoke its access.

"Delete" means gone: the connected accounts (tokens revoked on the networks
first), the imported graph and posts, the plan, the uploaded archive files,
the links this person asserted and their consent, and the person. Links that
others published (an institution's roster, a signed snapshot) stay theirs,
but without this person's consent they are no longer findable for anyone.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from hirondelle.identity.models import Consent, Link
from hirondelle.migration.models import Migration
from hirondelle.migration.services.accounts import disconnect_account

__all__ = ["ErasureReport", "erase_person", "upload_dir"]


@dataclass
class ErasureReport:
    accounts_revoked: list[str] = field(default_factory=list)
    accounts_not_revoked: list[str] = field(default_factory=list)  # revoke by hand
    migrations: int = 0
    links: int = 0


def upload_dir(user) -> Path:
    """Where a person's uploaded archive files live."""
    return Path(settings.MEDIA_ROOT) / "uploads" / str(user.pk)


def erase_person(user) -> ErasureReport:
    report = ErasureReport()
    uploads = upload_dir(user)
    for account in list(user.connected_accounts.all()):
        label = f"{account.handle} ({account.network})"
        if disconnect_account(account):
            report.accounts_revoked.append(label)
        else:
            report.accounts_not_revoked.append(label)
    with transaction.atomic():
        x_ids = list(Migration.objects.filter(owner=user).values_list("x_account_id", flat=True))
        links = Link.objects.filter(created_by=user)
        report.links = links.count()
        links.delete()
        Consent.objects.filter(x_account_id__in=x_ids, given_by=user).delete()
        migrations = Migration.objects.filter(owner=user)
        report.migrations = migrations.count()
        migrations.delete()
        user.delete()
    shutil.rmtree(uploads, ignore_errors=True)
    return report
