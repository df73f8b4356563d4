"""Filling the directory: links with their evidence, consents, conflicts.

Everything that writes links goes through `merge_links`, in batches, so a
single link typed by a person and an institution's roster follow the same
rules (a ten-million-line snapshot goes through `staged_merge`, which applies
them as a few SQL statements over a staged copy):

- one link per (X account, network account); asserting it again keeps the
  strongest evidence (the newest on a tie);
- per X account and network, the strongest link is `current`; a tie at the
  top is `contested` (review only); weaker ones are `superseded`; a
  conflict row records any disagreement, and administrators resolve it by
  rejecting the links they do not believe.
"""

from __future__ import annotations

import enum
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from hirondelle.identity.models import (
    Consent,
    Evidence,
    Link,
    LinkConflict,
    NetworkAccount,
    PublisherKey,
    User,
    XAccount,
    x_id_to_db,
)
from hirondelle.identity.services.errors import InvalidLink
from hirondelle.identity.signals import directory_changed

__all__ = [
    "LinkRow",
    "MergeStats",
    "assert_link",
    "merge_links",
    "parse_x_id",
    "reject_link",
    "resolve_conflict",
    "set_consent",
    "settle",
]

NETWORKS = ("mastodon", "bluesky")
_MASTODON_HANDLE = re.compile(r"^[^@\s/]+@[^@\s/]+$")
_BLUESKY_HANDLE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def parse_x_id(value: object) -> int:
    """An X id as stored (`x_id_to_db`); InvalidLink if it is not a positive decimal number."""
    text = str(value).strip()
    try:
        if not text.isdigit():
            raise ValueError(text)
        return x_id_to_db(text)
    except ValueError:
        raise InvalidLink(
            f"{value!r} is not an X account id (a positive decimal number)."
        ) from None


def _normalize_handle(network: str, handle: str) -> str:
    h = handle.strip().removeprefix("@").lower()
    if network == "mastodon":
        if not _MASTODON_HANDLE.match(h):
            raise InvalidLink(f"{handle!r} is not a fediverse address: write it user@host.")
    elif not _BLUESKY_HANDLE.match(h):
        raise InvalidLink(f"{handle!r} is not a Bluesky handle (like name.bsky.social).")
    return h


