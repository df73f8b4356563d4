"""Benchmark: importing a big graph, matching it, and the reverse lookup, on SQLite and PostgreSQL.

Three measurements, each printed next to a baseline from the same run:

1. Import of a migration with 2,000,000 followers (rows/s):
   - `import_archive` end to end (reading the zip included), fresh and re-import;
   - its write path alone (`import_edges` from a list of ids);
   - baseline: a plain `executemany` INSERT (SQLite) / plain `COPY` (PostgreSQL)
     of the same rows into the same empty table, one transaction.
   Target: the import within 2x of the baseline.
2. Matching 1,000,000 graph edges against a 10,000,000-link directory
   (the directory is generated with one INSERT … SELECT per table), against
   one plain SQL join fetching the same rows. Target: `match_migration`
   within 2x of the join, `count_matches` no slower than it.
3. Reverse lookup: which migrations contain an X account followed by
   1,000,000 migrations (`migrations_containing`). Target: under a second on PostgreSQL.
4. Posts (`--parts posts`): writing 200,000 imported posts, fresh and again,
   against a plain COPY / executemany of the same rows (and the ORM's
   bulk_create, the previous way). Target: within 2x of the plain insert.
5. Snapshot (`--parts snapshot`): merging a signed snapshot of 10,000,000
   links (`--snapshot-links N` for less) into an empty directory, against
   hashing it once and bulk-inserting the same rows into the four tables.
   Target: within 2x.

Every target is printed with "goal met" or "GOAL MISSED".

Each database runs in its own process (Django is configured once per process).
PostgreSQL is started on 127.0.0.1 by tests/support/postgres.py.

    .venv/bin/python bench/directory_bench.py                 # full size, both databases
    .venv/bin/python bench/directory_bench.py --scale 0.01    # quick check
    .venv/bin/python bench/directory_bench.py --db postgres
    .venv/bin/python bench/directory_bench.py --parts snapshot --snapshot-links 100000
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

#: generated inputs are cached here; BENCH_OUT moves them (the smoke tests use a temp dir)
OUT = Path(os.environ.get("BENCH_OUT") or ROOT / "bench" / "out")
FOLLOWERS = 2_000_000
DIRECTORY = 10_000_000
MATCH_EDGES = 1_000_000
REVERSE_MIGRATIONS = 1_000_000
OWNER_X = 9_000_000_000_000_000_000 // 10  # far from the generated ids


_FOLLOWER = (
    '  {{\n    "follower" : {{\n      "accountId" : "{0}",\n'
    '      "userLink" : "https://twitter.com/intent/user?user_id={0}"\n    }}\n  }}'
)


def _archive(n: int) -> Path:
    """A 2024-era zip with `n` followers and nothing much else (cached)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"directory-bench-{n}f.zip"
    if path.exists():
        return path
    account = {
        "account": {
            "accountId": str(OWNER_X),
            "username": "bench",
            "accountDisplayName": "Bench",
            "createdAt": "2012-03-04T05:06:07.000Z",
        }
    }
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("data/account.js", "window.YTD.account.part0 = " + json.dumps([account]))
        z.writestr("data/tweets.js", "window.YTD.tweets.part0 = []")
        with z.open("data/follower.js", "w", force_zip64=True) as f:
            f.write(b"window.YTD.follower.part0 = [\n")
            for i in range(n):
                x = 10**15 + i * 7919
                sep = b",\n" if i else b""
                f.write(sep + _FOLLOWER.format(x).encode())
            f.write(b"\n]")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- child


def _setup(db: str) -> None:
    data_dir = tempfile.mkdtemp(prefix="hirondelle-bench-")
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    os.environ["HIRONDELLE_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "hirondelle.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _rate(rows: int, seconds: float) -> str:
    return f"{rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s"


def _baseline_insert(migration_id: int, ids: list[int]) -> float:
    from django.db import connection, transaction

    from hirondelle.migration.models import Edge

    table = Edge._meta.db_table
    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY {table} (migration_id, direction, x_account_id, generation) FROM STDIN"
            ) as copy:
                for x in ids:
                    copy.write_row((migration_id, 2, x, 1))
        else:
            cursor.executemany(
                f"INSERT INTO {table} (migration_id, direction, x_account_id, generation) "
                "VALUES (%s, %s, %s, %s)",
                [(migration_id, 2, x, 1) for x in ids],
            )
    return time.perf_counter() - t


