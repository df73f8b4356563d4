"""Benchmark: what the outgoing-connection guard costs.

In one run, on 127.0.0.1 only (private addresses allowed for the listener):

- the JSON depth check on a realistic 512 kB answer (a page of statuses),
  against `json.loads` of the same bytes, which every caller does anyway;
- 200 GET requests of a 20 kB JSON answer through the guarded `httpx` and
  `requests` clients, against bare clients of the same libraries (one
  connection kept alive in both cases).

Goal: the depth check costs less than the parse it protects, and a guarded request
adds under 250 µs to a bare one (on loopback, where a request costs well under a
millisecond; a real server's round trip is tens of milliseconds). Prints the
figures and says when a goal is missed.

    .venv/bin/python bench/guard_bench.py
"""

from __future__ import annotations

import http.server
import json
import multiprocessing
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import httpx  # noqa: E402
import requests  # noqa: E402

from hirondelle.networks import guard  # noqa: E402

REQUESTS = 200


def _status(i: int) -> dict:
    return {
        "id": str(10**17 + i),
        "content": "<p>Hello [world] {not json} " + "x" * 800 + "</p>",
        "account": {"id": str(i), "acct": f"user{i}@example.org", "fields": [{"name": "a"}]},
        "media_attachments": [{"type": "image", "meta": {"original": {"width": 1}}}],
        "tags": [{"name": "t"}],
    }


def _page(target: int) -> bytes:
    items, body = [], b"[]"
    while len(body) < target:
        items.append(_status(len(items)))
        body = json.dumps(items).encode()
    return body


def best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _serve(pipe) -> None:
    body = _page(20 * 1024)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    pipe.send(server.server_address[1])
    server.serve_forever()


def main() -> int:
    missed = []
    big = _page(512 * 1024 - 4096)
    depth = best(lambda: guard.check_json_depth(big))
    parse = best(lambda: json.loads(big))
    ratio = depth / parse
    print(
        f"depth check of {len(big) // 1024} kB: {depth * 1000:.2f} ms; json.loads: "
        f"{parse * 1000:.2f} ms; ratio {ratio:.2f} (goal < 1: cheaper than the parse it guards)"
    )
    if ratio >= 1:
        missed.append("depth check")

    # The listener runs in its own process: no GIL shared with the clients.
    port_pipe, child_pipe = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(child_pipe,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port_pipe.recv()}/"
    policy = guard.Policy(allow_private=True)

    def per_request(get) -> float:
        get()  # open the connection
        return best(lambda: [get() for _ in range(REQUESTS)], repeat=5) / REQUESTS

    results = {"httpx": [float("inf")] * 2, "requests": [float("inf")] * 2}
    for _ in range(3):  # interleaved rounds: the best of each, machine noise evened out
        with httpx.Client() as bare, guard.httpx_client(policy=policy) as guarded:
            h = results["httpx"]
            h[0] = min(h[0], per_request(lambda: bare.get(url).json()))
            h[1] = min(h[1], per_request(lambda: guarded.get(url).json()))
        with requests.Session() as bare, guard.requests_session(policy=policy) as guarded:
            r = results["requests"]
            r[0] = min(r[0], per_request(lambda: bare.get(url, timeout=10).json()))
            r[1] = min(r[1], per_request(lambda: guarded.get(url, timeout=10).json()))
    server.terminate()
    h_bare, h_guard = results["httpx"]
    r_bare, r_guard = results["requests"]
    for name, plain, checked in (("httpx", h_bare, h_guard), ("requests", r_bare, r_guard)):
        added = (checked - plain) * 1e6
        print(
            f"{name}: bare {plain * 1e6:.0f} µs/request, guarded {checked * 1e6:.0f} "
            f"µs/request: {added:+.0f} µs (goal < +250 µs)"
        )
        if added >= 250:
            missed.append(name)
    if missed:
        print("GOAL MISSED:", ", ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
