"""Benchmark: concurrent browser uploads to the served portal.

Drives `hirondelle serve` on 127.0.0.1 exactly as the upload page does: each
upload declares the needed files of an archive with 5,000 follows (account,
profile, manifest, following, follower, block, mute, lists; no posts), sends
each file in chunks, and finishes; the import then runs in the background
worker, not in the request. Every upload is by a different signed-in person.

Prints sustained uploads per second and latency percentiles (one upload =
declare + chunks + finish, as the person waits for it), the import backlog
the workers then drain, and a baseline from the same run: the request rate
of the smallest authenticated JSON view on the same server and concurrency.
Target: 10 uploads/s with p95 under 2 s.

    .venv/bin/python bench/portal_bench.py                  # 300 uploads, 16 at a time
    .venv/bin/python bench/portal_bench.py --scale 0.1      # quick check
    .venv/bin/python bench/portal_bench.py --db postgres    # serve --no-worker + 2 workers
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.browser import serve_portal, stop_portal  # noqa: E402
from tests.support.x_archive import render_files, sample_spec  # noqa: E402

CHUNK = 8 * 1024 * 1024  # the page's chunk and batch size


def needed_files(follows: int, seed: int) -> dict[str, bytes]:
    """The files the browser would send for one archive (graph only)."""
    from hirondelle.portal.services.allowlist import is_allowed

    spec = sample_spec(
        seed=seed, n_posts=0, n_following=follows, n_followers=follows // 5, n_likes=0
    )
    files = render_files(spec, era="2024", seed=seed)
    return {name: body for name, body in files.items() if is_allowed(name, republish=False)}


def make_sessions(portal, n: int) -> list[str]:
    out = portal.python(
        f"""
        from django.contrib.auth import (
            BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model,
        )
        from django.contrib.sessions.backends.db import SessionStore
        User = get_user_model()
        keys = []
        for i in range({n}):
            user = User.objects.create_user(username=f"bench-{{i}}")
            s = SessionStore()
            s[SESSION_KEY] = str(user.pk)
            s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            s[HASH_SESSION_KEY] = user.get_session_auth_hash()
            s.create()
            keys.append(s.session_key)
        print(" ".join(keys))
        """
    )
    return out.split()


def client(base: str, session_key: str) -> requests.Session:
    s = requests.Session()
    token = secrets.token_hex(16)  # a 32-character CSRF secret, sent back in the header
    host = base.split("//", 1)[1].split(":")[0]
    s.cookies.set("sessionid", session_key, domain=host)
    s.cookies.set("csrftoken", token, domain=host)
    s.headers.update({"X-CSRFToken": token, "Referer": base + "/upload/"})
    return s


def upload(s: requests.Session, base: str, files: dict[str, bytes]) -> tuple[float, list[float]]:
    """One browser upload; returns its total latency and each request's latency."""
    laps = []
    t0 = time.perf_counter()

    def call(method, url, **kw):
        t = time.perf_counter()
        r = s.request(method, url, timeout=60, **kw)
        laps.append(time.perf_counter() - t)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {url}: {r.status_code} {r.text[:200]}")
        return r

    declared = {name: len(body) for name, body in files.items()}
    up = call("POST", base + "/upload/new", json={"files": declared, "republish": False}).json()
    # As the page does: small files together in one multipart request, big
    # ones in resumable chunks.
    small = {n: b for n, b in files.items() if len(b) < CHUNK}
    batch: dict[str, bytes] = {}
    for name, body in small.items():
        if batch and sum(map(len, batch.values())) + len(body) > CHUNK:
            call("POST", f"{base}/upload/{up['id']}/files", files=batch)
            batch = {}
        batch[name] = body
    if batch:
        call("POST", f"{base}/upload/{up['id']}/files", files=batch)
    for name, body in files.items():
        if name in small:
            continue
        for offset in range(0, max(len(body), 1), CHUNK):
            call(
                "POST",
                f"{base}/upload/{up['id']}/file",
                params={"name": name, "offset": offset},
                data=body[offset : offset + CHUNK],
                headers={"Content-Type": "application/octet-stream"},
            )
    call("POST", f"{base}/upload/{up['id']}/finish")
    return time.perf_counter() - t0, laps


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def baseline(base: str, sessions: list[str], n: int, concurrency: int) -> float:
    """Requests/s of the smallest authenticated JSON view, same server, same concurrency."""
    clients = [client(base, k) for k in sessions[:concurrency]]
    url = f"{base}/run/progress.json"

    def one(i):
        clients[i % len(clients)].get(url, timeout=60).raise_for_status()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(n)))
    return n / (time.perf_counter() - t0)