def _reset_edges() -> None:
    from django.db import connection

    from hirondelle.migration.models import Edge, Migration

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Edge._meta.db_table}")
    Migration.objects.all().delete()
    _vacuum()
    if not _pg():  # every measurement starts from a compact file and an empty WAL
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def bench_import(n: int) -> dict:
    from django.db import transaction

    from hirondelle.archive import open_archive
    from hirondelle.identity.models import User, XAccount
    from hirondelle.migration.models import Direction, Migration
    from hirondelle.migration.services.importing import import_archive, import_edges

    archive = _archive(n)
    owner = User.objects.create(username="bench")
    ids = [10**15 + i * 7919 for i in range(n)]
    results = {}

    XAccount.objects.get_or_create(id=OWNER_X + 1)
    baseline_m = Migration.objects.create(owner=owner, x_account_id=OWNER_X + 1)
    results["baseline"] = _baseline_insert(baseline_m.pk, ids)
    _reset_edges()

    t = time.perf_counter()
    with open_archive(archive) as a:
        read = sum(1 for _ in a.followers())
    results["read_only"] = time.perf_counter() - t
    assert read == n, read

    t = time.perf_counter()
    result = import_archive(archive, owner=owner)
    results["import"] = time.perf_counter() - t
    assert result.counts["followers"] == n, result.counts

    t = time.perf_counter()
    again = import_archive(archive, owner=owner)
    results["reimport"] = time.perf_counter() - t
    assert again.counts["followers"] == n
    assert again.gone["followers"] == 0
    _reset_edges()

    XAccount.objects.get_or_create(id=OWNER_X + 2)
    m = Migration.objects.create(owner=owner, x_account_id=OWNER_X + 2)
    t = time.perf_counter()
    with transaction.atomic():
        import_edges(m, Direction.FOLLOWERS, iter(ids), 1)
    results["write_path"] = time.perf_counter() - t
    _reset_edges()

    base = results["baseline"]
    print(f"  baseline (plain {'COPY' if _pg() else 'executemany'}): {_rate(n, base)}")
    print(f"  reading the archive only:        {_rate(n, results['read_only'])}")
    for key, label in (
        ("import", "import_archive, fresh:          "),
        ("reimport", "import_archive, re-import:      "),
        ("write_path", "import_edges (write path only): "),
    ):
        print(f"  {label} {_rate(n, results[key])}  ({results[key] / base:.2f}x baseline)")
    for key, label in (("import", "fresh import"), ("reimport", "re-import")):
        _goal(
            f"{label} within 2x the plain {'COPY' if _pg() else 'executemany'}",
            results[key] / base <= 2.0,
        )
    return results


def _pg() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _series(n: int, start: int = 1) -> tuple[str, list]:
    """A row source 1..n as SQL (generate_series, or a recursive CTE on SQLite)."""
    if _pg():
        return f"generate_series({start}, {start + n - 1}) AS g(x)", []
    return "g", [start, start + n - 1]


def _insert_series(table_cols: str, select: str, n: int, params: list, start: int = 1) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if _pg():
            # Generated rows are consistent by construction: skip the per-row
            # deferred foreign-key triggers (bench data only; needs a superuser).
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                f"INSERT INTO {table_cols} SELECT {select} "
                f"FROM generate_series({start}, {start + n - 1}) AS g(x)",
                params,
            )
        else:
            cursor.execute(
                f"WITH RECURSIVE g(x) AS "
                f"(SELECT {start} UNION ALL SELECT x + 1 FROM g WHERE x < {start + n - 1}) "
                f"INSERT INTO {table_cols} SELECT {select} FROM g",
                params,
            )


