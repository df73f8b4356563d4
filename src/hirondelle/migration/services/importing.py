"""Importing an X archive as a migration: the person's account, graph, lists and posts.

Streams the archive reader's iterators in batches, so a migration with two
million followers needs a few megabytes of memory. The whole import is one
transaction: a failure leaves the previous import as it was.

Re-importing (the same archive, or a newer one of the same X account) bumps
the migration's `generation`. Graph edges the new archive no longer lists are
marked gone (an unfollow since the last archive) instead of silently kept or
deleted; returning ones are brought back; nothing is duplicated. Edges are
compared as sets in a staging table, so an unchanged graph is not rewritten;
posts and lists are stamped with the generation and the unstamped marked gone.

The database-specific bulk paths sit in `write_edges` and `_Staging`: COPY on
PostgreSQL, large `executemany` batches on SQLite.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from hirondelle.archive import NameIndex, SeenName, open_archive
from hirondelle.archive.records import EdgeKind
from hirondelle.identity.models import User, XAccount, x_id_to_db
from hirondelle.migration.models import (
    ArchiveName,
    Direction,
    Edge,
    ImportedList,
    ImportedPost,
    Migration,
)

__all__ = [
    "ImportRefused",
    "ImportResult",
    "import_archive",
    "import_edges",
    "store_names",
    "write_edges",
]

Progress = Callable[[str, int], None]
EDGE_BATCH = 20_000
POST_BATCH = 500


class ImportRefused(Exception):
    """An archive that must not replace what was imported (older, another owner…)."""


@dataclass
class ImportResult:
    migration: Migration
    created: bool
    #: Rows the archive lists now, per kind: following, followers, blocks, mutes, posts, lists.
    counts: dict[str, int] = field(default_factory=dict)
    #: Rows the previous import had and this archive no longer lists.
    gone: dict[str, int] = field(default_factory=dict)
    #: Ids that were not X ids (corrupted entries), skipped.
    skipped: int = 0


def _batched(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _x_ids(raw: Iterable[str], skipped: list[int]) -> Iterator[int]:
    for value in raw:
        try:
            yield x_id_to_db(value)
        except (TypeError, ValueError):
            skipped[0] += 1


# --------------------------------------------------------------------------- bulk edges


def write_edges(
    migration_id: int, direction: int, x_ids: list[int], generation: int, *, fresh: bool
) -> None:
    """Insert or refresh one batch of edges: COPY on PostgreSQL, executemany on SQLite.

    `fresh` says the migration had no edges of this direction before, so a
    plain COPY is safe on PostgreSQL; a duplicate id (an archive listing
    someone twice) sends that batch through the upsert path instead.
    """
    if not x_ids:
        return
    if connection.vendor == "postgresql":
        if fresh:
            try:
                with transaction.atomic():
                    _pg_copy(migration_id, direction, x_ids, generation)
                return
            except (IntegrityError, connection.Database.IntegrityError):
                pass  # a duplicate id: this batch takes the upsert path
        _pg_upsert(migration_id, direction, x_ids, generation)
    else:
        _sql_upsert(migration_id, direction, x_ids, generation)


_TABLE = Edge._meta.db_table
_COLUMNS = "migration_id, direction, x_account_id, generation"
_UPSERT = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}, gone_at) VALUES (%s, %s, %s, %s, NULL) "
    "ON CONFLICT (migration_id, direction, x_account_id) "
    "DO UPDATE SET generation = excluded.generation, gone_at = NULL"
)


def _sql_upsert(migration_id: int, direction: int, x_ids: list[int], generation: int) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(_UPSERT, [(migration_id, direction, x, generation) for x in x_ids])


def _pg_copy(migration_id: int, direction: int, x_ids: list[int], generation: int) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django does not wrap COPY
        with raw.copy(f"COPY {_TABLE} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int2", "int8", "int4"])
            for x in x_ids:
                copy.write_row((migration_id, direction, x, generation))


def _pg_upsert(migration_id: int, direction: int, x_ids: list[int], generation: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS hirondelle_edge_in (x_account_id int8) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE hirondelle_edge_in")
        with cursor.cursor.copy("COPY hirondelle_edge_in FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8"])
            for x in x_ids:
                copy.write_row((x,))
        cursor.execute(
            f"INSERT INTO {_TABLE} ({_COLUMNS}, gone_at) "
            "SELECT DISTINCT %s::int8, %s::int2, x_account_id, %s::int4, NULL::timestamptz "
            "FROM hirondelle_edge_in "
            "ON CONFLICT (migration_id, direction, x_account_id) "
            "DO UPDATE SET generation = excluded.generation, gone_at = NULL",
            [migration_id, direction, generation],
        )


_STAGE = "hirondelle_edge_in"


class _Staging:
    """The X ids an archive lists for one direction, in a temporary table.

    A re-import compares this set with the stored edges in three statements
    (gone, back, new) instead of rewriting every row: re-importing an
    unchanged archive of two million followers writes nothing to the edges.
    """

    def __init__(self) -> None:
        self.pg = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
            if self.pg:
                cursor.execute(f"CREATE TEMP TABLE {_STAGE} (x_account_id int8 NOT NULL)")
            else:  # the rowid itself: an index for free, duplicates ignored
                cursor.execute(f"CREATE TEMP TABLE {_STAGE} (x_account_id INTEGER PRIMARY KEY)")

    def add(self, x_ids: list[int]) -> None:
        with connection.cursor() as cursor:
            if self.pg:
                with cursor.cursor.copy(f"COPY {_STAGE} FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["int8"])
                    for x in x_ids:
                        copy.write_row((x,))
            else:
                cursor.executemany(
                    f"INSERT OR IGNORE INTO {_STAGE} VALUES (%s)", [(x,) for x in x_ids]
                )

    def merge(self, migration_id: int, direction: int, generation: int) -> int:
        """Apply the difference; returns how many edges are now gone."""
        key = [migration_id, direction]
        with connection.cursor() as cursor:
            if self.pg:
                # Indexed and analysed (temp tables never are automatically), so that
                # no plan scans it once per edge, whatever the edges' statistics say.
                cursor.execute(f"CREATE INDEX ON {_STAGE} (x_account_id)")
                cursor.execute(f"ANALYZE {_STAGE}")
            cursor.execute(
                f"UPDATE {_TABLE} SET gone_at = %s WHERE migration_id = %s AND direction = %s "
                f"AND gone_at IS NULL AND NOT EXISTS (SELECT 1 FROM {_STAGE} i "
                f"WHERE i.x_account_id = {_TABLE}.x_account_id)",
                [timezone.now(), *key],
            )
            gone = cursor.rowcount
            cursor.execute(
                f"UPDATE {_TABLE} SET gone_at = NULL, generation = %s "
                "WHERE migration_id = %s AND direction = %s AND gone_at IS NOT NULL "
                f"AND x_account_id IN (SELECT x_account_id FROM {_STAGE})",
                [generation, *key],
            )
            # New edges: each id probes the primary key; nothing is written for the
            # ones already there ("WHERE true" lets SQLite parse the ON CONFLICT).
            cursor.execute(
                f"INSERT INTO {_TABLE} ({_COLUMNS}) "
                f"SELECT %s, %s, x_account_id, %s FROM {_STAGE} WHERE true "
                "ON CONFLICT (migration_id, direction, x_account_id) DO NOTHING",
                [*key, generation],
            )
            cursor.execute(f"DROP TABLE {_STAGE}")
        return gone


def import_edges(
    migration: Migration,
    direction: Direction,
    x_ids: Iterable[int],
    generation: int,
    *,
    batch_size: int = EDGE_BATCH,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Make one direction of the graph exactly `x_ids`; returns (ids read, edges now gone).

    Call inside a transaction. A first import inserts straight into the
    edges (COPY on PostgreSQL); later ones stage the ids and apply the
    difference: new edges added, missing ones marked gone, returning ones
    brought back. `generation` is stamped on the rows added or brought back.
    """
    fresh = not Edge.objects.filter(migration=migration, direction=direction).exists()
    staging = None if fresh else _Staging()
    read = 0
    for batch in _batched(x_ids, batch_size):
        if staging:
            staging.add(batch)
        else:
            write_edges(migration.pk, direction, batch, generation, fresh=True)
        read += len(batch)
        if progress:
            progress(direction.key, read)
    gone = staging.merge(migration.pk, direction, generation) if staging else 0
    return read, gone


