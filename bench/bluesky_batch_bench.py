"""Local PDS time for 1,000 follows: applyWrites batches of 200 against one by one.

Starts the reference atproto stack on 127.0.0.1 (tests/support/atproto_peer.py,
PLC + PDS; `--appview` adds the AppView, PostgreSQL and Redis), makes two
fresh accounts, and writes the same 1,000 follow records:

- batched: `BlueskyAdapter.apply()`, i.e. `com.atproto.repo.applyWrites` with
  200 writes a call (the way Hirondelle writes them);
- one by one: one `com.atproto.repo.createRecord` per follow, through the
  same adapter's HTTP client, same record keys and bodies (the baseline).

Rate limits are off on this PDS: the bench measures the server's time, not
the limits (which make one-by-one even slower: 3,000 requests per 5 min).

    .venv/bin/python bench/bluesky_batch_bench.py              # 1,000 follows
    .venv/bin/python bench/bluesky_batch_bench.py --scale 0.2  # quick check
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from hirondelle.networks.base import Action, ActionKind, Network, RemoteAccount  # noqa: E402
from hirondelle.networks.bluesky import BlueskyAdapter, tid_for  # noqa: E402
from tests.support.atproto_peer import start_atproto_peer  # noqa: E402

FOLLOW = "app.bsky.graph.follow"


def fake_did(run: str, n: int) -> str:
    digest = hashlib.sha256(f"{run}-{n}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def count_records(pds: str, did: str) -> int:
    total, cursor = 0, None
    with httpx.Client(timeout=60) as client:
        while True:
            params = {"repo": did, "collection": FOLLOW, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = client.get(f"{pds}/xrpc/com.atproto.repo.listRecords", params=params).json()
            total += len(page["records"])
            cursor = page.get("cursor")
            if not cursor or not page["records"]:
                return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000 follows")
    parser.add_argument("--appview", action="store_true", help="run the AppView too")
    args = parser.parse_args()
    count = max(1, round(1000 * args.scale))

    started = time.perf_counter()
    peer = start_atproto_peer(appview=args.appview, rate_limits=False)
    startup = time.perf_counter() - started
    try:
        rows = []
        for label in ("batched (applyWrites x200)", "one by one (createRecord)"):
            who = peer.create_account()
            adapter = BlueskyAdapter(peer.pds, who.handle, who.app_password)
            adapter.whoami()  # sign in outside the timing
            targets = [fake_did(label, i) for i in range(count)]
            actions = [
                Action(ActionKind.FOLLOW, RemoteAccount(Network.BLUESKY, d, ""), key=f"f{i}")
                for i, d in enumerate(targets)
            ]
            before = dict(adapter.calls)
            t0 = time.perf_counter()
            if label.startswith("batched"):
                results = adapter.apply(actions)
                failed = sum(not r.ok for r in results)
            else:
                failed = 0
                for action in actions:
                    record = {
                        "$type": FOLLOW,
                        "subject": action.target.id,
                        "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    }
                    adapter._create_record(FOLLOW, record, tid_for(action.key, namespace=FOLLOW))
            elapsed = time.perf_counter() - t0
            calls = sum(adapter.calls.values()) - sum(before.values())
            stored = count_records(peer.pds, who.did)
            adapter.close()
            rows.append((label, calls, elapsed, failed, stored))
    finally:
        peer.stop()

    print(f"atproto stack ({peer.mode}) started in {startup:.1f} s; {count:,} follows each")
    print(f"{'method':<28} {'requests':>9} {'seconds':>9} {'follows/s':>10} {'stored':>7}")
    for label, calls, elapsed, failed, stored in rows:
        note = f"  ({failed} failed)" if failed else ""
        print(f"{label:<28} {calls:>9} {elapsed:>9.2f} {count / elapsed:>10.0f} {stored:>7}{note}")
    batched, single = rows[0][2], rows[1][2]
    print(f"batches are {single / batched:.1f}x faster than one by one")
    ok = single / batched >= 5 and all(stored == count for *_, stored in rows)
    print(
        "goal: every follow stored, batches at least 5x faster than one by one: "
        f"{'goal met' if ok else 'GOAL MISSED'}"
    )


if __name__ == "__main__":
    main()