def build_directory(n: int) -> float:
    """n X accounts, n network accounts, n links (evidence cycling), n consents (90% findable)."""
    from django.db import connection

    from hirondelle.identity.models import Evidence

    _S = {e.value: e.strength for e in Evidence}
    now = datetime(2026, 1, 1, tzinfo=UTC)
    t = time.perf_counter()
    _insert_series(
        "identity_xaccount (id, username, display_name, updated_at)", "x, '', '', %s", n, [now]
    )
    _insert_series(
        "identity_networkaccount (id, network, handle, uri, updated_at)",
        "x, CASE WHEN x %% 2 = 0 THEN 'mastodon' ELSE 'bluesky' END, "
        "CASE WHEN x %% 2 = 0 THEN 'u' || x || '@m.example' ELSE 'u' || x || '.bsky.example' END, "
        "CASE WHEN x %% 2 = 0 THEN 'https://m.example/users/u' || x ELSE 'did:plc:u' || x END, %s",
        n,
        [now],
    )
    _insert_series(
        "identity_link (id, x_account_id, network, network_account_id, evidence, strength, state,"
        " asserted_by, asserted_at, updated_at, x_username)",
        "x, x, CASE WHEN x %% 2 = 0 THEN 'mastodon' ELSE 'bluesky' END, x, "
        "CASE x %% 5 WHEN 0 THEN 'x_oauth' WHEN 1 THEN 'roster' WHEN 2 THEN 'domain' "
        "WHEN 3 THEN 'bridge' ELSE 'self' END, "
        f"CASE x %% 5 WHEN 0 THEN {_S['x_oauth']} WHEN 1 THEN {_S['roster']} "
        f"WHEN 2 THEN {_S['domain']} WHEN 3 THEN {_S['bridge']} ELSE {_S['self']} END, "
        "'current', 'bench', %s, %s, ''",
        n,
        [now, now],
    )
    _insert_series(
        "identity_consent (x_account_id, findable, auto_followable, auto_follow_arrivals, source,"
        " updated_at)",
        "x, x %% 10 <> 0, x %% 3 <> 0, x %% 4 = 0, 'snapshot', %s",
        n,
        [now],
    )
    if _pg():
        with connection.cursor() as cursor:
            for table in ("identity_networkaccount", "identity_link"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
    _vacuum()
    return time.perf_counter() - t


def bench_match(directory: int, edges: int) -> dict:
    from django.db import transaction

    from hirondelle.identity.models import User, XAccount
    from hirondelle.migration.models import Direction, Migration
    from hirondelle.migration.services.importing import import_edges
    from hirondelle.migration.services.matching import count_matches, match_migration

    built = build_directory(directory)
    print(f"  directory of {directory:,} links generated in {built:.1f} s")
    owner, _ = User.objects.get_or_create(username="matcher")
    XAccount.objects.get_or_create(id=OWNER_X)
    m = Migration.objects.create(owner=owner, x_account_id=OWNER_X)
    # Spread the graph over 3.3x the directory's id range: about 30% of it is found.
    stride = max(1, int(directory * 3.3 / edges))
    with transaction.atomic():
        import_edges(m, Direction.FOLLOWING, (1 + i * stride for i in range(edges)), 1)
    _vacuum()
    join = _match_join_baseline(m)
    t = time.perf_counter()
    counts = count_matches(m)
    counted = time.perf_counter() - t
    t = time.perf_counter()
    result = match_migration(m)
    matched = time.perf_counter() - t
    found = sum(c["auto"] + c["review"] for c in counts["following"].values())
    assert result.counts() == counts
    print(
        f"  matching {edges:,} edges: {found:,} found "
        f"({sum(c['auto'] for c in counts['following'].values()):,} auto); "
        f"count_matches {counted:.2f} s, match_migration (rows kept) {matched:.2f} s"
    )
    print(
        f"  baseline: one SQL join fetching the same {join[1]:,} rows: {join[0]:.2f} s; "
        f"count_matches {counted / join[0]:.2f}x, match_migration {matched / join[0]:.2f}x"
    )
    assert join[1] == found, (join[1], found)
    _goal("match_migration within 2x the plain join", matched / join[0] <= 2.0)
    _goal("count_matches at most the plain join", counted <= join[0])
    return {
        "count_matches": counted,
        "match_migration": matched,
        "join": join[0],
        "found": found,
    }


def _match_join_baseline(m) -> tuple[float, int]:
    """One SQL join of the graph's edges (every direction) with consented, usable links."""
    from django.db import connection

    sql = (
        "SELECT e.direction, e.x_account_id, l.network, a.handle, a.uri, l.id, l.evidence, "
        "l.strength, l.state, c.auto_followable, c.auto_follow_arrivals "
        "FROM migration_edge e "
        "JOIN identity_link l ON l.x_account_id = e.x_account_id "
        "JOIN identity_consent c ON c.x_account_id = e.x_account_id "
        "JOIN identity_networkaccount a ON a.id = l.network_account_id "
        "WHERE e.migration_id = %s AND e.gone_at IS NULL AND e.x_account_id <> %s "
        "AND l.state IN ('current', 'contested') AND c.findable"
    )
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, [m.pk, m.x_account_id])
        rows = cursor.fetchall()
    return time.perf_counter() - t, len(rows)


