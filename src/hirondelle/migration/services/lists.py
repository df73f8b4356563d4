"""Rebuilding the X lists a person created on their new accounts.

An X archive gives each list's address only (`https://twitter.com/i/lists/<id>`):
no name, no members. So the person names each list and chooses its members
among the people of their graph who were *found* on the target network (the
same usable links the follows use), optionally by pasting X handles. Nothing
else is guessed.

How it runs: saving a rebuild writes a `ListRebuild` row and one `list_add`
plan item per member (deterministic keys: saving again adds only what is
new). The list itself is created lazily by the runner, just before the first
member is added (`prepare_list_adds`), and its remote id is stored on the
row, so it is created once: Bluesky's record key derives from the rebuild's
key, and Mastodon reuses a list with the same title. Mastodon only lets you
add accounts you follow to a list, so on Mastodon a follow item is planned
for each member and the member waits for it.

Lists the person was a member of or subscribed to are someone else's: there
is nothing to rebuild on the person's side; they are only shown.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from hirondelle.identity.models import x_id_from_db, x_id_to_db
from hirondelle.migration.models import (
    ConnectedAccount,
    Direction,
    Edge,
    ImportedList,
    ListRebuild,
    Migration,
    PlanItem,
)
from hirondelle.migration.services.keys import item_key
from hirondelle.migration.services.matching import iter_matches
from hirondelle.migration.services.names import ids_for_usernames, names_for
from hirondelle.networks.base import ActionKind, Network

__all__ = [
    "Candidate",
    "ListsError",
    "ListsOverview",
    "NotFound",
    "RebuildResult",
    "Resolution",
    "candidates",
    "default_name",
    "find_list",
    "lists_overview",
    "parse_handles",
    "prepare_list_adds",
    "progress",
    "resolve_handles",
    "save_rebuild",
    "x_list_id",
]

#: Bluesky list names take 64 graphemes; Mastodon titles are short too.
MAX_NAME = 64
#: how long a Mastodon member waits, at least, for its follow to be done
FOLLOW_WAIT = timedelta(seconds=30)
#: the people a list may hold: those the person follows or who follow them
MEMBER_DIRECTIONS = (Direction.FOLLOWING, Direction.FOLLOWERS)

_LIST_ID = re.compile(r"(?:/i/lists/|^)(\d{1,25})/?$")
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_PROFILE = re.compile(
    r"^(?:https?://)?(?:www\.|mobile\.)?(?:twitter\.com|x\.com)/(?:#!/)?@?([A-Za-z0-9_]{1,15})"
    r"(?:[/?#].*)?$",
    re.IGNORECASE,
)
#: x.com paths that are not profiles
_NOT_PROFILES = {"i", "home", "search", "explore", "settings", "intent", "share", "hashtag"}


class ListsError(ValueError):
    """A rebuild that cannot be saved as asked; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One person of the graph found on the target network."""

    x_id: int
    x_username: str  # "" when the directory does not know their X handle
    handle: str  # on the target network
    target_id: str  # actor URI or DID ("" while only the handle is known)
    usable: bool  # False: the match awaits the person's review
    directions: tuple[str, ...]

    @property
    def target(self) -> str:
        return self.target_id or self.handle


@dataclass(frozen=True, slots=True)
class NotFound:
    line: str
    reason: str  # a machine word: invalid, unknown, not_in_graph, not_on_network, needs_review
    message: str


@dataclass
class Resolution:
    found: list[Candidate] = field(default_factory=list)
    not_found: list[NotFound] = field(default_factory=list)


@dataclass
class RebuildResult:
    rebuild: ListRebuild
    added: int = 0  # members newly planned
    revived: int = 0  # members removed earlier and chosen again
    removed: int = 0  # members dropped before they were added
    kept_on_network: int = 0  # dropped, but already added: remove them there
    follows_planned: int = 0  # Mastodon: follows a member needs first
    members: int = 0


@dataclass
class ListsOverview:
    created: list[ImportedList] = field(default_factory=list)
    member: list[ImportedList] = field(default_factory=list)
    subscribed: list[ImportedList] = field(default_factory=list)


def x_list_id(value: str) -> str:
    """The numeric id of an X list, from its id or address."""
    found = _LIST_ID.search(value.strip())
    if not found:
        raise ListsError(
            _(
                "%(value)s is not an X list: give its number or its address, "
                "e.g. https://twitter.com/i/lists/1234567890"
            )
            % {"value": repr(value)}
        )
    return found.group(1)


def default_name(imported: ImportedList) -> str:
    """The name shown before the person gives one: the archive has none."""
    return f"X list {x_list_id(imported.url)}"


def lists_overview(migration: Migration) -> ListsOverview:
    """The migration's present lists, by kind."""
    out = ListsOverview()
    rows = ImportedList.objects.filter(migration=migration, gone_at__isnull=True).order_by("url")
    for row in rows.prefetch_related("rebuilds__account"):
        getattr(out, row.kind).append(row)
    return out