def _check_uri(network: str, uri: str) -> str:
    uri = uri.strip()
    if not uri:
        return ""
    if network == "mastodon" and not uri.startswith(("https://", "http://")):
        raise InvalidLink(f"{uri!r} is not an ActivityPub actor URI (https://…).")
    if network == "bluesky" and not uri.startswith("did:"):
        raise InvalidLink(f"{uri!r} is not a Bluesky DID (did:plc:… or did:web:…).")
    return uri


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One assertion "X account `x_id` is `handle`/`uri` on `network`", validated."""

    x_id: int
    network: str
    handle: str
    uri: str
    evidence: Evidence
    asserted_by: str
    asserted_at: datetime
    x_username: str = ""
    #: (findable, auto_followable, auto_follow_arrivals) vouched for by the
    #: source (a roster, a snapshot); None leaves consent untouched.
    consent: tuple[bool, bool, bool] | None = None

    @classmethod
    def make(
        cls,
        x_id: object,
        network: str,
        handle: str,
        uri: str = "",
        *,
        evidence: str | Evidence,
        asserted_by: str,
        asserted_at: datetime | None = None,
        x_username: str = "",
        consent: tuple[bool, bool, bool] | None = None,
    ) -> LinkRow:
        """Validate and normalise; raises InvalidLink with a message a person can act on."""
        network = str(network).strip().lower()
        if network not in NETWORKS:
            raise InvalidLink(f"Unknown network {network!r}: use mastodon or bluesky.")
        try:
            ev = Evidence.parse(str(evidence))
        except ValueError as exc:
            raise InvalidLink(str(exc)) from None
        if not asserted_by:
            raise InvalidLink("Every link needs to say who asserted it.")
        at = asserted_at or timezone.now()
        if timezone.is_naive(at):
            at = at.replace(tzinfo=UTC)
        return cls(
            x_id=parse_x_id(x_id),
            network=network,
            handle=_normalize_handle(network, handle),
            uri=_check_uri(network, uri),
            evidence=ev,
            asserted_by=asserted_by[:200],
            asserted_at=at,
            x_username=x_username.strip().removeprefix("@")[:50],
            consent=consent,
        )


@dataclass
class MergeStats:
    created: int = 0
    strengthened: int = 0
    unchanged: int = 0
    x_ids: set[int] = field(default_factory=set, repr=False)

    def __iadd__(self, other: MergeStats) -> MergeStats:
        self.created += other.created
        self.strengthened += other.strengthened
        self.unchanged += other.unchanged
        return self


def _batches(rows: Iterable[LinkRow], size: int) -> Iterator[list[LinkRow]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def merge_links(
    rows: Iterable[LinkRow],
    *,
    publisher: PublisherKey | None = None,
    created_by: User | None = None,
    consent_source: str = Consent.Source.SNAPSHOT,
    batch_size: int = 2000,
) -> MergeStats:
    """Add or strengthen links, batch by batch, then settle winners and conflicts.

    Memory stays bounded by `batch_size` whatever the number of rows. Each
    batch is one transaction: a failure leaves earlier batches merged (callers
    that need all-or-nothing wrap the call in `transaction.atomic`).
    """
    stats = MergeStats()
    for batch in _batches(rows, batch_size):
        with transaction.atomic():
            stats += _merge_batch(batch, publisher, created_by, consent_source)
    return stats


def _merge_batch(
    batch: list[LinkRow],
    publisher: PublisherKey | None,
    created_by: User | None,
    consent_source: str,
) -> MergeStats:
    stats = MergeStats()
    _upsert_x_accounts(batch)
    accounts = _upsert_network_accounts(batch)
    # One assertion per (X account, network account): the strongest, then the newest.
    best: dict[tuple[int, int], LinkRow] = {}
    for row in batch:
        key = (row.x_id, accounts[row.network, row.handle].pk)
        held = best.get(key)
        if held is None or (row.evidence.strength, row.asserted_at) > (
            held.evidence.strength,
            held.asserted_at,
        ):
            best[key] = row
    existing = {
        (link.x_account_id, link.network_account_id): link
        for link in Link.objects.filter(
            x_account_id__in={k[0] for k in best},
            network_account_id__in={k[1] for k in best},
        )
    }
    new, changed = [], []
    now = timezone.now()
    for (x_id, account_id), row in best.items():
        link = existing.get((x_id, account_id))
        if link is None:
            new.append(
                Link(
                    x_account_id=x_id,
                    network=row.network,
                    network_account_id=account_id,
                    evidence=row.evidence,
                    strength=row.evidence.strength,
                    state=Link.State.CURRENT,
                    asserted_by=row.asserted_by,
                    asserted_at=row.asserted_at,
                    x_username=_proven_username(row),
                    publisher=publisher,
                    created_by=created_by,
                    updated_at=now,
                )
            )
        elif (row.evidence.strength, row.asserted_at) > (link.strength, link.asserted_at):
            link.evidence = row.evidence
            link.strength = row.evidence.strength
            link.asserted_by = row.asserted_by
            link.asserted_at = row.asserted_at
            link.x_username = _proven_username(row)
            link.publisher = publisher
            link.updated_at = now
            changed.append(link)
        else:
            stats.unchanged += 1
    _insert(Link, new, unique=None)
    Link.objects.bulk_update(
        changed,
        [
            "evidence",
            "strength",
            "asserted_by",
            "asserted_at",
            "x_username",
            "publisher",
            "updated_at",
        ],
        batch_size=500,
    )
    stats.created += len(new)
    stats.strengthened += len(changed)
    _merge_consents([r for r in batch if r.consent is not None], consent_source)
    x_ids = {row.x_id for row in batch}
    settle(x_ids)
    stats.x_ids = x_ids
    return stats


def _proven_username(row: LinkRow) -> str:
    """The X username a link keeps: only X's own (x_oauth) or an institution's
    for its own accounts (roster). Anyone else's word (an archive, a snapshot)
    never lets a roster resolve a username to an X id."""
    if row.evidence in (Evidence.X_OAUTH, Evidence.ROSTER):
        return row.x_username.lower()
    return ""


def _insert(
    model: type[models.Model],
    objs: list[models.Model],
    *,
    unique: Sequence[str] | None = ("pk",),
    update: Sequence[str] = (),
) -> None:
    """`bulk_create` for big merges, without the ORM building SQL for every value.

    One statement built once, run by `executemany`: plain inserts
    (`unique=None`), conflicts ignored (`unique` without `update`), or
    `update` columns refreshed on conflict. Values are converted as the ORM
    would (auto_now, database datetimes, choices as their values); no ids
    are read back, so only for rows nobody needs the new id of.
    """
    if not objs:
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not isinstance(f, models.AutoField)]
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {meta.db_table} ({cols}) VALUES ({marks})"
    if unique is not None:
        keys = ", ".join(meta.pk.column if u == "pk" else meta.get_field(u).column for u in unique)
        if update:
            sets = ", ".join(
                f"{meta.get_field(u).column} = excluded.{meta.get_field(u).column}" for u in update
            )
            sql += f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT ({keys}) DO NOTHING"
    plan = [
        (
            f.attname,
            getattr(f, "auto_now", False),
            isinstance(f, models.DateTimeField),
        )
        for f in fields
    ]
    rows = []
    for obj in objs:
        row = []
        for attname, auto_now, is_datetime in plan:
            value = now if auto_now else getattr(obj, attname)
            if isinstance(value, enum.Enum):
                value = value.value
            elif is_datetime and value is not None:
                value = adapt(value)
            row.append(value)
        rows.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _upsert_x_accounts(batch: list[LinkRow]) -> None:
    names = {r.x_id: r.x_username for r in batch if r.x_username}
    _insert(
        XAccount,
        [XAccount(id=x, username=n) for x, n in names.items()],
        unique=["id"],
        update=["username"],
    )
    _insert(XAccount, [XAccount(id=x) for x in {r.x_id for r in batch} - names.keys()])


def _upsert_network_accounts(batch: list[LinkRow]) -> dict[tuple[str, str], NetworkAccount]:
    """The network account each row names, created or updated; keyed by (network, handle).

    A URI (actor URI, DID) is the stable identity; a handle can move (Bluesky
    handles are domain names). When a handle now belongs to another URI, the
    old account keeps its URI and loses the handle.
    """
    wanted: dict[tuple[str, str], str] = {}
    for r in batch:
        if r.uri or (r.network, r.handle) not in wanted:
            wanted[r.network, r.handle] = r.uri
    result: dict[tuple[str, str], NetworkAccount] = {}
    for network in NETWORKS:
        handles = {h: u for (n, h), u in wanted.items() if n == network}
        if not handles:
            continue
        uris = {u for u in handles.values() if u}
        found = NetworkAccount.objects.filter(
            Q(handle__in=handles.keys()) | Q(uri__in=uris), network=network
        )
        by_handle = {a.handle: a for a in found}
        by_uri = {a.uri: a for a in found if a.uri}
        freed, renamed, to_create = [], [], []
        for handle, uri in handles.items():
            holder = by_handle.get(handle)
            account = by_uri.get(uri) if uri else holder
            if account is None and holder is not None and not holder.uri:
                account = holder  # the handle was known before its URI
            if holder is not None and account is not holder:
                holder.handle = holder.uri or f"{holder.handle}~{holder.pk}"
                freed.append(holder)
            if account is None:
                to_create.append(NetworkAccount(network=network, handle=handle, uri=uri))
                continue
            if account.handle != handle or (uri and account.uri != uri):
                account.handle, account.uri = handle, uri or account.uri
                renamed.append(account)
            result[network, handle] = account
        # Free handles first, so that the unique (network, handle) holds throughout.
        NetworkAccount.objects.bulk_update(freed, ["handle"])
        NetworkAccount.objects.bulk_update(renamed, ["handle", "uri"])
        _insert(NetworkAccount, to_create, unique=None)
        if to_create:  # the new ids, in one query (executemany returns none)
            ids = dict(
                NetworkAccount.objects.filter(
                    network=network, handle__in=[a.handle for a in to_create]
                ).values_list("handle", "id")
            )
            for account in to_create:
                account.pk = ids[account.handle]
                result[network, account.handle] = account
    if any(a.pk is None for a in result.values()):  # backends that return no ids
        for key, account in result.items():
            if account.pk is None:
                result[key] = NetworkAccount.objects.get(network=key[0], handle=key[1])
    return result


def _merge_consents(rows: list[LinkRow], source: str) -> None:
    """Consents vouched for by a roster or snapshot; never overrides one given here."""
    if not rows:
        return
    wanted = {r.x_id: r.consent for r in rows}
    existing = {c.x_account_id: c for c in Consent.objects.filter(x_account_id__in=wanted)}
    new, changed = [], []
    for x_id, (findable, followable, follows) in wanted.items():
        consent = existing.get(x_id)
        if consent is None:
            new.append(
                Consent(
                    x_account_id=x_id,
                    findable=findable,
                    auto_followable=followable,
                    auto_follow_arrivals=follows,
                    source=source,
                )
            )
        elif consent.source != Consent.Source.LOCAL:
            consent.findable, consent.auto_followable = findable, followable
            consent.auto_follow_arrivals, consent.source = follows, source
            changed.append(consent)
    _insert(Consent, new, unique=None)
    Consent.objects.bulk_update(
        changed, ["findable", "auto_followable", "auto_follow_arrivals", "source"]
    )


def settle(x_ids: Iterable[int], *, chunk: int = 1000) -> None:
    """Recompute which link wins for these X accounts, and record conflicts.

    Per (X account, network): among links not rejected, the strongest is
    `current`; several at the top strength are all `contested`; the rest are
    `superseded`. Two or more candidates make an open conflict.
    """
    ids = list(x_ids)
    for start in range(0, len(ids), chunk):
        _settle_chunk(ids[start : start + chunk])
    directory_changed.send(sender=Link, x_ids=ids)


def _settle_chunk(x_ids: list[int]) -> None:
    groups: dict[tuple[int, str], list[tuple[int, int, str]]] = defaultdict(list)
    rows = (
        Link.objects.filter(x_account_id__in=x_ids)
        .exclude(state=Link.State.REJECTED)
        .values_list("x_account_id", "network", "id", "strength", "state")
    )
    for x_id, network, link_id, strength, state in rows:
        groups[x_id, network].append((link_id, strength, state))
    moves: dict[str, list[int]] = defaultdict(list)
    conflicts: dict[tuple[int, str], tuple[int | None, int]] = {}
    for key, links in groups.items():
        top = max(s for _, s, _ in links)
        leaders = [link_id for link_id, s, _ in links if s == top]
        for link_id, strength, state in links:
            target = (
                Link.State.SUPERSEDED
                if strength < top
                else Link.State.CURRENT
                if len(leaders) == 1
                else Link.State.CONTESTED
            )
            if state != target:
                moves[target].append(link_id)
        if len(links) > 1:
            conflicts[key] = (leaders[0] if len(leaders) == 1 else None, len(links))
    for state, link_ids in moves.items():
        Link.objects.filter(id__in=link_ids).update(state=state, updated_at=timezone.now())
    if not conflicts:
        return
    known = {
        (c.x_account_id, c.network): c
        for c in LinkConflict.objects.filter(x_account_id__in={k[0] for k in conflicts})
    }
    new, changed = [], []
    for (x_id, network), (winner, count) in conflicts.items():
        conflict = known.get((x_id, network))
        if conflict is None:
            new.append(
                LinkConflict(x_account_id=x_id, network=network, winner_id=winner, contenders=count)
            )
        elif (conflict.winner_id, conflict.contenders, conflict.resolved_at) != (
            winner,
            count,
            None,
        ):
            conflict.winner_id, conflict.contenders, conflict.resolved_at = winner, count, None
            conflict.resolved_by = None
            conflict.updated_at = timezone.now()
            changed.append(conflict)
    LinkConflict.objects.bulk_create(new)
    LinkConflict.objects.bulk_update(
        changed, ["winner", "contenders", "resolved_at", "resolved_by", "updated_at"]
    )


def assert_link(
    x_id: object,
    network: str,
    handle: str,
    uri: str = "",
    *,
    evidence: str | Evidence,
    asserted_by: str,
    asserted_at: datetime | None = None,
    x_username: str = "",
    created_by: User | None = None,
) -> Link:
    """Record one link (a person's own word, a portal's X sign-in…) and settle it."""
    row = LinkRow.make(
        x_id,
        network,
        handle,
        uri,
        evidence=evidence,
        asserted_by=asserted_by,
        asserted_at=asserted_at,
        x_username=x_username,
    )
    merge_links([row], created_by=created_by)
    return Link.objects.select_related("network_account").get(
        x_account_id=row.x_id,
        network_account__network=row.network,
        network_account__handle=row.handle,
    )


def set_consent(
    x_id: object,
    *,
    findable: bool,
    auto_followable: bool,
    auto_follow_arrivals: bool,
    given_by: User | None = None,
) -> Consent:
    """Record the three separate choices of the person behind an X account."""
    x = parse_x_id(x_id)
    XAccount.objects.get_or_create(id=x)
    consent, _ = Consent.objects.update_or_create(
        x_account_id=x,
        defaults={
            "findable": findable,
            "auto_followable": auto_followable,
            "auto_follow_arrivals": auto_follow_arrivals,
            "source": Consent.Source.LOCAL,
            "given_by": given_by,
        },
    )
    directory_changed.send(sender=Consent, x_ids=[x])
    return consent


@transaction.atomic
def resolve_conflict(
    conflict: LinkConflict, keep: Link | None = None, *, by: User | None = None
) -> Link:
    """Close a conflict by keeping one link (default: the winner) and rejecting its rivals.

    Raises InvalidLink on a tie when no link is named: someone has to choose.
    """
    keep = keep or conflict.winner
    if keep is None:
        raise InvalidLink(
            f"The links of X account {conflict.x_account_id} on {conflict.network} are tied: "
            "choose the one to keep."
        )
    if (keep.x_account_id, keep.network) != (conflict.x_account_id, conflict.network):
        raise InvalidLink("That link is not part of this conflict.")
    rivals = Link.objects.filter(x_account_id=keep.x_account_id, network=keep.network).exclude(
        pk=keep.pk
    )
    rivals.update(state=Link.State.REJECTED, updated_at=timezone.now())
    Link.objects.filter(pk=keep.pk).update(state=Link.State.CURRENT, updated_at=timezone.now())
    conflict.winner = keep
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = by
    conflict.save()
    keep.refresh_from_db()
    return keep


def reject_link(link: Link) -> None:
    """Take a link out of matching for good (an administrator does not believe it)."""
    Link.objects.filter(pk=link.pk).update(state=Link.State.REJECTED, updated_at=timezone.now())
    settle([link.x_account_id])