def bench_reverse(migrations: int) -> dict:
    from django.db import connection, transaction

    from hirondelle.migration.models import Edge, Migration
    from hirondelle.migration.services.matching import migrations_containing

    now = datetime(2026, 1, 1, tzinfo=UTC)
    target = 4_242_424_242
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM identity_user WHERE username = 'matcher'")
        owner = cursor.fetchone()[0]
    # One migration per X account 1..n (the directory's accounts), all following `target`.
    _insert_series(
        f"{Migration._meta.db_table} (owner_id, x_account_id, profile, archive_path,"
        " generation, trust_threshold, counts, created_at, updated_at,"
        " x_username, x_display_name, import_warnings)",
        "%s, x, '{}', '', 1, 'domain', '{}', %s, %s, '', '', '[]'",
        migrations,
        [owner, now, now],
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Edge._meta.db_table} (migration_id, direction, x_account_id, generation)"
            f" SELECT id, 1, %s, 1 FROM {Migration._meta.db_table} WHERE x_account_id <= %s",
            [target, migrations],
        )
    _vacuum()
    print(
        f"  {migrations:,} migrations following one account generated in "
        f"{time.perf_counter() - t:.1f} s"
    )
    times = []
    for _ in range(3):
        t = time.perf_counter()
        found = migrations_containing(target)
        times.append(time.perf_counter() - t)
    assert len(found) == migrations, len(found)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT migration_id, direction FROM {Edge._meta.db_table} "
            "WHERE x_account_id = %s AND gone_at IS NULL",
            [target],
        )
        raw = len(cursor.fetchall())
    baseline = time.perf_counter() - t
    assert raw == migrations
    print(
        f"  reverse lookup: {len(found):,} migrations in {min(times):.3f} s "
        f"(best of 3; raw SQL fetch of the same rows {baseline:.3f} s)"
    )
    return {"reverse": min(times), "raw_fetch": baseline}


# --------------------------------------------------------------------------- snapshot