def _mark_gone(migration: Migration, generation: int) -> dict[str, int]:
    """Posts and lists this import did not list are marked gone; counts per kind."""
    now = timezone.now()
    return {
        key: model.objects.filter(
            migration=migration, generation__lt=generation, gone_at=None
        ).update(gone_at=now)
        for key, model in (("posts", ImportedPost), ("lists", ImportedList))
    }


# --------------------------------------------------------------------------- the import

_KINDS = (EdgeKind.FOLLOWING, EdgeKind.FOLLOWER, EdgeKind.BLOCK, EdgeKind.MUTE)
_POST_FIELDS = [
    f.name
    for f in ImportedPost._meta.concrete_fields
    if f.name not in ("id", "migration", "post_id")
]


def import_archive(
    path: Path | str,
    *,
    owner: User,
    progress: Progress | None = None,
    allow_older: bool = False,
    batch_size: int = EDGE_BATCH,
) -> ImportResult:
    """Read an archive into the database as `owner`'s migration of its X account.

    Raises `hirondelle.archive.ArchiveError` for an unreadable archive and
    `ImportRefused` for an archive older than the one already imported
    (unless `allow_older`).
    """
    path = Path(path)
    with open_archive(path) as archive:
        account = archive.account()
        try:
            x_id = x_id_to_db(account.id)
        except ValueError:
            raise ImportRefused(f"{path}: the account id {account.id!r} is not an X id.") from None
        generated_at = archive.generated_at
        profile = dataclasses.asdict(archive.profile())
        with transaction.atomic():
            # The directory's row only: what the archive says the account is
            # called stays on the migration (an archive can be forged).
            XAccount.objects.get_or_create(id=x_id)
            migration, created = Migration.objects.select_for_update().get_or_create(
                owner=owner, x_account_id=x_id
            )
            if (
                not allow_older
                and generated_at
                and migration.archive_generated_at
                and generated_at < migration.archive_generated_at
            ):
                raise ImportRefused(
                    f"{path} was made on {generated_at:%Y-%m-%d}, before the archive already "
                    f"imported ({migration.archive_generated_at:%Y-%m-%d}); importing it would "
                    "bring back people you have unfollowed since. "
                    "Pass --allow-older to do it anyway."
                )
            generation = migration.generation + 1
            skipped = [0]
            gone: dict[str, int] = {}
            for kind in _KINDS:
                direction = Direction.from_kind(kind)
                _, gone[direction.key] = import_edges(
                    migration,
                    direction,
                    _x_ids(archive.edges(kind), skipped),
                    generation,
                    batch_size=batch_size,
                    progress=progress,
                )
            _import_lists(migration, archive.lists(), generation)
            names = NameIndex(account.id)
            _import_posts(migration, names.watch(archive.posts()), generation, progress)
            gone |= _mark_gone(migration, generation)
            counts = _counts(migration)
            counts["named"] = store_names(migration, names.names())
            migration.generation = generation
            migration.x_username = account.username[:50]
            migration.x_display_name = account.display_name[:100]
            migration.profile = profile
            migration.archive_path = str(path.resolve())
            migration.archive_generated_at = generated_at or migration.archive_generated_at
            migration.imported_at = timezone.now()
            migration.counts = counts
            migration.save()
    return ImportResult(migration, created, counts, gone, skipped[0])


