"""Institutional rosters: an institution's own official accounts, from a CSV.

Columns (header names are case-insensitive; any order):

- `x_id` (the numeric X id) or `x` / `x_username` (an @handle already known to
  this directory; X handles alone cannot be turned into ids offline);
- `fediverse` (user@host) and/or `bluesky` (handle);
- optional `fediverse_id` (actor URI) and `bluesky_did`.

Every row becomes `roster` links asserted by the institution, findable (that
is the point of a roster). All or nothing: one bad row refuses the file, with
every problem listed by line.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from hirondelle.identity.models import Consent, Evidence, XAccount
from hirondelle.identity.services.directory import LinkRow, MergeStats, merge_links, parse_x_id
from hirondelle.identity.services.errors import InvalidLink, RosterError

__all__ = ["RosterResult", "import_roster"]

_ALIASES = {
    "x_id": "x_id",
    "id": "x_id",
    "x": "x",
    "x_username": "x",
    "x_handle": "x",
    "twitter": "x",
    "fediverse": "fediverse",
    "mastodon": "fediverse",
    "fediverse_id": "fediverse_id",
    "actor_uri": "fediverse_id",
    "mastodon_uri": "fediverse_id",
    "bluesky": "bluesky",
    "bluesky_handle": "bluesky",
    "bluesky_did": "bluesky_did",
    "did": "bluesky_did",
}
_MAX_ERRORS = 20


@dataclass(frozen=True)
class RosterResult:
    institution: str
    accounts: int
    stats: MergeStats


def import_roster(path: Path, *, institution: str, auto_followable: bool = False) -> RosterResult:
    """Publish an institution's official accounts as `roster` links."""
    if not institution.strip():
        raise RosterError("Name the institution publishing this roster.")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{path} does not exist.") from None
    except UnicodeDecodeError:
        raise RosterError(
            f"{path} is not UTF-8 text: export the spreadsheet as CSV UTF-8."
        ) from None
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
    reader = csv.DictReader(text.splitlines(), dialect=dialect)
    columns = {name: _ALIASES.get((name or "").strip().lower()) for name in reader.fieldnames or []}
    present = set(columns.values())
    if not ({"x_id", "x"} & present) or not ({"fediverse", "bluesky"} & present):
        raise RosterError(
            f"{path}: the header must name an X column (x_id or x_username) and at least one "
            f"of fediverse, bluesky; found {', '.join(reader.fieldnames or []) or 'nothing'}."
        )
    rows, errors, accounts = [], [], 0
    now = timezone.now()
    asserted_by = f"roster: {institution.strip()}"
    for number, raw in enumerate(reader, start=2):
        record = {columns[k]: (v or "").strip() for k, v in raw.items() if columns.get(k)}
        try:
            x_id = _x_id(record)
            links = []
            if record.get("fediverse"):
                links.append(("mastodon", record["fediverse"], record.get("fediverse_id", "")))
            if record.get("bluesky"):
                links.append(("bluesky", record["bluesky"], record.get("bluesky_did", "")))
            if not links:
                raise InvalidLink("no fediverse address and no Bluesky handle.")
            for network, handle, uri in links:
                rows.append(
                    LinkRow.make(
                        x_id,
                        network,
                        handle,
                        uri,
                        evidence=Evidence.ROSTER,
                        asserted_by=asserted_by,
                        asserted_at=now,
                        x_username=record.get("x", ""),
                        consent=(True, auto_followable, False),
                    )
                )
            accounts += 1
        except InvalidLink as exc:
            errors.append(f"line {number}: {exc}")
    if errors:
        more = f"\n… and {len(errors) - _MAX_ERRORS} more" if len(errors) > _MAX_ERRORS else ""
        raise RosterError(
            f"{path} was not imported; fix these rows:\n  "
            + "\n  ".join(errors[:_MAX_ERRORS])
            + more
        )
    with transaction.atomic():
        stats = merge_links(rows, consent_source=Consent.Source.ROSTER)
    return RosterResult(institution.strip(), accounts, stats)


def _x_id(record: dict[str, str]) -> int:
    if record.get("x_id"):
        return parse_x_id(record["x_id"])
    username = record.get("x", "").removeprefix("@")
    if not username:
        raise InvalidLink("no X account (x_id or x_username).")
    found = list(
        XAccount.objects.filter(username__iexact=username).values_list("id", flat=True)[:2]
    )
    if len(found) != 1:
        raise InvalidLink(
            f"the X id of @{username} is not known here: add an x_id column "
            "(X handles cannot be turned into ids offline)."
        )
    return found[0]
