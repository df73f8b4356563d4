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
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from hirondelle.identity.models import Consent, Evidence, Link, PublisherKey, User
from hirondelle.identity.services.directory import LinkRow, MergeStats
from hirondelle.identity.services.errors import InvalidLink
from hirondelle.identity.signals import directory_changed

__all__ = ["merge_links_staged"]

_TEMP = ("hd_stage", "hd_want", "hd_acct", "hd_map", "hd_best", "hd_settle", "hd_changed")
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

    Raises InvalidLink when two handles of the rows name the same URI (one
    account cannot hold both). Returns counts of links created, strengthened
    and left as they were.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        for name in _TEMP:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
        _stage(cursor, rows, chunk)
        stats = _merge(cursor, publisher, created_by, consent_source)
        if not _pg():
            for name in _TEMP:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
    directory_changed.send(sender=Link, x_ids=sorted(stats.x_ids))
    return stats


def _stage(cursor, rows: Iterable[LinkRow], chunk: int) -> None:
    pg = _pg()
    ts = "timestamptz" if pg else "text"
    cursor.execute(
        f"CREATE TEMP TABLE hd_stage (seq bigint, x_id bigint, network varchar(16), "
        f"handle varchar(255), uri varchar(500), evidence varchar(16), strength smallint, "
        f"asserted_by varchar(200), asserted_at {ts}, x_username varchar(50), "
        f"proven varchar(50), has_consent boolean, findable boolean, followable boolean, "
        f"follows boolean){' ON COMMIT DROP' if pg else ''}"
    )
    adapt = connection.ops.adapt_datetimefield_value
    it = iter(rows)
    seq = 0
    while batch := list(islice(it, chunk)):
        values = []
        for r in batch:
            seq += 1
            c = r.consent
            values.append(
                (
                    seq,
                    r.x_id,
                    r.network,
                    r.handle,
                    r.uri,
                    r.evidence.value,
                    r.evidence.strength,
                    r.asserted_by,
                    r.asserted_at if pg else adapt(r.asserted_at),
                    r.x_username,
                    r.x_username.lower() if r.evidence in _PROVEN else "",
                    c is not None,
                    bool(c and c[0]),
                    bool(c and c[1]),
                    bool(c and c[2]),
                )
            )
        if pg:
            with cursor.cursor.copy(f"COPY hd_stage ({_STAGE_COLS}) FROM STDIN") as copy:
                for v in values:
                    copy.write_row(v)
        else:
            cursor.executemany(
                f"INSERT INTO hd_stage ({_STAGE_COLS}) VALUES ({', '.join(['%s'] * 15)})",
                values,
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
    cursor.execute(
        "INSERT INTO identity_xaccount (id, username, display_name, updated_at) "
        "SELECT x_id, x_username, '', %s FROM (SELECT x_id, x_username, row_number() OVER "
        "(PARTITION BY x_id ORDER BY (x_username <> '') DESC, seq DESC) AS rn FROM hd_stage) t "
        "WHERE rn = 1 ON CONFLICT (id) DO UPDATE SET username = excluded.username "
        "WHERE excluded.username <> ''",
        [at],
    )

    # Network accounts: one per (network, handle), with the last URI given for it.
    cursor.execute(
        _tmp("hd_want") + "SELECT network, handle, uri FROM (SELECT network, handle, uri, "
        "row_number() OVER (PARTITION BY network, handle ORDER BY (uri <> '') DESC, seq DESC) "
        "AS rn FROM hd_stage) t WHERE rn = 1"
    )
    cursor.execute(
        "SELECT network, uri FROM hd_want WHERE uri <> '' GROUP BY network, uri "
        "HAVING count(*) > 1 LIMIT 1"
    )
    if dup := cursor.fetchone():
        raise InvalidLink(
            f"{dup[1]!r} is given for two {dup[0]} handles: one account has one handle."
        )
    # By URI first; else the handle's holder when it has no URI yet or none is given.
    cursor.execute(
        _tmp("hd_acct") + "SELECT w.network, w.handle, w.uri, h.id AS holder, "
        "CASE WHEN w.uri <> '' THEN COALESCE(u.id, CASE WHEN h.uri = '' THEN h.id END) "
        "ELSE h.id END AS acct FROM hd_want w "
        "LEFT JOIN identity_networkaccount u ON u.network = w.network AND u.uri = w.uri "
        "AND u.uri <> '' AND w.uri <> '' "
        "LEFT JOIN identity_networkaccount h ON h.network = w.network AND h.handle = w.handle"
    )
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
    cursor.execute(
        "INSERT INTO identity_networkaccount (network, handle, uri, updated_at) "
        "SELECT network, handle, uri, %s FROM hd_acct WHERE acct IS NULL",
        [at],
    )
    cursor.execute(
        _tmp("hd_map") + "SELECT a.network, a.handle, COALESCE(a.acct, n.id) AS acct "
        "FROM hd_acct a LEFT JOIN identity_networkaccount n ON a.acct IS NULL "
        "AND n.network = a.network AND n.handle = a.handle"
    )
    if pg:
        cursor.execute("ANALYZE hd_map")

    # Links: the best assertion per (X account, network account), beside the link it meets.
    cursor.execute(
        _tmp("hd_best") + "SELECT t.x_id, t.acct, t.network, t.evidence, t.strength, "
        "t.asserted_by, t.asserted_at, t.proven, l.id AS link_id, CASE WHEN l.id IS NULL "
        "THEN 'n' WHEN t.strength > l.strength OR (t.strength = l.strength AND "
        "t.asserted_at > l.asserted_at) THEN 's' ELSE 'u' END AS kind FROM (SELECT s.x_id, "
        "m.acct, s.network, s.evidence, s.strength, s.asserted_by, s.asserted_at, s.proven, "
        "row_number() OVER (PARTITION BY s.x_id, m.acct ORDER BY s.strength DESC, "
        "s.asserted_at DESC, s.seq) AS rn FROM hd_stage s JOIN hd_map m "
        "ON m.network = s.network AND m.handle = s.handle) t "
        "LEFT JOIN identity_link l ON l.x_account_id = t.x_id AND l.network_account_id = t.acct "
        "WHERE t.rn = 1"
    )
    cursor.execute(_tmp("hd_changed") + "SELECT x_id FROM hd_best WHERE kind <> 'u'")
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
        "asserted_at, proven, %s, %s, %s FROM hd_best WHERE kind = 'n'",
        [publisher_id, created_by.pk if created_by else None, at],
    )
    stats.created = max(cursor.rowcount, 0)
    cursor.execute("SELECT count(*) FROM hd_best WHERE kind = 'u'")
    stats.unchanged = cursor.fetchone()[0]

    # Consents: the last one vouched for per X account; one given here stands.
    cursor.execute(
        "INSERT INTO hd_changed SELECT t.x_id FROM (SELECT x_id, findable, followable, follows, "
        "row_number() OVER (PARTITION BY x_id ORDER BY seq DESC) AS rn FROM hd_stage "
        "WHERE has_consent) t LEFT JOIN identity_consent c ON c.x_account_id = t.x_id "
        "WHERE t.rn = 1 AND (c.x_account_id IS NULL OR (c.source <> 'local' AND "
        "(c.findable <> t.findable OR c.auto_followable <> t.followable OR "
        "c.auto_follow_arrivals <> t.follows OR c.source <> %s)))",
        [consent_source],
    )
    cursor.execute(
        "INSERT INTO identity_consent (x_account_id, findable, auto_followable, "
        "auto_follow_arrivals, source, given_by_id, updated_at) SELECT x_id, findable, "
        "followable, follows, %s, NULL, %s FROM (SELECT x_id, findable, followable, follows, "
        "row_number() OVER (PARTITION BY x_id ORDER BY seq DESC) AS rn FROM hd_stage "
        "WHERE has_consent) t WHERE rn = 1 ON CONFLICT (x_account_id) DO UPDATE SET "
        "findable = excluded.findable, auto_followable = excluded.auto_followable, "
        "auto_follow_arrivals = excluded.auto_follow_arrivals, source = excluded.source "
        "WHERE identity_consent.source <> 'local'",
        [consent_source, at],
    )

    # Settling every X account of the rows: states, then conflict rows.
    cursor.execute(
        _tmp("hd_settle") + "SELECT id, x, network, state, strength, top, n, "
        "CASE WHEN strength < top THEN 'superseded' WHEN same = 1 THEN 'current' "
        "ELSE 'contested' END AS target, CASE WHEN strength = top AND same = 1 THEN id END "
        "AS winner FROM (SELECT id, x_account_id AS x, network, state, strength, "
        "max(strength) OVER (PARTITION BY x_account_id, network) AS top, "
        "count(*) OVER (PARTITION BY x_account_id, network) AS n, "
        "count(*) OVER (PARTITION BY x_account_id, network, strength) AS same "
        "FROM identity_link WHERE state <> 'rejected' AND x_account_id IN "
        "(SELECT x_id FROM hd_stage)) t WHERE n > 1 OR state <> 'current'"
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
    stats.x_ids = {x for (x,) in cursor.fetchall()}
    return stats