def imports_left(portal) -> dict[str, int]:
    out = portal.python(
        """
        import json
        from django.db.models import Count
        from hirondelle.portal.models import ArchiveUpload
        print(json.dumps(dict(ArchiveUpload.objects.values_list("state").annotate(n=Count("id")).order_by())))
        """
    )
    return json.loads(out)


# --------------------------------------------------------------------------- pages

PAGES = (
    "/",
    "/upload/",
    "/consent/",
    "/review/?direction=following",
    "/review/?direction=followers",
    "/review/?direction=followers&q=someone",
    "/run/",
    "/run/progress.json",
    "/republish/",
    "/lists/",
    "/later/",
    "/stats/",
    "/delete/",
)
PAGE_GOAL = 0.200  # seconds, every page


def pages_child(db: str, followers: int, repeat: int) -> None:
    """In its own process: import an account with `followers` followers, time each page."""
    import statistics

    from bench.directory_bench import _archive, _setup

    _setup(db)
    from django.db import connection
    from django.test import Client

    from hirondelle.identity.models import User
    from hirondelle.migration.services.importing import import_archive

    archive = _archive(followers)
    user = User.objects.create(username="big-account")
    t = time.perf_counter()
    result = import_archive(archive, owner=user)
    imported = time.perf_counter() - t
    assert result.counts["followers"] == followers, result.counts
    print(
        f"== {connection.vendor}: pages of an account with {followers:,} followers, "
        f"empty directory, right after its import ({imported:.1f} s) ==",
        flush=True,
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    floor = _time_page(client, "/privacy/", repeat)
    print(f"  baseline: the static privacy page, median {floor * 1000:7.1f} ms")
    missed = []
    for url in PAGES:
        times = _time_page(client, url, repeat, all_times=True)
        median = statistics.median(times)
        ok = median < PAGE_GOAL
        if not ok:
            missed.append(url)
        print(
            f"  {url:42s} median {median * 1000:7.1f} ms  "
            f"(runs: {', '.join(f'{x * 1000:.0f}' for x in times)})  "
            f"{'ok' if ok else 'GOAL MISSED'}"
        )
    if missed:
        print(f"GOAL MISSED on {connection.vendor}: {len(missed)} pages over 200 ms: {missed}")
    else:
        print(f"goal met on {connection.vendor}: every page under 200 ms")


def _time_page(client, url: str, repeat: int, *, all_times: bool = False):
    import statistics

    first = client.get(url)  # warm: caches, templates, translations
    if first.status_code >= 400:
        raise SystemExit(f"GET {url}: {first.status_code}")
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        times.append(time.perf_counter() - t)
    return times if all_times else statistics.median(times)


def pages_main(args) -> None:
    """Each database in its own process (Django is configured once per process)."""
    followers = max(1000, int(2_000_000 * args.scale))
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in dbs:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HIRONDELLE_")}
        server = None
        if db == "postgres":
            from tests.support.postgres import start_postgres

            server = start_postgres()
            env["HIRONDELLE_DATABASE_URL"] = server.url
        try:
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--pages-child",
                    db,
                    "--followers",
                    str(followers),
                    "--repeat",
                    str(args.repeat),
                ],
                env=env,
                check=True,
            )
        finally:
            if server:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--follows", type=int, default=5000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of uploads")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (postgres)")
    parser.add_argument("--drain", action="store_true", help="also wait for every import")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="serve without the in-process worker (imports wait): the web side alone",
    )
    parser.add_argument(
        "--pages",
        action="store_true",
        help="time every page of a 2,000,000-follower account instead (with --scale, --db)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per page")
    parser.add_argument("--followers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pages-child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pages_child:
        pages_child(args.pages_child, args.followers, args.repeat)
        return
    if args.pages:
        pages_main(args)
        return
    if args.db == "both":
        parser.error("--db both goes with --pages; run the uploads once per database")
    n = max(args.concurrency, int(args.uploads * args.scale))

    print(f"generating the needed files of {min(n, 8)} archives with {args.follows} follows…")
    templates = [needed_files(args.follows, seed) for seed in range(min(n, 8))]
    size = sum(len(b) for b in templates[0].values())
    print(f"  {len(templates[0])} files, {size / 1e6:.2f} MB sent per upload")

    data_dir = Path(tempfile.mkdtemp(prefix="hirondelle-portal-bench-"))
    pg = None
    workers: list[subprocess.Popen] = []
    # Every simulated person uploads from 127.0.0.1: the per-address limit
    # would count them as one.
    extra = {"HIRONDELLE_UPLOAD_RATE": "", "HIRONDELLE_SIGNIN_RATE": ""}
    if os.environ.get("PORTAL_BENCH_SETTINGS"):  # compare a settings variant (diagnosis)
        extra["DJANGO_SETTINGS_MODULE"] = os.environ["PORTAL_BENCH_SETTINGS"]
        extra["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    if args.db == "postgres":
        from tests.support.postgres import start_postgres

        pg = start_postgres()
        extra["HIRONDELLE_DATABASE_URL"] = pg.url
        env = {**os.environ, "HIRONDELLE_DATA_DIR": str(data_dir), **extra}
        subprocess.run([sys.executable, "-m", "hirondelle", "migrate"], env=env, check=True)
    portal = serve_portal(
        data_dir, extra_env=extra, no_worker=args.db == "postgres" or args.no_worker
    )
    try:
        if args.db == "postgres":
            for _ in range(args.workers):
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "hirondelle", "worker"],
                        env=portal.env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        sessions = make_sessions(portal, n)
        base = portal.url
        # Warm up: one upload, not counted.
        _warm_latency, _ = upload(client(base, sessions[0]), base, templates[0])

        latencies: list[float] = []
        laps: list[float] = []
        lock = threading.Lock()
        counter = iter(range(1, n))

        def worker_thread():
            for i in counter:
                s = client(base, sessions[i])
                total, own = upload(s, base, templates[i % len(templates)])
                with lock:
                    latencies.append(total)
                    laps.extend(own)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker_thread) for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        done = len(latencies)
        rate = done / wall
        states = imports_left(portal)

        base_rate = baseline(base, sessions, 400, args.concurrency)

        print(
            f"\nportal uploads ({args.db}, {args.concurrency} concurrent, {done} uploads of "
            f"{args.follows} follows, {len(templates[0])} files each):"
        )
        print(f"  sustained: {rate:.1f} uploads/s over {wall:.1f} s  (target 10/s)")
        print(
            f"  upload latency p50 {percentile(latencies, 50):.3f} s, "
            f"p95 {percentile(latencies, 95):.3f} s, max {max(latencies):.3f} s  (target p95 < 2 s)"
        )
        print(
            f"  request latency p50 {percentile(laps, 50) * 1000:.0f} ms, "
            f"p95 {percentile(laps, 95) * 1000:.0f} ms over {len(laps)} requests "
            f"({len(laps) / wall:.0f} requests/s)"
        )
        print(f"  imports when the uploads ended: {states}")
        print(
            f"  baseline: smallest authenticated JSON view, {base_rate:.0f} requests/s "
            f"at the same concurrency"
        )
        if args.drain:
            t1 = time.perf_counter()
            while True:
                states = imports_left(portal)
                if not states.get("queued") and not states.get("importing"):
                    break
                time.sleep(2)
            drained = time.perf_counter() - t1
            print(
                f"  imports drained {drained:.1f} s after the uploads ended: {states} "
                f"({done / (wall + drained):.2f} imports/s end to end)"
            )
    finally:
        for w in workers:
            w.terminate()
            w.wait()
        stop_portal(portal)
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
