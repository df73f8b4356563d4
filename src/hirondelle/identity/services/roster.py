"""Institutional rosters: an institution's own official accounts, from a CSV.

Columns (header names are case-insensitive; any order):

- `x_id` (the numeric X id) or `x` / `x_username` (an @handle);
- `fediverse` (user@host) and/or `bluesky` (handle);
- optional `fediverse_id` (actor URI) and `bluesky_did`.

Every row becomes `roster` links asserted by the institution, findable (that
is the point of a roster). All or nothing: one bad row refuses the file, with
every problem listed by line.

A username alone is resolved to an X id only through sources that cannot be
forged by an uploaded archive: the same roster (a row giving both the id and
the username), this institution's earlier rosters, or X itself (a person who
signed in with X, `x_oauth`). Usernames from archives or snapshots are never
used: anyone can forge an archive claiming a famous username for their own X
id. A row that cannot be resolved waits for an X id: it is listed in the
result (`waiting`), and the rest of the roster is imported.
"""

from __future__ import annotations

import contextlib
import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hirondelle.identity.models import Consent, Evidence, Link
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
    #: "line N: @name" for rows named by username only that no trusted source
    #: resolves: add their x_id and import again.
    waiting: tuple[str, ...] = ()


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
    rows, errors, waiting, accounts = [], [], [], 0
    now = timezone.now()
    asserted_by = f"roster: {institution.strip()}"
    records = [
        (number, {columns[k]: (v or "").strip() for k, v in raw.items() if columns.get(k)})
        for number, raw in enumerate(reader, start=2)
    ]
    known = _known_usernames(records, asserted_by)
    for number, record in records:
        try:
            x_id = _x_id(record, known)
            if x_id is None:
                waiting.append(f"line {number}: @{_username(record)}")
                continue
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
    return RosterResult(institution.strip(), accounts, stats, tuple(waiting))


def _username(record: dict[str, str]) -> str:
    return record.get("x", "").strip().removeprefix("@").lower()


def _known_usernames(records, asserted_by: str) -> dict[str, set[int]]:
    """username → X ids, from the sources a roster may trust (see the module's docstring)."""
    known: dict[str, set[int]] = defaultdict(set)
    for _, record in records:  # the institution's own word, in this file
        if record.get("x_id") and _username(record):
            with contextlib.suppress(InvalidLink):
                known[_username(record)].add(parse_x_id(record["x_id"]))
    wanted = {_username(r) for _, r in records if not r.get("x_id") and _username(r)}
    proven = Link.objects.filter(x_username__in=wanted - known.keys(), publisher__isnull=True)
    proven = proven.filter(
        Q(evidence=Evidence.X_OAUTH) | Q(evidence=Evidence.ROSTER, asserted_by=asserted_by)
    )
    for name, x_id in proven.values_list("x_username", "x_account_id").distinct():
        known[name].add(x_id)
    return known


def _x_id(record: dict[str, str], known: dict[str, set[int]]) -> int | None:
    """The row's X id; None when only a username is given and no trusted source knows it."""
    if record.get("x_id"):
        return parse_x_id(record["x_id"])
    username = _username(record)
    if not username:
        raise InvalidLink("no X account (x_id or x_username).")
    found = known.get(username, set())
    return next(iter(found)) if len(found) == 1 else None
