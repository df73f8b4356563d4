"""Several `hirondelle worker` processes on one PostgreSQL queue never carry
out the same item twice.

Real parts: four worker processes (the command a portal runs) against a
database of their own on the suite's PostgreSQL server, and mastodon-mock (an
imitation of Mastodon's REST API, not Mastodon) as the network, wrapped in a
counter that sees every request the workers send. The queue is crowded on
purpose: each account's "advance" task is queued four times, so workers race
for the same account and, inside it, for the same items. The judge is the
server side: each follow request must arrive exactly once.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mastodon_mock.config import (
    DatabaseConfig,
    MastodonMockConfig,
    RateLimitConfig,
    SeedAccount,
    SeedConfig,
    StreamingConfig,
)

from tests.support.ports import free_port

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

PEOPLE = 3
TARGETS = 40
WORKERS = 4
COPIES = 4  # how many times each account's task is queued

SETUP = """
import json, sys
from datetime import datetime, timezone
import django
django.setup()
from django.contrib.auth import get_user_model
from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services.keys import item_key
from hirondelle.migration.tasks import advance_account
spec = json.loads(sys.stdin.read())
now = datetime.now(timezone.utc)
for n, token in enumerate(spec["tokens"]):
    user = get_user_model().objects.create_user(username=f"person{n}")
    account = ConnectedAccount.objects.create(
        user=user, network="mastodon", server=spec["server"], handle=f"me{n}@mock.local",
        remote_id=f"me{n}", credentials={"access_token": token},
    )
    budget = account.budget
    for pool in budget.values():
        pool.update(limit=10_000_000)  # budgets have their own tests
    account.budget = budget
    account.save()
    PlanItem.objects.bulk_create(
        PlanItem(account=account, kind="follow", x_id=str(i), target_id=f"t{i}",
                 target_handle=f"t{i}@remote.example", next_attempt_at=now,
                 key=item_key(account.pk, "follow", f"t{i}"))
        for i in range(spec["targets"])
    )
    for _ in range(spec["copies"]):
        advance_account.enqueue(account.pk)
print(PlanItem.objects.count())
"""


class CountingApp:
    """ASGI middleware: counts follow requests per (token, path).

    It also lets one request at a time through: the mock keeps its state in
    one SQLite connection that concurrent writers lock. The workers still race
    each other in our database, which is what this test is about.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.follows: collections.Counter[tuple[str, str]] = collections.Counter()
        self._lock = threading.Lock()
        self._one_at_a_time: asyncio.Lock | None = None

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].endswith("/follow")
        ):
            token = dict(scope["headers"]).get(b"authorization", b"").decode()
            with self._lock:
                self.follows[(token, scope["path"])] += 1
        if scope["type"] != "http":  # lifespan lasts as long as the server
            await self.app(scope, receive, send)
            return
        if self._one_at_a_time is None:
            self._one_at_a_time = asyncio.Lock()
        async with self._one_at_a_time:
            await self.app(scope, receive, send)


@pytest.fixture
def counted_mastodon() -> Iterator[tuple[str, CountingApp]]:
    import uvicorn
    from mastodon_mock.app import create_app

    seed = SeedConfig(
        accounts=[
            *(
                SeedAccount(username=f"me{n}", display_name=f"Me {n}", access_token=f"tok{n}")
                for n in range(PEOPLE)
            ),
            *(
                SeedAccount(username=f"t{i}", display_name=f"T {i}", domain="remote.example")
                for i in range(TARGETS)
            ),
        ]
    )
    config = MastodonMockConfig(
        database=DatabaseConfig(path=":memory:"),
        seed=seed,
        streaming=StreamingConfig(enabled=False),
        ratelimit=RateLimitConfig(enabled=False),
    )
    app = CountingApp(create_app(config))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "mastodon-mock stopped while starting"
        assert time.monotonic() < deadline, "mastodon-mock did not start in 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def worker_database() -> Iterator[str]:
    """A fresh database on the suite's PostgreSQL server, for processes to share."""
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    base = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}"
    name = f"workers_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _states(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT state, count(*) FROM migration_planitem GROUP BY state"
        ).fetchall()
    return dict(rows)


def test_workers_share_one_queue_without_doing_an_item_twice(
    counted_mastodon, worker_database, tmp_path: Path
) -> None:
    base_url, counter = counted_mastodon
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HIRONDELLE_")},
        "HIRONDELLE_DATA_DIR": str(tmp_path / "data"),
        "HIRONDELLE_ALLOW_PRIVATE_ADDRESSES": "1",  # the peer listens on 127.0.0.1
        "HIRONDELLE_DATABASE_URL": worker_database,
        "DJANGO_SETTINGS_MODULE": "hirondelle.settings",
    }
    hirondelle = [sys.executable, "-m", "hirondelle"]
    migrate = subprocess.run([*hirondelle, "migrate"], env=env, capture_output=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr.decode()
    spec = {
        "server": base_url,
        "tokens": [f"tok{n}" for n in range(PEOPLE)],
        "targets": TARGETS,
        "copies": COPIES,
    }
    setup = subprocess.run(
        [sys.executable, "-c", SETUP],
        env=env,
        input=json.dumps(spec).encode(),
        capture_output=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr.decode()
    assert int(setup.stdout) == PEOPLE * TARGETS

    logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
    workers = []
    for log in logs:
        with log.open("wb") as out:
            workers.append(
                subprocess.Popen([*hirondelle, "worker"], env=env, stdout=out, stderr=out)
            )
    try:
        deadline = time.monotonic() + 400
        while _states(worker_database).get("done", 0) < PEOPLE * TARGETS:
            assert time.monotonic() < deadline, (
                _states(worker_database),
                [log.read_text()[-2000:] for log in logs],
            )
            assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
            time.sleep(0.5)
    finally:
        for w in workers:
            w.terminate()
        for w in workers:
            w.wait(30)

    assert _states(worker_database) == {"done": PEOPLE * TARGETS}
    twice = {key: n for key, n in counter.follows.items() if n != 1}
    assert not twice, f"follow requests sent more than once: {twice}"
    assert len(counter.follows) == PEOPLE * TARGETS
    tokens = collections.Counter(token for token, _ in counter.follows)
    assert tokens == {f"Bearer tok{n}": TARGETS for n in range(PEOPLE)}

    import psycopg

    with psycopg.connect(worker_database) as db:
        ran = db.execute(
            "SELECT worker_ids FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'"
        ).fetchall()
    workers_seen = {w for (ids,) in ran for w in ids}
    print(f"{len(ran)} tasks ran, on {len(workers_seen)} of {WORKERS} workers")
    assert len(ran) >= PEOPLE * COPIES
