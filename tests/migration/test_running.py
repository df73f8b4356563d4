"""The plan runner: exactly once, within budget, resumable, failures per item.

The network here is `tests.support.fake_network`, an in-memory double used
to inject failures and crashes on demand; the real adapters are exercised
against real local servers in tests/networks and in the crash test.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services import running
from hirondelle.networks.base import ActionKind
from hirondelle.networks.budget import Pool
from hirondelle.networks.errors import NotFound, RateLimited, Unavailable
from tests.support.fake_network import FakeAdapter, FakeServer, failing_once

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t

    def epoch(self) -> float:
        return self.t.timestamp()


@pytest.fixture
def account(django_user_model):
    user = django_user_model.objects.create(username="alice")
    return ConnectedAccount.objects.create(
        user=user,
        network="mastodon",
        server="https://fake.test",
        handle="alice@fake.test",
        remote_id="https://fake.test/users/alice",
        credentials={"access_token": "secret"},
    )


def add_items(account, n: int, kind: str = "follow", now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    PlanItem.objects.bulk_create(
        PlanItem(
            account=account,
            kind=kind,
            x_id=str(1000 + i),
            target_id=f"https://fake.test/users/u{i}",
            target_handle=f"u{i}@fake.test",
            key=hashlib.sha256(f"{account.pk}:{kind}:{i}".encode()).hexdigest()[:40],
            next_attempt_at=now,
        )
        for i in range(n)
    )


def test_every_item_done_once(account) -> None:
    add_items(account, 25)
    server = FakeServer()
    result = running.advance(account, adapter=FakeAdapter(server, batch=10))
    assert result.done == 25
    assert sorted(server.follows) == sorted(set(server.follows))
    assert len(server.follows) == 25
    assert PlanItem.objects.filter(state="done").count() == 25
    assert result.next_wake is None


def test_blocks_and_mutes_come_before_follows(account) -> None:
    add_items(account, 3, kind="follow")
    PlanItem.objects.filter(x_id="1000").update(kind="block", key="b")
    order = []
    server = FakeServer(fail=lambda actions: order.append(actions[0].kind))
    running.advance(account, adapter=FakeAdapter(server))
    assert order[0] == ActionKind.BLOCK


def test_budget_stops_the_run_and_says_when_to_come_back(account) -> None:
    clock = Clock()
    add_items(account, 10, now=clock.now())
    adapter = FakeAdapter(
        FakeServer(), pools={"follows": Pool(4, 86400)}, clock=clock.epoch, batch=1
    )
    result = running.advance(account, adapter=adapter, now=clock.now)
    assert result.done == 4
    assert result.next_wake == clock.now() + timedelta(days=1)
    account.refresh_from_db()
    assert account.budget["follows"]["used"] == 4  # kept for the next process


def test_transient_failure_retries_later_without_loss(account) -> None:
    clock = Clock()
    add_items(account, 3, now=clock.now())
    server = FakeServer(fail=failing_once(Unavailable("server down", status=503)))
    result = running.advance(account, adapter=FakeAdapter(server), now=clock.now)
    assert result.retried == 1
    assert result.done == 2
    item = PlanItem.objects.get(state="pending")
    assert item.attempts == 1
    assert item.last_error == "server down"
    assert item.next_attempt_at > clock.now()
    clock.t = item.next_attempt_at
    result = running.advance(account, adapter=FakeAdapter(server), now=clock.now)
    assert result.done == 1
    assert len(server.follows) == 3


def test_rate_limit_costs_no_attempt(account) -> None:
    clock = Clock()
    add_items(account, 1, now=clock.now())
    server = FakeServer(fail=failing_once(RateLimited("slow down", retry_after=120)))
    running.advance(account, adapter=FakeAdapter(server), now=clock.now)
    item = PlanItem.objects.get()
    assert item.state == "pending"
    assert item.attempts == 0
    assert item.next_attempt_at == clock.now() + timedelta(seconds=120)


def test_permanent_failure_is_about_this_item_only(account, django_user_model) -> None:
    add_items(account, 2)
    server = FakeServer(fail=failing_once(NotFound("no such account", status=404)))
    running.advance(account, adapter=FakeAdapter(server))
    failed = PlanItem.objects.get(state="failed")
    assert failed.last_error == "no such account"
    # Someone else following the same account is not affected.
    other = ConnectedAccount.objects.create(
        user=django_user_model.objects.create(username="bob"),
        network="mastodon",
        server="https://fake.test",
        handle="bob@fake.test",
        remote_id="https://fake.test/users/bob",
    )
    PlanItem.objects.create(
        account=other,
        kind="follow",
        x_id=failed.x_id,
        target_id=failed.target_id,
        key="other",
        next_attempt_at=failed.next_attempt_at,
    )
    result = running.advance(other, adapter=FakeAdapter(FakeServer()))
    assert result.done == 1


def test_crash_in_flight_is_resumed_from_the_network_state(account, settings) -> None:
    """A worker dies after the network acted but before recording it."""
    clock = Clock()
    add_items(account, 5, now=clock.now())
    server = FakeServer()

    def crash(actions):
        server.follows.extend(a.target.id for a in actions)  # the network did it…
        raise SystemExit("killed")  # …and the process died before recording

    server.fail = crash
    with pytest.raises(SystemExit):
        running.advance(account, adapter=FakeAdapter(server, batch=5), now=clock.now)
    assert PlanItem.objects.filter(state="in_flight").count() == 5
    server.fail = None
    # Before the lock expires nobody takes the items again…
    assert running.advance(account, adapter=FakeAdapter(server), now=clock.now).done == 0
    # …after it, the runner asks the network first and does nothing twice.
    clock.t += timedelta(seconds=3600)
    result = running.advance(account, adapter=FakeAdapter(server, batch=5), now=clock.now)
    assert result.already_done == 5
    assert len(server.follows) == 5


def test_two_workers_never_share_an_account(account) -> None:
    add_items(account, 3)
    now = datetime.now(UTC)
    assert running.take_lease(account, "worker-a", now)
    result = running.advance(account, adapter=FakeAdapter(FakeServer()), owner="worker-b")
    assert result.done == 0
    running.release_lease(account, "worker-a")
    assert running.advance(account, adapter=FakeAdapter(FakeServer()), owner="worker-b").done == 3


def test_credentials_are_encrypted_at_rest(account) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials FROM migration_connectedaccount WHERE id = %s", [account.pk]
        )
        (raw,) = cursor.fetchone()
    assert "secret" not in raw
    account.refresh_from_db()
    assert account.credentials == {"access_token": "secret"}
