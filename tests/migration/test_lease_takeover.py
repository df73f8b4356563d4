"""After a run is killed, the next one takes over at once when the dead run is
provably gone, and otherwise says what it waits for and until when.

Real processes: the "dead run" is a child process that has exited, the live
one a child that sleeps; the network is the in-memory double of
tests/support/fake_network.py.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services import running
from tests.migration.test_running import add_items
from tests.support.fake_network import FakeAdapter, FakeServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(django_user_model):
    user = django_user_model.objects.create(username="alice")
    return ConnectedAccount.objects.create(
        user=user,
        network="mastodon",
        server="https://fake.test",
        handle="alice@fake.test",
        credentials={"access_token": "secret"},
    )


def _owner(pid: int, machine: str | None = None) -> str:
    return f"{pid}@{machine or running._machine()}:0123456789abcdef"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _killed_run(account, owner: str, now: datetime, n: int = 3) -> FakeServer:
    """A run that followed n people, then was killed before recording it."""
    add_items(account, n, now=now)
    server = FakeServer()
    server.follows.extend(f"https://fake.test/users/u{i}" for i in range(n))
    ConnectedAccount.objects.filter(pk=account.pk).update(
        lease_owner=owner, lease_until=now + running.hold_period()
    )
    PlanItem.objects.filter(account=account).update(
        state=PlanItem.State.IN_FLIGHT, locked_until=now + running.hold_period()
    )
    return server


def test_a_dead_runs_lease_and_items_are_taken_at_once(account) -> None:
    now = datetime.now(UTC)
    server = _killed_run(account, _owner(_dead_pid()), now)
    result = running.advance(account, adapter=FakeAdapter(server, batch=5), now=lambda: now)
    assert result.waiting_for == ""
    assert result.already_done == 3  # asked the network first: nothing done twice
    assert len(server.follows) == 3
    assert PlanItem.objects.filter(state=PlanItem.State.DONE).count() == 3


def test_a_zombie_counts_as_dead(account) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        # Not reaped yet: the pid still exists, as a zombie, once the child exits.
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while not running.holder_is_gone(_owner(child.pid)) and datetime.now(UTC) < deadline:
            time.sleep(0.05)
        assert running.holder_is_gone(_owner(child.pid))
    finally:
        child.wait()


@pytest.mark.parametrize("where", ["live process here", "another machine", "unknown owner"])
def test_a_holder_not_provably_gone_is_waited_for_and_named(account, where) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        owner = {
            "live process here": _owner(sleeper.pid),
            "another machine": _owner(_dead_pid(), machine="0" * 12),
            "unknown owner": "worker-a",
        }[where]
        now = datetime.now(UTC)
        server = _killed_run(account, owner, now)
        result = running.advance(account, adapter=FakeAdapter(server), now=lambda: now)
        assert result.done == result.already_done == 0
        lease_until = ConnectedAccount.objects.get(pk=account.pk).lease_until
        assert result.next_wake == lease_until
        seconds = round(running.hold_period().total_seconds())
        assert f"taken over in {seconds} s" in result.waiting_for
        if where == "live process here":
            assert f"process {sleeper.pid} on this computer" in result.waiting_for
        elif where == "another machine":
            assert "on another computer" in result.waiting_for
        else:
            assert "another worker" in result.waiting_for
    finally:
        sleeper.kill()
        sleeper.wait()


def test_lease_owners_name_this_process() -> None:
    import os

    owner = running.lease_owner_id()
    assert owner.startswith(f"{os.getpid()}@")
    assert len(owner) <= 64
    assert not running.holder_is_gone(owner)  # this very process


def test_hirondelle_run_says_what_it_waits_for(account, monkeypatch) -> None:

    from click.testing import CliRunner

    from hirondelle.cli import main
    from hirondelle.migration.services.adapters import register_factory

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        now = datetime.now(UTC)
        server = _killed_run(account, _owner(sleeper.pid), now)
        register_factory("mastodon", lambda a: FakeAdapter(server))
        reconnect = importlib.import_module("hirondelle.cli.reconnect")
        monkeypatch.setattr(reconnect, "local_user", lambda: account.user)
        monkeypatch.setattr(reconnect, "_django", lambda: None)

        def interrupted(seconds: float) -> None:
            raise KeyboardInterrupt  # the person stops the wait

        monkeypatch.setattr(reconnect.time, "sleep", interrupted)
        out = CliRunner().invoke(main, ["run"])
    finally:
        register_factory("mastodon", None)
        sleeper.kill()
        sleeper.wait()
    assert out.exit_code == 0, out.output
    said = " ".join(out.output.split())  # the console wraps long lines
    assert f"waiting for another run (process {sleeper.pid} on this computer)" in said
    assert "taken over in" in said