def _snapshot(n: int) -> tuple[Path, Path]:
    """A JSON Lines snapshot of n links (cached) and the signing key's folder."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"snapshot-bench-{n}.jsonl"
    keys = OUT / f"snapshot-bench-{n}-key"
    if path.exists() and keys.exists():
        return path, keys
    import base64
    import hashlib

    from hirondelle.identity.services.keys import generate_signing_key
    from hirondelle.identity.services.snapshots import FORMAT, _statement, signature_path_for

    key = generate_signing_key("Bench publisher", data_dir=keys, replace=True)
    digest = hashlib.sha256()
    evidence = ("x_oauth", "roster", "domain", "bridge", "self")
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as out:
        for start in range(1, n + 1, 100_000):
            lines = []
            for x in range(start, min(n, start + 99_999) + 1):
                if x % 2:
                    net, handle, uri = "bluesky", f"u{x}.bsky.example", f"did:plc:u{x}"
                else:
                    net, handle = "mastodon", f"u{x}@m.example"
                    uri = f"https://m.example/users/u{x}"
                lines.append(
                    f'{{"x_id":"{x}","x_username":"u{x}","network":"{net}",'
                    f'"handle":"{handle}","id":"{uri}","evidence":"{evidence[x % 5]}",'
                    f'"asserted_at":"2026-01-01T00:00:00Z","asserted_by":"Bench publisher",'
                    f'"followable":{"true" if x % 3 else "false"},'
                    f'"follows_arrivals":{"true" if x % 4 == 0 else "false"}}}\n'
                )
            data = "".join(lines).encode()
            digest.update(data)
            out.write(data)
    signature = key.private.sign(_statement(key.name, digest.hexdigest(), n))
    sig = {
        "format": FORMAT,
        "publisher": key.name,
        "public_key": key.public_b64,
        "sha256": digest.hexdigest(),
        "lines": n,
        "signature": base64.b64encode(signature).decode(),
    }
    signature_path_for(path).write_text(json.dumps(sig))
    tmp.replace(path)
    return path, keys


def _baseline_snapshot(path: Path, *, checks: bool = False) -> float:
    """Verify the digest once, decode each line, bulk-insert the four tables: no merge.

    On PostgreSQL the foreign-key checks are switched off (`session_replication_role`,
    a superuser's setting) unless `checks`: a plain COPY as the application's
    own database user runs it checks every row's foreign keys at commit.
    """
    import hashlib

    import msgspec
    from django.db import connection, transaction

    from hirondelle.identity.models import Evidence

    class Line(msgspec.Struct):
        x_id: str
        network: str
        handle: str
        id: str
        evidence: str
        asserted_at: str
        asserted_by: str = ""
        x_username: str = ""
        followable: bool = False
        follows_arrivals: bool = False

    decoder = msgspec.json.Decoder(Line)
    now = datetime.now(UTC)
    strength = {e.value: e.strength for e in Evidence}
    t = time.perf_counter()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    tables = {
        "identity_xaccount": "id, username, display_name, updated_at",
        "identity_networkaccount": "id, network, handle, uri, updated_at",
        "identity_link": "id, x_account_id, network, network_account_id, evidence, strength, "
        "state, asserted_by, asserted_at, updated_at, x_username",
        "identity_consent": "x_account_id, findable, auto_followable, auto_follow_arrivals, "
        "source, updated_at",
    }

    def rows_of(lines):
        for i, line in enumerate(lines, start=1):
            x = int(line.x_id)
            yield (
                (x, line.x_username, "", now),
                (i, line.network, line.handle, line.id, now),
                (
                    i,
                    x,
                    line.network,
                    i,
                    line.evidence,
                    strength[line.evidence],
                    "current",
                    line.asserted_by,
                    line.asserted_at,
                    now,
                    "",
                ),
                (x, True, line.followable, line.follows_arrivals, "snapshot", now),
            )

    with transaction.atomic(), connection.cursor() as cursor, open(path, "rb") as f:
        lines = (decoder.decode(raw) for raw in f)
        if _pg():
            if not checks:
                cursor.execute("SET LOCAL session_replication_role = replica")
            # One COPY at a time per connection: per table, in 100,000-row runs.
            batch: list = []
            for row in rows_of(lines):
                batch.append(row)
                if len(batch) == 100_000:
                    _copy_runs(cursor, tables, batch)
                    batch = []
            _copy_runs(cursor, tables, batch)
        else:
            batch = []
            for row in rows_of(lines):
                batch.append(row)
                if len(batch) == 100_000:
                    _insert_runs(cursor, tables, batch)
                    batch = []
            _insert_runs(cursor, tables, batch)
    return time.perf_counter() - t


def _copy_runs(cursor, tables: dict, batch: list) -> None:
    for k, (table, cols) in enumerate(tables.items()):
        with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row[k])


def _insert_runs(cursor, tables: dict, batch: list) -> None:
    for k, (table, cols) in enumerate(tables.items()):
        marks = ", ".join(["%s"] * len(cols.split(",")))
        cursor.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks})", [row[k] for row in batch]
        )


@contextmanager
def _statement_times():
    """Time each SQL statement, the commit (deferred foreign-key checks run
    there on PostgreSQL) and the on-commit callbacks (arrival tasks): a list
    of (seconds, what), filled as they run."""
    from django.db import connection

    times: list[tuple[float, str]] = []

    def wrapper(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if (d := time.perf_counter() - t) > 1.0:
                times.append((d, " ".join(sql.split())[:90]))

    def timed(name: str, f):
        def run(*args, **kwargs):
            t = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                times.append((time.perf_counter() - t, name))

        return run

    commit, hooks = connection._commit, connection.run_and_clear_commit_hooks
    connection._commit = timed(
        "COMMIT (PostgreSQL runs the deferred foreign-key checks here)", commit
    )
    connection.run_and_clear_commit_hooks = timed("on-commit callbacks (arrival tasks)", hooks)
    try:
        with connection.execute_wrapper(wrapper):
            yield times
    finally:
        connection._commit, connection.run_and_clear_commit_hooks = commit, hooks


def _clear_directory() -> None:
    from django.db import connection

    tables = (
        "identity_linkconflict",
        "identity_consent",
        "identity_link",
        "identity_networkaccount",
        "identity_xaccount",
    )
    with connection.cursor() as cursor:
        if _pg():  # DELETE of 40 million rows takes minutes there; TRUNCATE is instant
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    _vacuum()


def bench_snapshot(n: int) -> dict:
    from hirondelle.identity.models import Link
    from hirondelle.identity.services.keys import load_signing_key, trust_publisher
    from hirondelle.identity.services.snapshots import import_snapshot

    t = time.perf_counter()
    path, keys = _snapshot(n)
    print(
        f"  snapshot of {n:,} links ({path.stat().st_size / 1e6:,.0f} MB) ready in "
        f"{time.perf_counter() - t:.1f} s",
        flush=True,
    )
    key = load_signing_key(data_dir=keys)
    trust_publisher(key.name, key.public_b64)
    _clear_directory()
    base = _baseline_snapshot(path)
    assert Link.objects.count() == n
    _clear_directory()
    checked = plain = None
    if _pg() and os.environ.get("BENCH_FK_BASELINE", "1") != "0":  # 0: skip them, for time
        checked = _baseline_snapshot(path, checks=True)
        _clear_directory()
        from django.db import connection

        from tests.support.postgres import as_plain_role

        # A role that may not switch the checks off: they stay.
        with as_plain_role(connection, "hd_bench_plain"):
            t = time.perf_counter()
            result = import_snapshot(path)
            plain = time.perf_counter() - t
        assert result.stats.created == n, result.stats
        _clear_directory()
    t = time.perf_counter()
    with _statement_times() as times:
        result = import_snapshot(path)
    merged = time.perf_counter() - t
    assert result.stats.created == n, result.stats
    _clear_directory()
    ratio = merged / base
    print(f"  baseline (digest + plain bulk insert of the four tables): {_rate(n, base)}")
    if _pg():
        print("    (PostgreSQL: foreign-key checks off, as a superuser or a role granted")
        print("     SET ON PARAMETER session_replication_role can; the merge does the same)")
    print(f"  import_snapshot (verify + merge):  {_rate(n, merged)}  ({ratio:.2f}x baseline)")
    _goal(f"merging a {n:,}-link snapshot within 2x the plain bulk insert", ratio <= 2.0)
    if checked is not None and plain is not None:
        print("  as a role without that right (every row's foreign keys checked, both sides):")
        print(f"    baseline, the COPY that checks its foreign keys: {_rate(n, checked)}")
        print(f"    import_snapshot: {_rate(n, plain)}  ({plain / checked:.2f}x baseline)")
        _goal("the same, as a role that may not switch the checks off", plain / checked <= 2.0)
    print("  where the merge's time went (statements over 1 s, in order):")
    for seconds, what in times:
        print(f"    {seconds:8.1f} s  {what}")
    rest = merged - sum(seconds for seconds, _ in times)
    print(f"    {rest:8.1f} s  the rest: hashing, reading, checking and staging the lines")
    return {
        "baseline": base,
        "baseline_fk_checked": checked,
        "import_snapshot": merged,
        "import_snapshot_checked": plain,
        "links": n,
    }


def _goal(text: str, met: bool) -> None:
    print(f"  goal: {text}: {'goal met' if met else 'GOAL MISSED'}", flush=True)


# --------------------------------------------------------------------------- posts

POSTS = 200_000


def _posts_archive(n: int) -> Path:
    """A 2024-era zip with `n` posts in three parts and a small graph (cached)."""
    from tests.support.x_archive import render_files, sample_spec

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"posts-bench-{n}p.zip"
    if path.exists():
        return path
    spec = sample_spec(7, n_posts=n, n_following=10, n_followers=10)
    files = render_files(spec, era="2024", parts={"tweets": 3})
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, blob in files.items():
            z.writestr(name, blob)
    tmp.replace(path)
    return path


def _baseline_posts(migration_id: int, posts: list) -> float:
    """The same rows as plain tuples, COPY (PostgreSQL) / executemany (SQLite), no upsert."""
    import msgspec
    from django.db import connection, transaction

    from hirondelle.migration.models import ImportedPost

    fields = [f for f in ImportedPost._meta.concrete_fields if f.name not in ("id", "migration")]
    cols = ", ".join(["migration_id", *(f.column for f in fields)])
    json_fields = {f.name for f in fields if f.get_internal_type() == "JSONField"}
    adapt = connection.ops.adapt_datetimefield_value
    encode = msgspec.json.Encoder().encode
    table = ImportedPost._meta.db_table
    t = time.perf_counter()
    rows = []
    for post in posts:
        values = {**ImportedPost.fields_from_record(post), "generation": 1, "gone_at": None}
        values["created_at"] = adapt(values["created_at"])
        rows.append(
            (
                migration_id,
                *(
                    encode(values[f.name]).decode() if f.name in json_fields else values[f.name]
                    for f in fields
                ),
            )
        )
    with transaction.atomic(), connection.cursor() as cursor:
        if _pg():
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
    return time.perf_counter() - t


def _orm_posts(migration, posts: list) -> float:
    """The previous way: the ORM's bulk_create(update_conflicts=True), 500 posts a batch."""
    from django.db import transaction

    from hirondelle.migration.models import ImportedPost

    names = [
        f.name
        for f in ImportedPost._meta.concrete_fields
        if f.name not in ("id", "migration", "post_id")
    ]
    t = time.perf_counter()
    with transaction.atomic():
        for start in range(0, len(posts), 500):
            ImportedPost.objects.bulk_create(
                [
                    ImportedPost(
                        migration=migration,
                        generation=1,
                        gone_at=None,
                        **ImportedPost.fields_from_record(p),
                    )
                    for p in posts[start : start + 500]
                ],
                update_conflicts=True,
                unique_fields=["migration", "post_id"],
                update_fields=names,
            )
    return time.perf_counter() - t


def bench_posts(n: int) -> dict:
    from django.db import connection, transaction

    from hirondelle.archive import open_archive
    from hirondelle.identity.models import User, XAccount
    from hirondelle.migration.models import ImportedPost, Migration
    from hirondelle.migration.services.importing import _import_posts, import_archive

    archive = _posts_archive(n)
    owner, _ = User.objects.get_or_create(username="poster")
    t = time.perf_counter()
    with open_archive(archive) as a:
        posts = list(a.posts())
    read = time.perf_counter() - t
    rows = len(posts)

    def fresh_migration(x: int) -> Migration:
        XAccount.objects.get_or_create(id=x)
        return Migration.objects.create(owner=owner, x_account_id=x)

    def clear() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {ImportedPost._meta.db_table}")
        _vacuum()

    base = _baseline_posts(fresh_migration(OWNER_X + 10).pk, posts)
    clear()
    orm = _orm_posts(fresh_migration(OWNER_X + 11), posts)
    clear()
    m = fresh_migration(OWNER_X + 12)
    t = time.perf_counter()
    with transaction.atomic():
        _import_posts(m, posts, 1, None)
    write = time.perf_counter() - t
    t = time.perf_counter()
    with transaction.atomic():
        _import_posts(m, posts, 2, None)
    rewrite = time.perf_counter() - t
    assert ImportedPost.objects.filter(migration=m).count() == rows
    clear()
    t = time.perf_counter()
    result = import_archive(archive, owner=owner)
    whole = time.perf_counter() - t
    assert result.counts["posts"] == rows, result.counts
    clear()
    print(
        f"  baseline (plain {'COPY' if _pg() else 'executemany'} of the rows): {_rate(rows, base)}"
    )
    print(f"  reading the archive's posts only: {_rate(rows, read)}")
    print(f"  before: ORM bulk_create upserts:  {_rate(rows, orm)}  ({orm / base:.2f}x baseline)")
    print(
        f"  posts write path, fresh:          {_rate(rows, write)}  ({write / base:.2f}x baseline)"
    )
    print(
        f"  posts write path, again (upsert): {_rate(rows, rewrite)}  "
        f"({rewrite / base:.2f}x baseline)"
    )
    print(f"  import_archive, fresh, whole:     {_rate(rows, whole)}")
    _goal("posts write path within 2x the plain insert", write / base <= 2.0)
    _goal("posts re-import write path within 2x the plain insert", rewrite / base <= 2.0)
    return {
        "baseline": base,
        "read": read,
        "orm": orm,
        "write": write,
        "rewrite": rewrite,
        "import_archive": whole,
        "posts": rows,
    }


def child(db: str, scale: float, parts: set[str], snapshot_links: int | None = None) -> None:
    _setup(db)
    from django.db import connection

    print(f"== {connection.vendor} ==", flush=True)
    out: dict = {"db": connection.vendor, "scale": scale}
    if "snapshot" in parts:
        n = snapshot_links or max(1000, int(DIRECTORY * scale))
        print(f"Merging a signed snapshot of {n:,} links into an empty directory", flush=True)
        out["snapshot"] = bench_snapshot(n)
    if "import" in parts:
        n = max(1000, int(FOLLOWERS * scale))
        print(f"Import of a migration with {n:,} followers", flush=True)
        out["import"] = bench_import(n)
    if "posts" in parts:
        n = max(1000, int(POSTS * scale))
        print(f"Import of {n:,} posts", flush=True)
        out["posts"] = bench_posts(n)
    if "match" in parts or "reverse" in parts:
        d, e = max(10_000, int(DIRECTORY * scale)), max(1000, int(MATCH_EDGES * scale))
        print(f"Matching {e:,} edges against a {d:,}-link directory", flush=True)
        out["match"] = bench_match(d, e)
    if "reverse" in parts:
        r = max(1000, int(REVERSE_MIGRATIONS * scale))
        r = min(r, max(10_000, int(DIRECTORY * scale)))  # migrations use directory accounts
        print(f"Reverse lookup of an account followed by {r:,} migrations", flush=True)
        out["reverse"] = bench_reverse(r)
    print(json.dumps(out), flush=True)


# --------------------------------------------------------------------------- parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full sizes")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--parts",
        default="import,posts,match,reverse,snapshot",
        help="comma-separated: import,posts,match,reverse,snapshot",
    )
    parser.add_argument(
        "--snapshot-links",
        type=int,
        help="links in the signed snapshot (default 10,000,000 times --scale)",
    )
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.child:
        child(args.child, args.scale, parts, args.snapshot_links)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HIRONDELLE_")}
        server = None
        if db == "postgres":
            from tests.support.postgres import start_postgres

            server = start_postgres()
            env["HIRONDELLE_DATABASE_URL"] = server.url
        try:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    db,
                    "--scale",
                    str(args.scale),
                    "--parts",
                    args.parts,
                    *(
                        ["--snapshot-links", str(args.snapshot_links)]
                        if args.snapshot_links
                        else []
                    ),
                ],
                env=env,
                check=True,
            )
        finally:
            if server:
                server.stop()


if __name__ == "__main__":
    main()