def find_list(migration: Migration, value: str) -> ImportedList:
    """One list the person created, by id or address; another's list is not found."""
    wanted = x_list_id(value)
    for row in ImportedList.objects.filter(
        migration=migration, kind="created", gone_at__isnull=True
    ):
        if x_list_id(row.url) == wanted:
            return row
    raise ListsError(
        _(
            "No list %(id)s among the lists you created (see `hirondelle lists`): "
            "lists you were a member of or subscribed to belong to someone else."
        )
        % {"id": wanted}
    )


def _approved(account: ConnectedAccount) -> set[str]:
    """X ids the person already chose to follow on this account (after review, too)."""
    return set(
        PlanItem.objects.filter(account=account, kind=ActionKind.FOLLOW)
        .exclude(state=PlanItem.State.SKIPPED)
        .values_list("x_id", flat=True)
    )


def candidates(
    migration: Migration, account: ConnectedAccount, *, include_review: bool = False
) -> list[Candidate]:
    """The people of the graph found on the account's network, by X username.

    Only usable matches (at or above the trust threshold, or already
    approved for a follow) unless `include_review`: those come back with
    `usable=False`, to explain why someone cannot be chosen yet.
    """
    approved = _approved(account)
    by_id: dict[int, Candidate] = {}
    for m in iter_matches(migration, directions=MEMBER_DIRECTIONS):
        if m.network != account.network:
            continue
        usable = m.auto or str(m.x_id) in approved
        old = by_id.get(m.x_id)
        if old is not None:
            directions = (*old.directions, m.direction)
            usable = usable or old.usable
        else:
            directions = (m.direction,)
        by_id[m.x_id] = Candidate(m.x_id, "", m.handle, m.account_uri, usable, directions)
    names = names_for(migration, by_id)
    found = [
        Candidate(
            c.x_id,
            names[c.x_id].username if c.x_id in names else "",
            c.handle,
            c.target_id,
            c.usable,
            c.directions,
        )
        for c in by_id.values()
        if c.usable or include_review
    ]
    return sorted(found, key=lambda c: ((c.x_username or c.handle).lower(), c.x_id))


def parse_handles(text: str) -> tuple[list[str], list[NotFound]]:
    """X usernames from pasted text or a CSV: one `@handle` or profile address per line.

    In a CSV the first cell of each row counts; a header row ("handle",
    "username"…) and `#` comments are skipped.
    """
    handles: list[str] = []
    bad: list[NotFound] = []
    for row in csv.reader(io.StringIO(text)):
        cell = row[0].strip() if row else ""
        if not cell or cell.startswith("#"):
            continue
        if cell.lower().lstrip("@") in {"handle", "username", "screen_name", "account"}:
            continue
        profile = _PROFILE.match(cell)
        name = profile.group(1) if profile else cell.lstrip("@")
        if not _HANDLE.match(name) or name.lower() in _NOT_PROFILES:
            bad.append(
                NotFound(
                    cell,
                    "invalid",
                    "not an X handle or profile address (write @name or https://x.com/name)",
                )
            )
            continue
        if name.lower() not in {h.lower() for h in handles}:
            handles.append(name)
    return handles, bad


def resolve_handles(migration: Migration, account: ConnectedAccount, text: str) -> Resolution:
    """Match pasted X handles to people of the graph found on the account's network.

    Archives list bare X ids: each handle is looked up among the names the
    person's own posts gave (then in the directory), then in the person's
    graph, then among the matches; whoever fails a step is reported with why.
    """
    handles, bad = parse_handles(text)
    out = Resolution(not_found=list(bad))
    if not handles:
        return out
    lowered = {h.lower(): h for h in handles}
    ids = ids_for_usernames(migration, lowered)
    in_graph = set(
        Edge.objects.filter(
            migration=migration,
            gone_at__isnull=True,
            direction__in=[int(d) for d in MEMBER_DIRECTIONS],
            x_account_id__in=[x_id_to_db(x) for x in ids.values()],
        ).values_list("x_account_id", flat=True)
    )
    in_graph = {x_id_from_db(x) for x in in_graph}
    found = {c.x_id: c for c in candidates(migration, account, include_review=True)}
    network = account.get_network_display()
    for low, original in lowered.items():
        line = f"@{original}"
        x_id = ids.get(low)
        if x_id is None:
            out.not_found.append(
                NotFound(line, "unknown", "nobody has linked this X account to a new account yet")
            )
        elif x_id not in in_graph:
            out.not_found.append(
                NotFound(
                    line,
                    "not_in_graph",
                    "not among the people you follow or who follow you in your archive",
                )
            )
        elif x_id not in found:
            out.not_found.append(NotFound(line, "not_on_network", f"not found on {network} (yet)"))
        elif not found[x_id].usable:
            out.not_found.append(
                NotFound(
                    line,
                    "needs_review",
                    "found, but the match needs your review first (the evidence is weak)",
                )
            )
        else:
            out.found.append(found[x_id])
    return out


