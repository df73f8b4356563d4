"""An institution's roster: who its officials are, from a CSV file.

Columns (case-insensitive, any order): `name`, `x_id`, `x_username`, `email`
(work address: the PDS mails the claim code there), `group` (party,
department), and optionally `bluesky` (an existing handle, adopted),
`fediverse` (an existing user@host, adopted) and `recovery_key` (a did:key
the official keeps, first in their PLC rotation keys).

All or nothing: one bad row refuses the file, every problem listed by line.
Loading again updates the same people (keyed by X id), never duplicates them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from hirondelle.identity.models import x_id_to_db
from hirondelle.institutions.models import Institution, Official
from hirondelle.institutions.services import audit
from hirondelle.institutions.services.errors import InstitutionError

__all__ = ["RosterCheck", "RosterRow", "check_roster", "load_roster"]

_ALIASES = {
    "name": "name",
    "nom": "name",
    "display_name": "name",
    "x_id": "x_id",
    "id": "x_id",
    "x_username": "x_username",
    "x": "x_username",
    "twitter": "x_username",
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "group": "group",
    "groupe": "group",
    "party": "group",
    "department": "group",
    "bluesky": "bluesky",
    "bluesky_handle": "bluesky",
    "fediverse": "fediverse",
    "mastodon": "fediverse",
    "recovery_key": "recovery_key",
}
_REQUIRED = ("name", "x_id", "email")
_HANDLE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
_FEDI = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_MAX_ERRORS = 30


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    x_id: int
    x_username: str
    email: str
    group: str
    bluesky: str = ""
    fediverse: str = ""
    recovery_key: str = ""


@dataclass
class RosterCheck:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def groups(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.group] = counts.get(row.group, 0) + 1
        return counts


def check_roster(text: str) -> RosterCheck:
    """Read and check every row; nothing is written."""
    check = RosterCheck()
    text = text.lstrip("\ufeff")
    if not text.strip():
        check.errors.append("The roster is empty.")
        return check
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = {n: _ALIASES.get((n or "").strip().lower()) for n in reader.fieldnames or []}
    missing = [c for c in _REQUIRED if c not in columns.values()]
    if missing:
        check.errors.append(
            f"The header must name {', '.join(missing)}; found "
            f"{', '.join(reader.fieldnames or []) or 'nothing'}."
        )
        return check
    seen_ids: dict[int, int] = {}
    seen_emails: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        record = {columns[k]: (v or "").strip() for k, v in raw.items() if k and columns.get(k)}
        problems = []
        name = record.get("name", "")
        if not name:
            problems.append("no name")
        x_id = 0
        try:
            x_id = x_id_to_db(record.get("x_id", "")) if record.get("x_id", "").isdigit() else 0
        except ValueError:
            x_id = 0
        if not x_id:
            problems.append(f"x_id {record.get('x_id', '')!r} is not an X id (digits only)")
        username = record.get("x_username", "").removeprefix("@")
        if username and not _USERNAME.match(username):
            problems.append(f"x_username {username!r} is not an X username")
        email = record.get("email", "").lower()
        try:
            validate_email(email)
        except ValidationError:
            problems.append(f"e-mail {email!r} is not an address")
        bluesky = record.get("bluesky", "").removeprefix("@").lower()
        if bluesky and not _HANDLE.match(bluesky):
            problems.append(f"bluesky {bluesky!r} is not a handle (like name.bsky.social)")
        fediverse = record.get("fediverse", "").removeprefix("@").lower()
        if fediverse and not _FEDI.match(fediverse):
            problems.append(f"fediverse {fediverse!r} is not an address (user@host)")
        recovery = record.get("recovery_key", "")
        if recovery and not recovery.startswith("did:key:"):
            problems.append("recovery_key must be a did:key:…")
        if x_id and x_id in seen_ids:
            problems.append(f"the same x_id as line {seen_ids[x_id]}")
        if email and email in seen_emails:
            problems.append(f"the same e-mail as line {seen_emails[email]}")
        if problems:
            check.errors.append(f"line {line}: " + "; ".join(problems))
            continue
        seen_ids[x_id] = line
        seen_emails[email] = line
        check.rows.append(
            RosterRow(
                line,
                name,
                x_id,
                username,
                email,
                record.get("group", ""),
                bluesky,
                fediverse,
                recovery,
            )
        )
    if not check.rows and not check.errors:
        check.errors.append("The roster has a header but no rows.")
    return check


def load_roster(institution: Institution, text: str, *, user=None) -> tuple[int, int]:
    """Create or update the officials of a checked roster; returns (created, updated)."""
    check = check_roster(text)
    if not check.ok:
        more = len(check.errors) - _MAX_ERRORS
        raise InstitutionError(
            "The roster was not loaded; fix these rows:\n  "
            + "\n  ".join(check.errors[:_MAX_ERRORS])
            + (f"\n  … and {more} more" if more > 0 else "")
        )
    created = updated = 0
    with transaction.atomic():
        existing = {o.x_id: o for o in institution.officials.all()}
        for row in check.rows:
            values = {
                "name": row.name,
                "x_username": row.x_username,
                "email": row.email,
                "group": row.group,
                "existing_bluesky": row.bluesky,
                "existing_fediverse": row.fediverse,
                "recovery_key": row.recovery_key,
            }
            official = existing.get(row.x_id)
            if official is None:
                Official.objects.create(institution=institution, x_id=row.x_id, **values)
                created += 1
            elif any(getattr(official, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(official, k, v)
                official.save()
                updated += 1
        audit.record(
            institution,
            f"roster loaded: {created} new, {updated} updated, {len(check.rows)} rows",
            user=user,
        )
    return created, updated
