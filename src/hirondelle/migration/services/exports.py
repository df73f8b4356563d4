"""Mastodon's own importer, for plans larger than the API allows in a day.

Mastodon's API takes 400 follows a day; its importer (Settings → Import and
export) is not rate limited. When a plan would take longer than a day, the
person gets CSV files in their data directory to upload there. Whatever they
import is then found done by the runner (it asks the server before acting),
so nothing is followed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services.adapters import adapter_for
from hirondelle.networks.base import Network

__all__ = ["ImporterFiles", "write_mastodon_imports"]

_KINDS = {"follow": "following", "block": "blocks", "mute": "mutes"}


@dataclass
class ImporterFiles:
    message: str
    upload_url: str
    files: list[Path] = field(default_factory=list)


def write_mastodon_imports(
    account: ConnectedAccount, *, directory: Path | None = None, force: bool = False
) -> ImporterFiles | None:
    """Write the importer's CSV files when the API would need more than a day.

    Returns None when the API alone finishes within a day (unless `force`).
    """
    from hirondelle.networks.mastodon.importer_csv import (
        FollowingRow,
        MuteRow,
        importer_advice,
        write_import_files,
    )

    if account.network != Network.MASTODON:
        return None
    open_items = PlanItem.objects.filter(account=account).open()
    follows = open_items.filter(kind="follow").count()
    advice = importer_advice(follows, adapter_for(account).budget, account.server)
    if not (advice.use_importer or force):
        return None
    directory = directory or Path(settings.DATA_DIR) / "exports" / account.handle.replace("@", "_")
    result = ImporterFiles(message=advice.message(), upload_url=advice.upload_url)
    for kind, import_kind in _KINDS.items():
        handles = open_items.filter(kind=kind).exclude(target_handle="")
        handles = handles.order_by("position", "id").values_list("target_handle", flat=True)
        if not handles.exists():
            continue
        row = FollowingRow if kind == "follow" else MuteRow if kind == "mute" else str
        result.files += write_import_files(
            import_kind, (row(h) for h in handles.iterator()), directory
        )
    return result
