"""CSV files for Mastodon's own importer (Settings → Import and export → Import).

The importer is not rate limited like the API (400 follows a day), so a
person with thousands of follows to restore can upload these files and be
done in minutes. Formats are those Mastodon's exporter writes; each file
holds at most 20,000 rows and 20 MB, so larger sets are split into numbered
files. Mastodon's overall follow cap (7,500, or 1.1 × followers above that)
still applies to imports.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from hirondelle.networks.budget import Budget
from hirondelle.networks.mastodon.adapter import parse_handle

__all__ = [
    "HEADERS",
    "MAX_BYTES",
    "MAX_ROWS",
    "FollowingRow",
    "ImportKind",
    "ImporterAdvice",
    "MuteRow",
    "api_follow_capacity",
    "importer_advice",
    "importer_url",
    "write_import_files",
]

MAX_ROWS = 20_000
MAX_BYTES = 20 * 1024 * 1024


class ImportKind(StrEnum):
    FOLLOWING = "following"
    BLOCKS = "blocks"
    MUTES = "mutes"
    LISTS = "lists"


HEADERS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.FOLLOWING: ("Account address", "Show boosts", "Notify on new posts", "Languages"),
    ImportKind.BLOCKS: ("Account address",),
    ImportKind.MUTES: ("Account address", "Hide notifications"),
    ImportKind.LISTS: ("List name", "Account address"),
}


@dataclass(frozen=True, slots=True)
class FollowingRow:
    handle: str
    show_boosts: bool = True
    notify: bool = False
    languages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MuteRow:
    handle: str
    hide_notifications: bool = True


Row = str | FollowingRow | MuteRow | tuple[str, str]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _address(handle: str) -> str:
    user, host = parse_handle(handle)
    return f"{user}@{host}"


def _cells(kind: ImportKind, row: Row) -> tuple[str, ...]:
    if kind is ImportKind.FOLLOWING:
        r = row if isinstance(row, FollowingRow) else FollowingRow(_need_str(kind, row))
        return (_address(r.handle), _bool(r.show_boosts), _bool(r.notify), ", ".join(r.languages))
    if kind is ImportKind.BLOCKS:
        return (_address(_need_str(kind, row)),)
    if kind is ImportKind.MUTES:
        m = row if isinstance(row, MuteRow) else MuteRow(_need_str(kind, row))
        return (_address(m.handle), _bool(m.hide_notifications))
    if not (isinstance(row, tuple) and len(row) == 2 and row[0].strip()):
        raise ValueError(f"A lists row is (list name, user@server), got {row!r}")
    return (row[0].strip(), _address(row[1]))


def _need_str(kind: ImportKind, row: Row) -> str:
    if not isinstance(row, str):
        raise ValueError(f"A {kind.value} row is an address like user@server, got {row!r}")
    return row


def _line(cells: tuple[str, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue().encode("utf-8")


def write_import_files(
    kind: ImportKind | str,
    rows: Iterable[Row],
    directory: Path | str,
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> list[Path]:
    """Write `<kind>.csv`, or `<kind>-1.csv`, `<kind>-2.csv`… when one file is not enough.

    Duplicate rows are written once. Returns the files written, in order.
    """
    kind = ImportKind(kind)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    header = _line(HEADERS[kind])
    if max_rows < 1 or max_bytes <= len(header):
        raise ValueError("max_rows must be positive and max_bytes larger than the header line")
    chunks: list[list[bytes]] = [[]]
    size = len(header)
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        cells = _cells(kind, row)
        key = (cells[0].casefold(), *cells[1:]) if kind is not ImportKind.LISTS else cells
        if key in seen:
            continue
        seen.add(key)
        line = _line(cells)
        if len(header) + len(line) > max_bytes:
            raise ValueError(f"One row alone is larger than {max_bytes} bytes: {cells[0]!r}")
        if len(chunks[-1]) >= max_rows or size + len(line) > max_bytes:
            chunks.append([])
            size = len(header)
        chunks[-1].append(line)
        size += len(line)
    if not chunks[-1] and len(chunks) > 1:
        chunks.pop()
    names = (
        [f"{kind.value}.csv"]
        if len(chunks) == 1
        else [f"{kind.value}-{n}.csv" for n in range(1, len(chunks) + 1)]
    )
    paths = []
    for name, lines in zip(names, chunks, strict=True):
        path = directory / name
        path.write_bytes(header + b"".join(lines))
        paths.append(path)
    return paths


def importer_url(server: str) -> str:
    """Where the person uploads the files on their own server."""
    host = urlsplit(server if "://" in server else f"https://{server}").hostname
    if not host:
        raise ValueError(f"{server!r} is not a server address")
    return f"https://{host}/settings/imports"


def api_follow_capacity(budget: Budget, horizon: float = 24 * 3600) -> int:
    """How many follows the API allows in the next `horizon` seconds, given the budget."""
    pool = budget.pools["follows"]
    now = budget.clock()
    remaining = pool.remaining(now)
    if pool.reset_at == 0.0:  # no window open: one opens at the first follow
        return int(pool.limit * math.ceil(horizon / pool.period))
    reset_in = pool.reset_at - now
    if reset_in >= horizon:
        return int(remaining)
    return int(remaining + pool.limit * math.ceil((horizon - reset_in) / pool.period))


@dataclass(frozen=True, slots=True)
class ImporterAdvice:
    plan_size: int
    api_capacity: int  # follows the API allows within the horizon
    use_importer: bool
    upload_url: str
    days_by_api: int  # whole days the API alone would take

    def message(self) -> str:
        if not self.use_importer:
            return f"All {self.plan_size} follows fit in the API's budget; no import needed."
        return (
            f"{self.plan_size} follows would take about {self.days_by_api} days through the API "
            f"(it allows {self.api_capacity} in the next 24 hours). Upload the CSV files at "
            f"{self.upload_url} (type: Following, mode: Merge) to do it at once."
        )


def importer_advice(
    plan_size: int, budget: Budget, server: str, horizon: float = 24 * 3600
) -> ImporterAdvice:
    """Should these follows go through the importer? Yes when the API cannot finish in time."""
    capacity = api_follow_capacity(budget, horizon)
    per_day = budget.pools["follows"].limit * (24 * 3600 / budget.pools["follows"].period)
    return ImporterAdvice(
        plan_size=plan_size,
        api_capacity=capacity,
        use_importer=plan_size > capacity,
        upload_url=importer_url(server),
        days_by_api=max(1, math.ceil(plan_size / per_day)) if plan_size else 0,
    )