NAME_BATCH = 2_000


def store_names(migration: Migration, names: dict[str, SeenName]) -> dict[str, int]:
    """Keep the names of the X ids in the migration's present graph; counts per direction.

    Replaces what an earlier import stored: the newest archive's names are the
    most recent. Ids outside the graph (someone mentioned but neither followed,
    following, blocked nor muted) are not kept.
    """
    ArchiveName.objects.filter(migration=migration).delete()
    named = {d.key: 0 for d in Direction}
    by_db: dict[int, SeenName] = {}
    for x_id, seen in names.items():
        try:
            by_db[x_id_to_db(x_id)] = seen
        except ValueError:
            continue
    ids = list(by_db)
    for start in range(0, len(ids), NAME_BATCH):
        chunk = ids[start : start + NAME_BATCH]
        in_graph: set[int] = set()
        for x, direction in Edge.objects.filter(
            migration=migration, gone_at=None, x_account_id__in=chunk
        ).values_list("x_account_id", "direction"):
            in_graph.add(x)
            named[Direction(direction).key] += 1
        ArchiveName.objects.bulk_create(
            [
                ArchiveName(
                    migration=migration,
                    x_account_id=x,
                    username=by_db[x].username[:20],
                    display_name=by_db[x].display_name[:200],
                    seen_at=by_db[x].seen_at,
                    post_id=by_db[x].post_id[:32],
                    source=str(by_db[x].source),
                )
                for x in chunk
                if x in in_graph
            ],
            batch_size=500,
        )
    return named


def _import_lists(migration: Migration, lists: Iterable, generation: int) -> None:
    rows = {
        (str(ref.kind), ref.url): ImportedList(
            migration=migration, kind=str(ref.kind), url=ref.url[:500], generation=generation
        )
        for ref in lists
    }
    ImportedList.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["migration", "kind", "url"],
        update_fields=["generation", "gone_at"],
    )


def _import_posts(
    migration: Migration, posts: Iterable, generation: int, progress: Progress | None
) -> None:
    done = 0
    for batch in _batched(posts, POST_BATCH):
        rows = {
            post.id: ImportedPost(
                migration=migration,
                generation=generation,
                gone_at=None,
                **ImportedPost.fields_from_record(post),
            )
            for post in batch
        }
        ImportedPost.objects.bulk_create(
            rows.values(),
            update_conflicts=True,
            unique_fields=["migration", "post_id"],
            update_fields=_POST_FIELDS,
        )
        done += len(batch)
        if progress:
            progress("posts", done)


def _counts(migration: Migration) -> dict[str, int]:
    counts = {d.key: 0 for d in Direction}
    for direction, n in (
        Edge.objects.filter(migration=migration, gone_at=None)
        .values_list("direction")
        .annotate(n=Count("*"))
        .order_by()
    ):
        counts[Direction(direction).key] = n
    counts["posts"] = ImportedPost.objects.filter(migration=migration, gone_at=None).count()
    counts["lists"] = ImportedList.objects.filter(migration=migration, gone_at=None).count()
    return counts