def _rebuild_key(account: ConnectedAccount, imported: ImportedList) -> str:
    return item_key(account.pk, "list", imported.url)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ListsError(_("Give the list a name: the X archive does not have it."))
    if len(name) > MAX_NAME:
        raise ListsError(
            _("List names take %(max)d characters at most (%(n)d given).")
            % {"max": MAX_NAME, "n": len(name)}
        )
    return name


def save_rebuild(
    imported: ImportedList,
    account: ConnectedAccount,
    *,
    name: str,
    members: Iterable[int | str],
) -> RebuildResult:
    """Plan this list on this account with exactly these members (X ids).

    Idempotent: saving again adds only new members; members dropped before
    they were added are skipped; members already added stay (removing them
    is done on the network). Every member must be a usable candidate.
    """
    migration = imported.migration
    if imported.kind != "created" or imported.gone_at is not None:
        raise ListsError(_("Only the lists you created (and still have) can be rebuilt."))
    if account.user_id != migration.owner_id:
        raise ListsError(_("That account is not yours."))
    name = _clean_name(name)
    wanted = [int(x) for x in members]
    pool = {c.x_id: c for c in candidates(migration, account)}
    strangers = [x for x in wanted if x not in pool]
    if strangers:
        raise ListsError(
            _(
                "%(n)d chosen member(s) are not among the people found on %(network)s "
                "(X ids %(ids)s)."
            )
            % {
                "n": len(strangers),
                "network": account.get_network_display(),
                "ids": ", ".join(map(str, strangers[:5])),
            }
        )
    chosen = [pool[x] for x in dict.fromkeys(wanted)]
    twin = (
        ListRebuild.objects.filter(account=account, name=name)
        .exclude(imported_list=imported)
        .first()
    )
    if twin is not None:
        # Mastodon finds a list again by its title: two lists, one name would merge.
        raise ListsError(
            _(
                "Another of your lists (%(url)s) is already called %(name)s on "
                "%(handle)s: choose another name."
            )
            % {"url": twin.imported_list.url, "name": repr(name), "handle": account.handle}
        )
    now = timezone.now()
    with transaction.atomic():
        rebuild, _created = ListRebuild.objects.get_or_create(
            imported_list=imported,
            account=account,
            defaults={"name": name, "key": _rebuild_key(account, imported)},
        )
        if rebuild.name != name and not rebuild.remote_list_id:
            rebuild.name = name  # not created yet: the new name is the one used
            rebuild.save(update_fields=["name", "updated_at"])
        result = RebuildResult(rebuild, members=len(chosen))
        if account.network == Network.MASTODON:
            result.follows_planned = _ensure_follows(account, chosen, now)
        result.added, result.revived = _plan_members(rebuild, chosen, now)
        result.removed, result.kept_on_network = _drop_members(rebuild, {c.x_id for c in chosen})
    return result


def _ensure_follows(account: ConnectedAccount, chosen: Sequence[Candidate], now) -> int:
    """Mastodon refuses list members one does not follow: plan the follow too."""
    items = [
        PlanItem(
            account=account,
            kind=ActionKind.FOLLOW,
            origin=PlanItem.Origin.ARCHIVE,
            x_id=str(c.x_id),
            target_id=c.target_id,
            target_handle=c.handle,
            key=item_key(account.pk, ActionKind.FOLLOW, c.target),
            next_attempt_at=now,
        )
        for c in chosen
    ]
    before = PlanItem.objects.filter(account=account, kind=ActionKind.FOLLOW).count()
    PlanItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
    return PlanItem.objects.filter(account=account, kind=ActionKind.FOLLOW).count() - before


def _member_key(rebuild: ListRebuild, c: Candidate) -> str:
    return item_key(rebuild.account_id, ActionKind.LIST_ADD, c.target, rebuild.imported_list.url)


def _members(rebuild: ListRebuild):
    return PlanItem.objects.filter(
        account=rebuild.account, kind=ActionKind.LIST_ADD, payload__rebuild=rebuild.pk
    )


