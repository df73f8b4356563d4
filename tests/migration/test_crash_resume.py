"""The crash test: a run of 2,000 follows killed at 30 random points, then
resumed, ends with each follow on the server exactly once.

Real parts only: the `hirondelle run` command in a subprocess on its own
SQLite database, killed with SIGKILL (no chance to clean up), against the
reference atproto stack (PLC + PDS, no AppView needed) on 127.0.0.1. On
Bluesky a follow is a record, so doing one twice leaves two records: the
server's own repository is the judge. The PDS's rate limits are off and the
account's budget set to 50 follows per 2 seconds, so the whole run takes
about a minute and a half rather than the hours the real limits would ask
(budgets have their own tests), and every kill lands in a working run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.atproto_peer import AtprotoPeer, AtprotoPeerUnavailable, start_atproto_peer

ITEMS = 2000
KILLS = 30

SETUP = """
import json, sys
from datetime import datetime, timezone
import django
django.setup()
from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services.keys import item_key
account = ConnectedAccount.objects.get()
budget = account.budget
for name, pool in budget.items():
    # Write points: 50 follows every 2 s, so each run works for a while and
    # the kills land mid-batch, mid-wait and mid-write; other pools: no limit.
    if name.startswith("points"):
        pool.update(limit=150, period=2.0, used=0, reset_at=0)
    else:
        pool.update(limit=10_000_000)
account.budget = budget
account.save()
dids = json.loads(sys.stdin.read())
now = datetime.now(timezone.utc)
PlanItem.objects.bulk_create(
    PlanItem(account=account, kind="follow", x_id=str(i), target_id=did,
             target_handle=f"u{i}.test", key=item_key(account.pk, "follow", did),
             next_attempt_at=now)
    for i, did in enumerate(dids)
)
print(PlanItem.objects.count())
"""

STATES = """
import django
django.setup()
from django.db.models import Count
from hirondelle.migration.models import PlanItem
print(dict(PlanItem.objects.values_list("state").annotate(n=Count("id"))))
"""


def fake_did(i: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    body = "".join(alphabet[(i >> (5 * k)) % 32] for k in range(24))
    return f"did:plc:{body}"


@pytest.fixture(scope="module")
def open_peer() -> Iterator[AtprotoPeer]:
    try:
        peer = start_atproto_peer(appview=False, rate_limits=False)
    except AtprotoPeerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield peer
    peer.stop()


def hirondelle(env: dict, *args: str, log: Path) -> subprocess.Popen:
    """Start `hirondelle ARGS`; its output goes to `log` (killed runs leave no pipe open)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hirondelle", *args], env=env, stdout=out, stderr=out
        )


@pytest.mark.slow
def test_killed_thirty_times_each_follow_exactly_once(open_peer, tmp_path: Path) -> None:
    me = open_peer.create_account()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HIRONDELLE_")},
        "HIRONDELLE_DATA_DIR": str(tmp_path / "data"),
        "HIRONDELLE_ALLOW_PRIVATE_ADDRESSES": "1",  # the peer listens on 127.0.0.1
        "HIRONDELLE_BLUESKY_PLC_URL": open_peer.plc,  # where the handle's DID document is
        "HIRONDELLE_ITEM_LOCK_SECONDS": "1",
        "DJANGO_SETTINGS_MODULE": "hirondelle.settings",
    }
    log = tmp_path / "runs.log"
    connect = hirondelle(
        env,
        "connect",
        "bluesky",
        "--handle",
        me.handle,
        "--app-password",
        me.app_password,
        "--pds",
        open_peer.pds,
        log=log,
    )
    assert connect.wait(timeout=120) == 0, log.read_text()

    dids = [fake_did(i) for i in range(ITEMS)]
    setup = subprocess.run(
        [sys.executable, "-c", SETUP],
        env=env,
        input=json.dumps(dids).encode(),
        capture_output=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr.decode()
    assert int(setup.stdout) == ITEMS

    rng = random.Random(2026)
    killed_mid_run = 0
    for _ in range(KILLS):
        run = hirondelle(env, "run", log=log)
        time.sleep(rng.uniform(0.5, 4.0))
        if run.poll() is None:
            killed_mid_run += 1
            run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        time.sleep(rng.uniform(0.0, 1.2))  # sometimes past the item lock, sometimes not

    final = hirondelle(env, "run", log=log)
    assert final.wait(timeout=600) == 0, log.read_text()[-3000:]

    records = open_peer.records(me.did, "app.bsky.graph.follow")
    subjects = [r["value"]["subject"] for r in records]
    assert len(subjects) == len(set(subjects)), "a follow was done twice"
    assert sorted(subjects) == sorted(dids), "a follow was lost"
    states = subprocess.run(
        [sys.executable, "-c", STATES], env=env, capture_output=True, timeout=60, text=True
    )
    assert states.stdout.strip() == str({"done": ITEMS})
    assert killed_mid_run >= KILLS // 2, "the kills should land while runs are working"
