"""Names of the X accounts in a person's graph, for that person's own pages.

Two sources, never mixed into one another:
- the directory (`identity.XAccount.username`): written only by rosters,
  signed snapshots and X sign-ins, shared by everyone;
- the person's own archive (`ArchiveName`): what their posts called each
  account, their word only, never shared.

A page shows the directory's name when it has one, else the archive's. A
username someone types or a post mentions is looked up in the person's own
archive first (that is who *they* meant), then in the directory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models.functions import Lower

from hirondelle.identity.models import XAccount, x_id_from_db, x_id_to_db
from hirondelle.migration.models import ArchiveName, Migration

__all__ = ["XName", "ids_for_usernames", "names_for"]

_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class XName:
    username: str
    display_name: str = ""
    from_archive: bool = False  # only the person's archive says so


def names_for(migration: Migration, x_ids: Iterable[int]) -> dict[int, XName]:
    """X id (as X writes it) → the name to show this person; ids nobody names are absent."""
    wanted = [x_id_to_db(x) for x in x_ids]
    out: dict[int, XName] = {}
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        for stored, username, display in ArchiveName.objects.filter(
            migration=migration, x_account_id__in=chunk
        ).values_list("x_account_id", "username", "display_name"):
            out[x_id_from_db(stored)] = XName(username, display, from_archive=True)
        for stored, username, display in (
            XAccount.objects.filter(id__in=chunk)
            .exclude(username="")
            .values_list("id", "username", "display_name")
        ):
            x = x_id_from_db(stored)
            own_display = out[x].display_name if x in out else ""
            out[x] = XName(username, display or own_display)
    return out


def ids_for_usernames(migration: Migration, usernames: Iterable[str]) -> dict[str, int]:
    """Lower-case username → X id: the person's archive first, then the directory."""
    lowered = sorted({u.lower().lstrip("@") for u in usernames if u})
    out: dict[str, int] = {}
    for start in range(0, len(lowered), _BATCH):
        chunk = lowered[start : start + _BATCH]
        for stored, username in (
            XAccount.objects.annotate(lower=Lower("username"))
            .filter(lower__in=chunk)
            .values_list("id", "username")
        ):
            out[username.lower()] = x_id_from_db(stored)
        for stored, username in (
            ArchiveName.objects.annotate(lower=Lower("username"))
            .filter(migration=migration, lower__in=chunk)
            .order_by("seen_at")  # the most recent holder of a reused username wins
            .values_list("x_account_id", "username")
        ):
            out[username.lower()] = x_id_from_db(stored)
    return out