def _plan_members(rebuild: ListRebuild, chosen: Sequence[Candidate], now) -> tuple[int, int]:
    payload = {"rebuild": rebuild.pk}
    if rebuild.remote_list_id:
        payload["list_id"] = rebuild.remote_list_id
    items = [
        PlanItem(
            account=rebuild.account,
            kind=ActionKind.LIST_ADD,
            origin=PlanItem.Origin.ARCHIVE,
            x_id=str(c.x_id),
            target_id=c.target_id,
            target_handle=c.handle,
            list_name=rebuild.name,
            position=position,
            payload=payload,
            key=_member_key(rebuild, c),
            next_attempt_at=now,
        )
        for position, c in enumerate(chosen)
    ]
    before = _members(rebuild).count()
    PlanItem.objects.bulk_create(items, batch_size=1000, ignore_conflicts=True)
    added = _members(rebuild).count() - before
    revived = (
        _members(rebuild)
        .filter(state=PlanItem.State.SKIPPED, x_id__in=[str(c.x_id) for c in chosen])
        .update(state=PlanItem.State.PENDING, next_attempt_at=now, last_error="", attempts=0)
    )
    return added, revived


def _drop_members(rebuild: ListRebuild, keep: set[int]) -> tuple[int, int]:
    dropped = _members(rebuild).exclude(x_id__in=[str(x) for x in keep])
    removed = dropped.filter(state=PlanItem.State.PENDING).update(
        state=PlanItem.State.SKIPPED, last_error="removed from the list before it was added"
    )
    kept = dropped.filter(state=PlanItem.State.DONE).count()
    return removed, kept


def progress(rebuild: ListRebuild) -> dict[str, int]:
    """Member counts by state (pending, in_flight, done, failed, skipped)."""
    rows = _members(rebuild).values("state").annotate(n=Count("id")).order_by()
    return dict(Counter({row["state"]: row["n"] for row in rows}))


# --- in the runner -------------------------------------------------------------


def prepare_list_adds(
    adapter, account: ConnectedAccount, items: list[PlanItem], out, now: datetime
):
    """Called by the runner before adding members: create each list once, and
    on Mastodon hold back members whose follow is not done yet.

    Returns the items ready to hand to the adapter. Held-back items go back
    to pending for later; members whose follow failed fail with that reason.
    Network errors (creating a list) propagate: the runner retries the batch.
    """
    rebuilds = {
        r.pk: r
        for r in ListRebuild.objects.filter(
            pk__in={i.payload.get("rebuild") for i in items if i.payload.get("rebuild")}
        )
    }
    ready: list[PlanItem] = []
    for item in items:
        rebuild = rebuilds.get(item.payload.get("rebuild"))
        if rebuild is None and item.payload.get("list_id"):
            ready.append(item)  # a list_add planned some other way, with its list_id
            continue
        if rebuild is None:  # its rebuild was deleted (the migration erased)
            item.state = PlanItem.State.SKIPPED
            item.last_error = "its list was deleted before the member was added"
            item.locked_until = None
            item.save(update_fields=["state", "last_error", "locked_until"])
            continue
        if not _follow_ready(account, item, out, now):
            continue
        if not rebuild.remote_list_id:
            _create_list(adapter, rebuild)
        if item.payload.get("list_id") != rebuild.remote_list_id:
            item.payload = {**item.payload, "list_id": rebuild.remote_list_id}
            item.save(update_fields=["payload"])
        ready.append(item)
    return ready


def _create_list(adapter, rebuild: ListRebuild) -> None:
    """Create (or find again) the list on the network and remember it first thing."""
    if adapter.network == Network.BLUESKY:
        remote = adapter.create_list(rebuild.name, key=rebuild.key)
    else:  # Mastodon reuses a list with the same title
        remote = adapter.create_list(rebuild.name)
    rebuild.remote_list_id = remote
    rebuild.list_created_at = timezone.now()
    rebuild.save(update_fields=["remote_list_id", "list_created_at", "updated_at"])


def _follow_ready(account: ConnectedAccount, item: PlanItem, out, now: datetime) -> bool:
    if account.network != Network.MASTODON:
        return True
    # planned with the actor URI, or with the handle while the URI was unknown
    keys = {
        item_key(account.pk, ActionKind.FOLLOW, t) for t in (item.target_id, item.target_handle)
    }
    follow = (
        PlanItem.objects.filter(account=account, kind=ActionKind.FOLLOW, key__in=keys)
        .only("state", "next_attempt_at", "last_error")
        .first()
    )
    if follow is None or follow.state == PlanItem.State.DONE:
        return True
    if follow.state in (PlanItem.State.FAILED, PlanItem.State.SKIPPED):
        item.state = PlanItem.State.FAILED
        item.last_error = (
            "Mastodon adds to a list only people you follow, and the follow did not happen"
            + (f": {follow.last_error}" if follow.last_error else ".")
        )
        out.failed += 1
    else:
        item.state = PlanItem.State.PENDING
        item.next_attempt_at = max(follow.next_attempt_at, now) + FOLLOW_WAIT
        out.retried += 1
    item.locked_until = None
    item.save(update_fields=["state", "last_error", "next_attempt_at", "locked_until"])
    return False
