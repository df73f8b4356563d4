"""Provisioning 600 officials on a local PDS: time, requests, and the write budget.

Starts the reference PDS (tests/support/atproto_peer.py, PLC + PDS, no
AppView) configured as an institution's: handles under `.social.example.fr`,
invites required, rate limits on with a bypass key (what an institution
running its own PDS sets). Then, in the same run:

- baseline: the same number of accounts made the way `pdsadmin account create`
  does (createInviteCode + createAccount, one account at a time), nothing else;
- Hirondelle: `institutions.services.bluesky.provision` on a roster of the same
  size: invites in batches, accounts, profiles, one verification record per
  official, starter packs of ≤150 and the curated list, all saved resumably.

Prints wall time, requests by kind, and the write points the institution's
account spent against the PDS's 5,000 points an hour (and 35,000 a day).
Target: at most 3× the baseline's time, though Hirondelle does much more per
official (profile, verification, two list entries, audit log).

    .venv/bin/python bench/institution.py               # 600 officials
    .venv/bin/python bench/institution.py --scale 0.2   # quick check
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ["HIRONDELLE_DATA_DIR"] = tempfile.mkdtemp(prefix="hirondelle-bench-")
os.environ.pop("HIRONDELLE_DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hirondelle.settings")
# the local PDS listens on 127.0.0.1 over plain HTTP (see the guard)
os.environ["HIRONDELLE_ALLOW_PRIVATE_ADDRESSES"] = "1"

from tests.support.atproto_peer import start_atproto_peer  # noqa: E402
from tests.support.institution_roster import roster_csv  # noqa: E402

DOMAIN = ".social.example.fr"
BYPASS = "bench-bypass-key"


def baseline(pds: str, admin_password: str, n: int) -> tuple[float, int]:
    """`pdsadmin account create`, n times: invite code, then the account."""
    auth = "Basic " + base64.b64encode(f"admin:{admin_password}".encode()).decode()
    requests = 0
    start = time.perf_counter()
    with httpx.Client(base_url=pds, timeout=60, headers={"x-ratelimit-bypass": BYPASS}) as c:
        for i in range(n):
            code = c.post(
                "/xrpc/com.atproto.server.createInviteCode",
                json={"useCount": 1},
                headers={"authorization": auth},
            ).json()["code"]
            r = c.post(
                "/xrpc/com.atproto.server.createAccount",
                json={
                    "handle": f"base{i}{DOMAIN}",
                    "email": f"base{i}@baseline.example",
                    "password": f"pw-{i}-baseline",
                    "inviteCode": code,
                },
            )
            r.raise_for_status()
            requests += 2
    return time.perf_counter() - start, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 600 officials")
    n = max(10, int(600 * parser.parse_args().scale))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from hirondelle.institutions.services import bluesky
    from hirondelle.institutions.services.roster import load_roster
    from hirondelle.institutions.services.setup import add_institution, set_server
    from hirondelle.networks.institution.pds import WRITE_POINTS_PER_DAY, WRITE_POINTS_PER_HOUR

    print(f"Starting the local PDS (handles under {DOMAIN}, rate limits on, bypass key)…")
    peer = start_atproto_peer(
        appview=False,
        rate_limits=True,
        pds_config={
            "serviceHandleDomains": [DOMAIN],
            "inviteRequired": True,
            "rateLimitBypassKey": BYPASS,
        },
    )
    try:
        base_time, base_requests = baseline(peer.pds, peer.admin_password, n)

        inst = add_institution("bench", "Assemblée (bench)", handle_domain="deputes.example.fr")
        set_server(
            inst,
            "pds",
            peer.pds,
            DOMAIN,
            credentials={"admin_password": peer.admin_password, "bypass_key": BYPASS},
        )
        load_roster(inst, roster_csv(n, email_tag="bench", big_group=n // 3))
        warnings = bluesky.budget_warnings(inst)
        start = time.perf_counter()
        report = bluesky.provision(inst)
        elapsed = time.perf_counter() - start
        start = time.perf_counter()
        again = bluesky.provision(inst)
        rerun = time.perf_counter() - start
    finally:
        peer.stop()

    own = inst.server("pds").credentials["account"]["did"]
    inst_points = report.points.get(own, 0)
    per_official = [v for k, v in report.points.items() if k != own]
    print(f"\n{n} officials on the local PDS")
    print(f"  baseline (pdsadmin way, accounts only): {base_time:8.1f} s, {base_requests} requests")
    print(
        f"  Hirondelle provision:                   {elapsed:8.1f} s, "
        f"{report.request_count} requests ({report.request_count / n:.2f} per official)"
    )
    for nsid, count in sorted(report.requests.items(), key=lambda kv: -kv[1]):
        print(f"      {count:6d}  {nsid}")
    print(
        f"  made: {report.created} accounts, {report.profiles} profiles, "
        f"{report.verifications_written} verifications, {report.packs} starter packs, "
        f"{report.pack_items} list entries"
    )
    print(
        f"  run again (nothing to do):              {rerun:8.1f} s, {again.request_count} requests"
    )
    print(
        f"  institution account write points: {inst_points:,} = "
        f"{100 * inst_points / WRITE_POINTS_PER_HOUR:.0f}% of the hourly budget "
        f"({WRITE_POINTS_PER_HOUR:,}), {100 * inst_points / WRITE_POINTS_PER_DAY:.0f}% of the "
        f"daily ({WRITE_POINTS_PER_DAY:,})"
    )
    if per_official:
        print(f"  each official's account: {max(per_official)} points")
    print("  warnings the planner gave before the run:")
    for w in warnings:
        print(f"    - {w}")
    ratio = elapsed / base_time if base_time else float("inf")
    print(f"\n  time ratio Hirondelle / baseline: {ratio:.2f}× (target ≤ 3×)")
    if ratio > 3:
        print("  GOAL MISSED: provisioning is more than 3× slower than the bare account creation.")
    if inst_points > WRITE_POINTS_PER_HOUR:
        print(
            "  Without PDS_RATE_LIMIT_BYPASS_KEY the institution's writes would span "
            f"{-(-inst_points // WRITE_POINTS_PER_HOUR)} hours (runs resume where they stopped)."
        )
    from datetime import UTC, datetime

    from hirondelle.networks.institution.pds import reset_email_slots

    now = datetime.now(UTC)
    last = reset_email_slots(n, [], now)[-1] - now
    print(
        f"  claim e-mails: {n}; with the bypass key at once, without it (15 an hour, 50 a day "
        f"per address) the last leaves after {last.days} days {last.seconds // 3600} hours."
    )


if __name__ == "__main__":
    main()
