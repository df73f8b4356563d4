"""Carry out a connected account's plan items, exactly once, within its budget.

Concurrency model: a worker first takes the account's *lease* (a conditional
UPDATE, so it works the same on SQLite and PostgreSQL); only the lease holder
advances that account, so its budget is never spent twice. Inside the lease,
each batch of items is marked in flight with a lock expiry before the network
is called, and marked done with the remote id right after. A worker killed in
between leaves items in flight; once their lock expires they are taken again,
and the network is asked first (relationships, deterministic record keys,
idempotency keys) so nothing is done twice.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from hirondelle.config import get_settings
from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services.adapters import adapter_for, save_budget
from hirondelle.migration.services.lists import prepare_list_adds
from hirondelle.migration.services.publishing import publish_item
from hirondelle.networks.base import Action, ActionKind, ActionResult, Adapter, RemoteAccount
from hirondelle.networks.errors import AuthExpired, NetworkError, RateLimited, Transient

__all__ = [
    "AdvanceResult",
    "advance",
    "hold_period",
    "holder_is_gone",
    "lease_owner_id",
    "lease_wait",
    "release_lease",
    "take_lease",
]

#: Protect the person first (blocks, mutes), then reconnect, then publish.
KIND_ORDER = [
    ActionKind.BLOCK,
    ActionKind.MUTE,
    ActionKind.FOLLOW,
    ActionKind.LIST_ADD,
    ActionKind.POST,
]
MAX_ATTEMPTS = 8


def hold_period() -> timedelta:
    """How long a worker may hold an account or an item before others assume
    it died: renewed at every batch, so a killed run blocks the next one for
    at most this long."""
    return timedelta(seconds=get_settings().item_lock_seconds)


@dataclass
class AdvanceResult:
    done: int = 0
    already_done: int = 0
    failed: int = 0
    retried: int = 0
    next_wake: datetime | None = None  # None: nothing left to do
    stopped: str = ""  # why the account cannot go on (auth expired…)
    waiting_for: str = ""  # another run holds the account: what, and until when
    by_kind: dict[str, int] = field(default_factory=dict)


@functools.cache
def _machine() -> str:
    """This machine and pid namespace, in 12 hex digits: pids are only comparable within it."""
    parts = [socket.gethostname()]
    with contextlib.suppress(OSError):
        parts.append(Path("/proc/sys/kernel/random/boot_id").read_text().strip())
    with contextlib.suppress(OSError):  # containers on one host share the boot id, not pids
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


def lease_owner_id() -> str:
    """A lease owner that names its process: `pid@machine:random` (fits the 64-char column)."""
    return f"{os.getpid()}@{_machine()}:{uuid.uuid4().hex[:16]}"


_OWNER = re.compile(r"(\d+)@([0-9a-f]{12}):[0-9a-f]+")


def _holder(owner: str) -> tuple[int, bool] | None:
    """(pid, on this machine) of a lease owner made by `lease_owner_id`, else None."""
    m = _OWNER.fullmatch(owner or "")
    return (int(m.group(1)), m.group(2) == _machine()) if m else None


def holder_is_gone(owner: str) -> bool:
    """Whether the process holding a lease is provably dead.

    Only on this machine (same host, boot and pid namespace) can that be
    known: its pid no longer runs, or is a zombie. Anything else (another
    machine, an owner of another form, no permission to ask) counts as alive,
    and its lease is only taken once it expires.
    """
    holder = _holder(owner)
    if holder is None or not holder[1] or os.name != "posix":
        return False  # on Windows, signal 0 would be CTRL_C_EVENT
    pid = holder[0]
    if pid == os.getpid():
        return False  # this very process: another thread of it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    try:  # killed but not yet reaped by its parent: dead all the same
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def take_lease(account: ConnectedAccount, owner: str, now: datetime) -> bool:
    """Take (or renew) the account's lease; at once if its holder is provably gone.

    A run killed on this machine leaves its lease and its items in flight:
    waiting for them to expire would keep the next run idle for minutes,
    so when the holder's process is dead, both are taken over now (the items
    are checked on the network before anything is redone).
    """
    taken = (
        ConnectedAccount.objects.filter(pk=account.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner))
        .update(lease_owner=owner, lease_until=now + hold_period())
    )
    if taken == 1:
        return True
    holder = (
        ConnectedAccount.objects.filter(pk=account.pk).values_list("lease_owner", flat=True).first()
    )
    if not holder or not holder_is_gone(holder):
        return False
    with transaction.atomic():
        taken = ConnectedAccount.objects.filter(pk=account.pk, lease_owner=holder).update(
            lease_owner=owner, lease_until=now + hold_period()
        )
        if taken:  # only the lease holder takes items: those in flight were the dead run's
            PlanItem.objects.filter(account_id=account.pk, state=PlanItem.State.IN_FLIGHT).update(
                locked_until=now - timedelta(seconds=1)
            )
    return taken == 1


def lease_wait(account: ConnectedAccount, now: datetime) -> tuple[datetime, str]:
    """When the lease frees up, and what holds it, in words for the person."""
    row = (
        ConnectedAccount.objects.filter(pk=account.pk).values("lease_owner", "lease_until").first()
    )
    until = (row or {}).get("lease_until") or now + hold_period()
    holder = _holder((row or {}).get("lease_owner") or "")
    if holder is None:
        who = "another worker"
    elif holder[1]:
        who = f"another run (process {holder[0]} on this computer)"
    else:
        who = f"another run (process {holder[0]} on another computer)"
    seconds = max(0, round((until - now).total_seconds()))
    return until, (
        f"waiting for {who}, which is working on this account: taken over in {seconds} s "
        f"(at {until:%H:%M:%S} UTC) unless it carries on"
    )


def release_lease(account: ConnectedAccount, owner: str) -> None:
    ConnectedAccount.objects.filter(pk=account.pk, lease_owner=owner).update(
        lease_owner="", lease_until=None
    )


def _claim(account: ConnectedAccount, kind: str, count: int, now: datetime) -> list[PlanItem]:
    lock = now + hold_period()
    with transaction.atomic():
        qs = PlanItem.objects.due(now).filter(account=account, kind=kind)
        if connection.features.has_select_for_update_skip_locked:  # PostgreSQL
            qs = qs.select_for_update(skip_locked=True)
        items = list(qs.order_by("position", "id")[:count])
        PlanItem.objects.filter(pk__in=[i.pk for i in items]).update(
            state=PlanItem.State.IN_FLIGHT, locked_until=lock
        )
    return items


def _action(item: PlanItem) -> Action:
    target = RemoteAccount(
        network=item.account.network,
        id=item.target_id,
        handle=item.target_handle,
        local_id=item.payload.get("local_id"),
    )
    return Action(
        kind=ActionKind(item.kind), target=target, key=item.key, list_id=item.payload.get("list_id")
    )


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _record(item: PlanItem, result: ActionResult, now: datetime, out: AdvanceResult) -> None:
    if result.ok:
        item.state = PlanItem.State.DONE
        item.remote_id = result.remote_id or item.remote_id
        item.done_at = now
        item.last_error = ""
        if result.already_done:
            out.already_done += 1
        else:
            out.done += 1
        out.by_kind[item.kind] = out.by_kind.get(item.kind, 0) + 1
    elif isinstance(result.error, RateLimited):
        # Not the item's fault: try again when the window opens, no attempt spent.
        item.state = PlanItem.State.PENDING
        item.next_attempt_at = now + timedelta(seconds=result.error.retry_after)
        out.retried += 1
    elif isinstance(result.error, Transient) and item.attempts + 1 < MAX_ATTEMPTS:
        item.attempts += 1
        item.state = PlanItem.State.PENDING
        item.next_attempt_at = now + _backoff(item.attempts)
        item.last_error = result.error.message
        out.retried += 1
    else:
        item.attempts += 1
        item.state = PlanItem.State.FAILED
        item.last_error = result.error.message if result.error else "unknown error"
        out.failed += 1
    item.locked_until = None
    item.save(
        update_fields=[
            "state",
            "remote_id",
            "done_at",
            "last_error",
            "attempts",
            "next_attempt_at",
            "locked_until",
        ]
    )


def _skip_done(adapter: Adapter, items: list[PlanItem], out: AdvanceResult, now: datetime):
    """Ask the network what is already done, for items a dead worker left in
    flight: it may have acted before dying. Fresh items need no question:
    adapters act idempotently (and some check relationships themselves)."""
    kind = items[0].kind
    resumed = [i for i in items if i.state == PlanItem.State.IN_FLIGHT]
    if not resumed or kind not in (ActionKind.FOLLOW, ActionKind.BLOCK, ActionKind.MUTE):
        return items
    rels = adapter.relationships([_action(i).target for i in resumed])
    todo = []
    for item in items:
        rel = rels.get(item.target_id)
        done = rel is not None and (
            (kind == ActionKind.FOLLOW and (rel.following or rel.requested))
            or (kind == ActionKind.BLOCK and rel.blocking)
            or (kind == ActionKind.MUTE and rel.muting)
        )
        if done:
            _record(item, ActionResult(_action(item), already_done=True), now, out)
        else:
            todo.append(item)
    return todo


def _publish(adapter: Adapter, item: PlanItem) -> ActionResult:
    """Publish one post item; its cid is kept for replies and quotes to it."""
    maybe_sent = item.state == PlanItem.State.IN_FLIGHT or item.attempts > 0
    try:
        published = publish_item(adapter, item, maybe_sent=maybe_sent)
    except (AuthExpired, RateLimited):
        raise
    except NetworkError as e:
        return ActionResult(_action(item), error=e)
    item.remote_cid = published.cid
    item.save(update_fields=["remote_cid"])
    return ActionResult(_action(item), remote_id=published.uri)


def _next_due(account: ConnectedAccount) -> datetime | None:
    item = (
        PlanItem.objects.filter(account=account)
        .open()
        .order_by("next_attempt_at")
        .only("next_attempt_at", "locked_until", "state")
        .first()
    )
    if item is None:
        return None
    if item.state == PlanItem.State.IN_FLIGHT and item.locked_until:
        return item.locked_until
    return item.next_attempt_at


def advance(
    account: ConnectedAccount,
    *,
    adapter: Adapter | None = None,
    now: Callable[[], datetime] = timezone.now,
    max_batches: int | None = None,
    owner: str | None = None,
) -> AdvanceResult:
    """Do every due item of this account that the budget allows right now.

    Returns what was done and when to come back (`next_wake`).
    """
    out = AdvanceResult()
    owner = owner or lease_owner_id()
    if account.status != ConnectedAccount.Status.ACTIVE:
        out.stopped = account.status_reason or account.status
        return out
    if not take_lease(account, owner, now()):
        out.next_wake, out.waiting_for = lease_wait(account, now())
        return out
    own_adapter = adapter is None
    adapter = adapter or adapter_for(account)
    batches = 0
    try:
        for kind in KIND_ORDER:
            while max_batches is None or batches < max_batches:
                cost = adapter.cost(kind)
                # Posts go one by one: a reply needs its parent's published id.
                batch = 1 if kind == ActionKind.POST else adapter.batch_size(kind)
                fits = min(batch, adapter.budget.allowance(cost))
                if fits <= 0:
                    break
                items = _claim(account, kind, fits, now())
                if not items:
                    break
                batches += 1
                take_lease(account, owner, now())
                todo = items
                try:
                    todo = _skip_done(adapter, items, out, now())
                    if kind == ActionKind.LIST_ADD:  # create the list once; follow first
                        todo = prepare_list_adds(adapter, account, todo, out, now())
                    if kind == ActionKind.POST:
                        results = [_publish(adapter, item) for item in todo]
                    else:
                        results = adapter.apply([_action(i) for i in todo]) if todo else []
                except AuthExpired as e:
                    PlanItem.objects.filter(pk__in=[i.pk for i in items]).update(
                        state=PlanItem.State.PENDING, locked_until=None
                    )
                    account.status = ConnectedAccount.Status.AUTH_EXPIRED
                    account.status_reason = e.message
                    account.save(update_fields=["status", "status_reason", "updated_at"])
                    out.stopped = e.message
                    return out
                except NetworkError as e:
                    results = [ActionResult(_action(i), error=e) for i in todo]
                    if isinstance(e, RateLimited):
                        adapter.budget.exhaust(next(iter(cost)), e.retry_after)
                for item, result in zip(todo, results, strict=True):
                    _record(item, result, now(), out)
                save_budget(account, adapter)
        out.next_wake = _wake_time(account, adapter, now())
        return out
    finally:
        save_budget(account, adapter)
        release_lease(account, owner)
        if own_adapter:
            adapter.close()


def _wake_time(account: ConnectedAccount, adapter: Adapter, now: datetime) -> datetime | None:
    due = _next_due(account)
    if due is None:
        return None
    kinds = set(
        PlanItem.objects.filter(account=account).open().values_list("kind", flat=True).distinct()
    )
    budget_wait = min(
        (adapter.budget.delay(adapter.cost(ActionKind(k))) for k in kinds), default=0.0
    )
    return max(due, now + timedelta(seconds=budget_wait))


def run_until_idle(
    accounts: list[ConnectedAccount],
    *,
    on_progress: Callable[[ConnectedAccount, AdvanceResult], None] | None = None,
    sleep: Callable[[float], None],
    now: Callable[[], datetime] = timezone.now,
    max_sleep: float = 300.0,
) -> None:
    """Advance these accounts in the foreground until nothing is left to do.

    The command line's `hirondelle run`; a portal uses the background tasks.
    """
    owner = lease_owner_id()
    active = list(accounts)
    # One adapter per account for the whole run: sessions and what the
    # adapter learnt of the account's records are reused between batches.
    adapters: dict[int, Adapter] = {}
    try:
        _run_loop(active, adapters, owner, on_progress, sleep, now, max_sleep)
    finally:
        for adapter in adapters.values():
            adapter.close()


def _run_loop(active, adapters, owner, on_progress, sleep, now, max_sleep) -> None:
    while active:
        wakes = []
        for account in list(active):
            account.refresh_from_db()
            if account.pk not in adapters:
                adapters[account.pk] = adapter_for(account)
            result = advance(account, adapter=adapters[account.pk], owner=owner, now=now)
            if on_progress:
                on_progress(account, result)
            if result.stopped or result.next_wake is None:
                active.remove(account)
            else:
                wakes.append(result.next_wake)
        if wakes:
            sleep(min(max_sleep, max(0.0, (min(wakes) - now()).total_seconds())))
