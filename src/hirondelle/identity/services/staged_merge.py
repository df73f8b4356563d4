"""Merging a big batch of links (a signed snapshot) as a few set operations in SQL.

`merge_links` goes batch by batch through Python; at ten million links that
is most of an hour. Here the validated rows are streamed once into a staging
table (COPY on PostgreSQL, executemany on SQLite) and merged with a handful
of INSERT … SELECT / UPDATE … FROM / ON CONFLICT statements that apply the
same rules as `merge_links`:

- accounts: an X account's username is the last non-empty one given; a
  network account is found by its URI, else by its handle (when that account
  has no URI yet, or the row gives none); a handle now held by another URI
  is freed (the old account keeps its URI as handle);
- one link per (X account, network account): the strongest assertion, then
  the newest (the first on a full tie), and an existing link changes only
  when the new assertion is stronger, or as strong and newer; its state
  (rejected included) is left to settling;
- consents vouched for by the source never override one given here;
- settling: per X account and network, among links not rejected, the
  strongest is `current`, a tie at the top `contested`, the rest
  `superseded`; two or more make a conflict row (reopened when it changed).

Runs in the caller's transaction (all or nothing) and sends
`directory_changed` once with the X accounts whose links or consent changed.

At ten million links the order of the inserts matters more than their
number: links go in X-account order and new network accounts in file
order (exports are sorted by X account), so index pages and the foreign-key
checks at commit walk the tables in order instead of missing the cache on
every row, as the hash order of the joins made them do. On PostgreSQL the
transaction gets 64 MB of work_mem for its sorts and hashes, and a role
allowed to set `session_replication_role` merges without the per-row
foreign-key checks, holding what the links point to in a few set queries
instead (`_hold_references`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import islice

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from hirondelle.identity.models import Consent, Evidence, Link, PublisherKey, User
from hirondelle.identity.services.directory import (
    NETWORKS,
    LinkRow,
    MergeStats,
    _check_uri,
    _normalize_handle,
    parse_x_id,
)
from hirondelle.identity.services.errors import InvalidLink
from hirondelle.identity.signals import directory_changed

__all__ = ["HELD_REFERENCES", "merge_links_staged", "merge_staged", "stage_row"]

_TEMP = (
    "hd_stage",
    "hd_want",
    "hd_acct",
    "hd_map",
    "hd_best",
    "hd_changed",
    "hd_groups",
    "hd_settle",
)
_STAGE_COLS = (
    "seq, x_id, network, handle, uri, evidence, strength, asserted_by, asserted_at, "
    "x_username, proven, has_consent, findable, followable, follows"
)
_PROVEN = (Evidence.X_OAUTH, Evidence.ROSTER)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _tmp(name: str) -> str:
    """CREATE TEMP TABLE prefix; dropped at commit on PostgreSQL, by hand on SQLite."""
    return f"CREATE TEMP TABLE {name}{' ON COMMIT DROP' if _pg() else ''} AS "


def merge_links_staged(
    rows: Iterable[LinkRow],
    *,
    publisher: PublisherKey | None = None,
    created_by: User | None = None,
    consent_source: str = Consent.Source.SNAPSHOT,
    chunk: int = 50_000,
) -> MergeStats:
    """Stage every row, then merge them with set operations; one transaction.

    Raises InvalidLink when two handles of the rows name the same account
    (one account holds one handle). Returns counts of links created, strengthened
    and left as they were.
    """
    staged = (
        (
            r.x_id,
            r.network,
            r.handle,
            r.uri,
            r.evidence.value,
            r.evidence.strength,
            r.asserted_by,
            r.asserted_at,
            r.x_username,
            r.x_username.lower() if r.evidence in _PROVEN else "",
            r.consent is not None,
            *(r.consent or (False, False, False)),
        )
        for r in rows
    )
    return merge_staged(
        staged,
        publisher=publisher,
        created_by=created_by,
        consent_source=consent_source,
        chunk=chunk,
    )


_EVIDENCE = {e.value: (e.value, e.strength, e in _PROVEN) for e in Evidence}


def stage_row(
    x_id: object,
    network: str,
    handle: str,
    uri: str,
    evidence: str,
    asserted_by: str,
    asserted_at: datetime,
    x_username: str,
    consent: tuple[bool, bool, bool] | None,
) -> tuple:
    """One row to stage, checked as `LinkRow.make` checks it (InvalidLink), without the object.

    A snapshot has millions of lines: this is the same validation at a third
    of the cost.
    """
    network = network.strip().lower()
    if network not in NETWORKS:
        raise InvalidLink(f"Unknown network {network!r}: use mastodon or bluesky.")
    ev = _EVIDENCE.get(evidence)
    if ev is None:
        try:
            Evidence.parse(str(evidence))
        except ValueError as exc:
            raise InvalidLink(str(exc)) from None
    if not asserted_by:
        raise InvalidLink("Every link needs to say who asserted it.")
    if asserted_at.tzinfo is None:
        asserted_at = asserted_at.replace(tzinfo=UTC)
    name = x_username.strip().removeprefix("@")[:50]
    return (
        parse_x_id(x_id),
        network,
        _normalize_handle(network, handle),
        _check_uri(network, uri),
        ev[0],
        ev[1],
        asserted_by[:200],
        asserted_at,
        name,
        name.lower() if ev[2] else "",
        consent is not None,
        *(consent or (False, False, False)),
    )


def merge_staged(
    rows: Iterable[tuple],
    *,
    publisher: PublisherKey | None = None,
    created_by: User | None = None,
    consent_source: str = Consent.Source.SNAPSHOT,
    chunk: int = 50_000,
) -> MergeStats:
    """`merge_links_staged` for rows already made by `stage_row`."""
    with transaction.atomic(), connection.cursor() as cursor:
        for name in _TEMP:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        work_mem = _raise_work_mem(cursor)
        _stage(cursor, rows, chunk)
        role = _row_checks_off(cursor)
        stats = _merge(cursor, publisher, created_by, consent_source)
        if role is not None:
            _hold_references(cursor, publisher, created_by)
            cursor.execute("SELECT set_config('session_replication_role', %s, true)", [role])
        if work_mem is not None:  # back to what the caller's transaction had
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        if not _pg():
            for name in _TEMP:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
    directory_changed.send(sender=Link, x_ids=sorted(stats.x_ids))
    return stats


#: PostgreSQL's default work_mem (4 MB) makes every sort and hash of a
#: ten-million-row merge spill to disk in hundreds of runs and batches.
_WORK_MEM = 64 * 1024 * 1024


def _raise_work_mem(cursor) -> str | None:
    """On PostgreSQL, give this transaction 64 MB per sort or hash when it has less.

    Returns the setting to put back, or None when nothing was changed.
    """
    if not _pg():
        return None
    cursor.execute("SELECT current_setting('work_mem'), pg_size_bytes(current_setting('work_mem'))")
    old, size = cursor.fetchone()
    if size >= _WORK_MEM:
        return None
    cursor.execute(f"SET LOCAL work_mem = '{_WORK_MEM // (1024 * 1024)}MB'")
    return old


#: Every foreign key of the tables `_merge` writes, and how `_hold_references`
#: holds what it points to (`test_staged_merge_checks` compares it with the schema).
HELD_REFERENCES = {
    ("identity_link", "x_account_id"): "upserted first (ON CONFLICT locks the row)",
    ("identity_link", "network_account_id"): "inserted here, or locked",
    ("identity_link", "publisher_id"): "locked",
    ("identity_link", "created_by_id"): "locked",
    ("identity_consent", "x_account_id"): "upserted first (ON CONFLICT locks the row)",
    ("identity_consent", "given_by_id"): "always NULL here",
    ("identity_linkconflict", "x_account_id"): "upserted first (ON CONFLICT locks the row)",
    ("identity_linkconflict", "winner_id"): "inserted here, or locked",
    ("identity_linkconflict", "resolved_by_id"): "always NULL here",
}


def _row_checks_off(cursor) -> str | None:
    """On PostgreSQL, skip the per-row foreign-key checks when the role may.

    At ten million links the deferred checks (one query per row and key,
    forty million in all) are a third of the merge. A role that may set
    `session_replication_role` (a superuser, or one granted `SET ON
    PARAMETER session_replication_role`) switches them off for the merge's
    statements; `_hold_references` then does their job in a few set
    queries. Returns the setting to put back, or None when the checks stay.
    """
    if not _pg():
        return None
    cursor.execute("SELECT current_setting('session_replication_role')")
    (old,) = cursor.fetchone()
    try:
        with transaction.atomic():
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:  # not allowed: every row is checked, as always
        return None
    return old


def _hold_references(cursor, publisher, created_by) -> None:
    """Do, set by set, what the foreign-key checks switched off would have done.

    A check makes sure the row pointed to exists and holds it (FOR KEY
    SHARE) until commit, so that an erasure running beside the merge waits,
    then fails on its own checks, rather than leave a link to nothing. X
    accounts were upserted first, which locks every one the rows name (even
    unchanged); accounts and links created here are ours alone until commit.
    What remains is held here; any of it gone meanwhile fails the merge
    (all or nothing, as a failed check would).
    """
    held = [
        (  # accounts that were there before, that new links point to
            "identity_networkaccount",
            "SELECT acct FROM hd_acct a WHERE acct IS NOT NULL AND EXISTS "
            "(SELECT 1 FROM hd_best b WHERE b.acct = a.acct AND b.kind = 'n')",
            [],
        ),
        ("identity_link", "SELECT DISTINCT winner FROM hd_settle WHERE winner IS NOT NULL", []),
    ]
    for model, row in ((PublisherKey, publisher), (User, created_by)):
        if row is not None:
            held.append((model._meta.db_table, "SELECT CAST(%s AS bigint)", [row.pk]))
    for table, wanted, params in held:
        cursor.execute(
            f"WITH w AS MATERIALIZED ({wanted}) SELECT (SELECT count(*) FROM w), "
            f"(SELECT count(*) FROM (SELECT 1 FROM {table} WHERE id IN (SELECT * FROM w) "
            "FOR KEY SHARE) h)",
            params,
        )
        expected, found = cursor.fetchone()
        if found != expected:
            raise IntegrityError(
                f"{expected - found} row(s) of {table} that these links point to were deleted "
                "while they merged: nothing was merged; run the import again."
            )


def _stage(cursor, rows: Iterable[tuple], chunk: int) -> None:
    pg = _pg()
    ts = "timestamptz" if pg else "text"
    cursor.execute(
        f"CREATE TEMP TABLE hd_stage (seq bigint, x_id bigint, network varchar(16), "
        f"handle varchar(255), uri varchar(500), evidence varchar(16), strength smallint, "
        f"asserted_by varchar(200), asserted_at {ts}, x_username varchar(50), "
        f"proven varchar(50), has_consent boolean, findable boolean, followable boolean, "
        f"follows boolean){' ON COMMIT DROP' if pg else ''}"
    )
    it = iter(rows)
    seq = 0
    texts: dict[datetime, str] = {}
    while batch := list(islice(it, chunk)):
        if pg:
            with cursor.cursor.copy(f"COPY hd_stage ({_STAGE_COLS}) FROM STDIN") as copy:
                for r in batch:
                    seq += 1
                    copy.write_row((seq, *r))
            continue
        values = []
        for r in batch:
            seq += 1
            at = r[7]
            text = texts.get(at)
            if text is None:  # as Django stores it: naive UTC, str()
                if len(texts) > 100_000:
                    texts.clear()
                text = texts[at] = str(at.astimezone(UTC).replace(tzinfo=None))
            values.append((seq, *r[:7], text, *r[8:]))
        cursor.executemany(
            f"INSERT INTO hd_stage ({_STAGE_COLS}) VALUES ({', '.join(['%s'] * 15)})", values
        )
    if pg:
        cursor.execute("ANALYZE hd_stage")


def _merge(cursor, publisher, created_by, consent_source: str) -> MergeStats:
    pg = _pg()
    now = timezone.now()
    at = now if pg else connection.ops.adapt_datetimefield_value(now)
    distinct = "IS DISTINCT FROM" if pg else "IS NOT"
    stats = MergeStats()

    # X accounts: the last non-empty username of each, never erased by an empty one.
    # SQLite upserts the rows in order (the last name wins); PostgreSQL may
    # not touch a row twice in one statement, so it picks the row first.
    if pg:
        source = (
            "SELECT DISTINCT ON (x_id) x_id, x_username, '', %s FROM hd_stage "
            "ORDER BY x_id, (x_username <> '') DESC, seq DESC"
        )
    else:
        source = "SELECT x_id, x_username, '', %s FROM hd_stage WHERE true ORDER BY seq"
    cursor.execute(
        f"INSERT INTO identity_xaccount (id, username, display_name, updated_at) {source} "
        "ON CONFLICT (id) DO UPDATE SET username = excluded.username "
        "WHERE excluded.username <> ''",
        [at],
    )

    # Network accounts: one per (network, handle), with the last URI given for it.
    # Grouping needs equal bytes only: COLLATE "C" spares the sort the locale's
    # comparisons (the database's collation is deterministic, so same groups).
    c = ' COLLATE "C"' if pg else ""
    cursor.execute(
        _tmp("hd_want") + "SELECT network, handle, uri, seq FROM (SELECT network, handle, uri, "
        f"seq, row_number() OVER (PARTITION BY network{c}, handle{c} "
        "ORDER BY (uri <> '') DESC, seq DESC) AS rn FROM hd_stage) t WHERE rn = 1"
    )
    # By URI first; else the handle's holder when it has no URI yet or none is given.
    cursor.execute(
        _tmp("hd_acct") + "SELECT w.network, w.handle, w.uri, w.seq, h.id AS holder, "
        "CASE WHEN w.uri <> '' THEN COALESCE(u.id, CASE WHEN h.uri = '' THEN h.id END) "
        "ELSE h.id END AS acct FROM hd_want w "
        "LEFT JOIN identity_networkaccount u ON u.network = w.network AND u.uri = w.uri "
        "AND u.uri <> '' AND w.uri <> '' "
        "LEFT JOIN identity_networkaccount h ON h.network = w.network AND h.handle = w.handle"
    )
    # One account holds one handle: two handles naming one account are refused.
    cursor.execute(
        "SELECT acct, min(handle), max(handle) FROM hd_acct WHERE acct IS NOT NULL "
        "GROUP BY acct HAVING count(*) > 1 LIMIT 1"
    )
    if dup := cursor.fetchone():
        raise InvalidLink(f"{dup[1]!r} and {dup[2]!r} name the same account: it has one handle.")
    # Free handles now held by another URI first, so (network, handle) stays unique.
    cursor.execute(
        "UPDATE identity_networkaccount SET handle = CASE WHEN uri <> '' THEN uri "
        "ELSE handle || '~' || CAST(id AS varchar(20)) END WHERE id IN (SELECT holder FROM "
        "hd_acct WHERE holder IS NOT NULL AND (acct IS NULL OR acct <> holder))"
    )
    cursor.execute(
        "UPDATE identity_networkaccount SET handle = a.handle, uri = CASE WHEN a.uri <> '' "
        "THEN a.uri ELSE identity_networkaccount.uri END FROM hd_acct a "
        "WHERE identity_networkaccount.id = a.acct AND (identity_networkaccount.handle <> "
        "a.handle OR (a.uri <> '' AND identity_networkaccount.uri <> a.uri))"
    )
    # New accounts in the order of the rows (ids follow the file, so the
    # links inserted in X-account order below meet them in order when the
    # file is sorted by X account, as exports are). On PostgreSQL their ids
    # go straight into the map; SQLite has no INSERT in a WITH, so it looks
    # them up after.
    if pg:
        cursor.execute(
            _tmp("hd_map") + "SELECT network, handle, acct FROM hd_acct WHERE acct IS NOT NULL"
        )
    insert = (
        "INSERT INTO identity_networkaccount (network, handle, uri, updated_at) "
        "SELECT network, handle, uri, %s FROM hd_acct WHERE acct IS NULL ORDER BY seq"
    )
    try:
        with transaction.atomic():
            if pg:
                cursor.execute(
                    f"WITH n AS ({insert} RETURNING network, handle, id) "
                    "INSERT INTO hd_map SELECT network, handle, id FROM n",
                    [at],
                )
            else:
                cursor.execute(insert, [at])
    except IntegrityError:  # a URI given for two new handles (the unique URI index says so)
        cursor.execute(
            "SELECT min(handle), max(handle) FROM hd_acct WHERE acct IS NULL AND uri <> '' "
            "GROUP BY network, uri HAVING count(*) > 1 LIMIT 1"
        )
        dup = cursor.fetchone() or ("?", "?")
        raise InvalidLink(
            f"{dup[0]!r} and {dup[1]!r} name the same account: it has one handle."
        ) from None
    if pg:
        cursor.execute("ANALYZE hd_map")
    else:
        cursor.execute(
            _tmp("hd_map") + "SELECT a.network, a.handle, COALESCE(a.acct, n.id) AS acct "
            "FROM hd_acct a LEFT JOIN identity_networkaccount n ON a.acct IS NULL "
            "AND n.network = a.network AND n.handle = a.handle"
        )

    # Links: the best assertion per (X account, network account), beside the link it meets.
    cursor.execute(
        _tmp("hd_best") + "SELECT t.x_id, t.acct, t.network, t.evidence, t.strength, "
        "t.asserted_by, t.asserted_at, t.proven, l.id AS link_id, CASE WHEN l.id IS NULL "
        "THEN 'n' WHEN t.strength > l.strength OR (t.strength = l.strength AND "
        "t.asserted_at > l.asserted_at) THEN 's' ELSE 'u' END AS kind, t.n FROM (SELECT s.x_id, "
        "m.acct, s.network, s.evidence, s.strength, s.asserted_by, s.asserted_at, s.proven"
        f", s.n FROM (SELECT r.*, count(*) OVER (PARTITION BY x_id, network{c}) AS n FROM "
        "(SELECT x_id, network, handle, evidence, strength, asserted_by, asserted_at, "
        f"proven, row_number() OVER (PARTITION BY x_id, network{c}, handle{c} ORDER BY "
        "strength DESC, asserted_at DESC, seq) AS rn FROM hd_stage) r WHERE r.rn = 1) s "
        "JOIN hd_map m ON m.network = s.network AND m.handle = s.handle) t "
        "LEFT JOIN identity_link l ON l.x_account_id = t.x_id AND l.network_account_id = t.acct"
    )
    cursor.execute(_tmp("hd_changed") + "SELECT x_id FROM hd_best WHERE kind <> 'u'")
    # Settling: only groups a link is added to or strengthened in can change
    # (every other one was settled when it last changed); of those, only
    # groups the rows name two or more accounts in, or that already hold
    # another link not rejected, need a look. Found before the new links go
    # in: on a fresh directory, a look at an empty table rather than at
    # every link just inserted.
    cursor.execute(
        _tmp("hd_groups") + "SELECT x_id AS x, network FROM hd_best WHERE kind <> 'u' AND n > 1 "
        "UNION SELECT b.x_id, b.network FROM hd_best b JOIN identity_link l "
        "ON l.x_account_id = b.x_id AND l.network = b.network "
        "WHERE b.kind <> 'u' AND b.n = 1 AND l.state <> 'rejected'"
    )
    if pg:
        cursor.execute("ANALYZE hd_groups")
    publisher_id = publisher.pk if publisher else None
    cursor.execute(
        "UPDATE identity_link SET evidence = b.evidence, strength = b.strength, "
        "asserted_by = b.asserted_by, asserted_at = b.asserted_at, x_username = b.proven, "
        "publisher_id = %s, updated_at = %s FROM hd_best b "
        "WHERE b.kind = 's' AND identity_link.id = b.link_id",
        [publisher_id, at],
    )
    stats.strengthened = max(cursor.rowcount, 0)
    cursor.execute(
        "INSERT INTO identity_link (x_account_id, network, network_account_id, evidence, "
        "strength, state, asserted_by, asserted_at, x_username, publisher_id, created_by_id, "
        "updated_at) SELECT x_id, network, acct, evidence, strength, 'current', asserted_by, "
        "asserted_at, proven, %s, %s, %s FROM hd_best WHERE kind = 'n' ORDER BY x_id, acct",
        [publisher_id, created_by.pk if created_by else None, at],
    )
    stats.created = max(cursor.rowcount, 0)
    cursor.execute("SELECT count(*) FROM hd_best WHERE kind = 'u'")
    stats.unchanged = cursor.fetchone()[0]

    # Consents: the last one vouched for per X account; one given here stands.
    if pg:
        source = (
            "SELECT DISTINCT ON (x_id) x_id, findable, followable, follows, %s, NULL, %s "
            "FROM hd_stage WHERE has_consent ORDER BY x_id, seq DESC"
        )
    else:
        # One row per X account (SQLite takes the bare columns from the max(seq) row).
        source = (
            "SELECT x_id, findable, followable, follows, %s, NULL, %s FROM (SELECT x_id, "
            "findable, followable, follows, max(seq) FROM hd_stage WHERE has_consent "
            "GROUP BY x_id) t WHERE true"
        )
    # Which consents changed: kept in SQL on PostgreSQL (millions of ids need
    # not cross to Python twice); SQLite has no INSERT in a WITH.
    upsert = (
        "INSERT INTO identity_consent (x_account_id, findable, auto_followable, "
        f"auto_follow_arrivals, source, given_by_id, updated_at) {source} "
        "ON CONFLICT (x_account_id) DO UPDATE SET findable = excluded.findable, "
        "auto_followable = excluded.auto_followable, "
        "auto_follow_arrivals = excluded.auto_follow_arrivals, source = excluded.source "
        "WHERE identity_consent.source <> 'local' AND (identity_consent.findable <> "
        "excluded.findable OR identity_consent.auto_followable <> excluded.auto_followable "
        "OR identity_consent.auto_follow_arrivals <> excluded.auto_follow_arrivals "
        "OR identity_consent.source <> excluded.source) RETURNING x_account_id"
    )
    consented: set[int] = set()
    if pg:
        cursor.execute(
            f"WITH c AS ({upsert}) INSERT INTO hd_changed SELECT x_account_id FROM c",
            [consent_source, at],
        )
    else:
        cursor.execute(upsert, [consent_source, at])
        consented = {x for (x,) in cursor.fetchall()}

    # Settling the groups found above: states, then conflict rows.
    cursor.execute(
        _tmp("hd_settle") + "SELECT id, x, network, state, strength, top, n, "
        "CASE WHEN strength < top THEN 'superseded' WHEN same = 1 THEN 'current' "
        "ELSE 'contested' END AS target, CASE WHEN strength = top AND same = 1 THEN id END "
        "AS winner FROM (SELECT l.id, l.x_account_id AS x, l.network, l.state, l.strength, "
        "max(l.strength) OVER (PARTITION BY l.x_account_id, l.network) AS top, "
        "count(*) OVER (PARTITION BY l.x_account_id, l.network) AS n, "
        "count(*) OVER (PARTITION BY l.x_account_id, l.network, l.strength) AS same "
        "FROM identity_link l JOIN hd_groups g ON g.x = l.x_account_id "
        "AND g.network = l.network WHERE l.state <> 'rejected') t"
    )
    cursor.execute("INSERT INTO hd_changed SELECT x FROM hd_settle WHERE state <> target")
    cursor.execute(
        "UPDATE identity_link SET state = s.target, updated_at = %s FROM hd_settle s "
        "WHERE identity_link.id = s.id AND s.state <> s.target",
        [at],
    )
    cursor.execute(
        "INSERT INTO identity_linkconflict (x_account_id, network, winner_id, contenders, "
        "detected_at, updated_at, resolved_at, resolved_by_id) SELECT x, network, max(winner), "
        "max(n), %s, %s, NULL, NULL FROM hd_settle WHERE n > 1 GROUP BY x, network "
        "ON CONFLICT (x_account_id, network) DO UPDATE SET winner_id = excluded.winner_id, "
        "contenders = excluded.contenders, resolved_at = NULL, resolved_by_id = NULL, "
        "updated_at = excluded.updated_at WHERE identity_linkconflict.winner_id "
        f"{distinct} excluded.winner_id OR identity_linkconflict.contenders <> "
        "excluded.contenders OR identity_linkconflict.resolved_at IS NOT NULL",
        [at, at],
    )
    cursor.execute("SELECT DISTINCT x_id FROM hd_changed")
    stats.x_ids = consented | {x for (x,) in cursor.fetchall()}
    return stats
