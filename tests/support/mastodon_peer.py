"""A Mastodon-API peer on 127.0.0.1 for the adapter tests: `mastodon-mock`.

`mastodon-mock` (PyPI) is a stateful imitation of Mastodon's REST API (FastAPI
over SQLite), not Mastodon: no federation, no WebFinger resolution, rate
limiting only when asked. It runs as a real HTTP server in a thread, on a
port the OS picks, so the adapter talks real HTTP through mastodon.py.

Also here: a request recorder (a `requests` session hook) for the contract
tests, and `ScriptedAdapter`, a `requests` transport that answers from a
script, for what no server does on demand (429 storms, timeouts, garbage).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from mastodon_mock.config import (
    DatabaseConfig,
    MastodonMockConfig,
    RateLimitConfig,
    SeedAccount,
    SeedConfig,
    SeedFollow,
    StreamingConfig,
)
from mastodon_mock.testing import MockServer
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

__all__ = [
    "INSTANCE",
    "SEED",
    "MastodonPeer",
    "RecordedRequest",
    "Recorder",
    "ScriptedAdapter",
    "http_date",
    "mastodon_peer",
    "reply",
    "scripted_session",
    "server_limits",
    "start_mastodon_peer",
]

#: me (alice, local), two local people (carol's account is locked), and
#: people on other servers as the mock stores them (it does not federate).
SEED = SeedConfig(
    accounts=[
        SeedAccount(username="alice", display_name="Alice", access_token="alice_token"),
        SeedAccount(username="bob", display_name="Bob", access_token="bob_token"),
        SeedAccount(username="carol", display_name="Carol", locked=True, access_token="c_tok"),
        SeedAccount(username="dave", display_name="Dave", domain="remote.example"),
        SeedAccount(username="erin", display_name="Erin", domain="other.example"),
    ],
    follows=[SeedFollow(follower="alice", following="bob")],
)
TOKEN = "alice_token"


@dataclass
class MastodonPeer:
    server: MockServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def reset(self) -> None:
        requests.post(f"{self.base_url}/api/v1/_mock/reset", timeout=10).raise_for_status()

    def fault(self, **rule: Any) -> str:
        """Add a fault rule (see mastodon_mock/faults.py); returns its id."""
        r = requests.post(f"{self.base_url}/api/v1/_mock/faults", json=rule, timeout=10)
        r.raise_for_status()
        return r.json()["id"]

    def as_user(self, token: str) -> requests.Session:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        return s

    def get(self, path: str, token: str = TOKEN, **params: Any) -> Any:
        """Read the server's state directly, bypassing the adapter."""
        with self.as_user(token) as s:
            r = s.get(f"{self.base_url}{path}", params=params, timeout=10)
            r.raise_for_status()
            return r.json()


def start_mastodon_peer(*, ratelimit: int | None = None, window: int = 300) -> MockServer:
    config = MastodonMockConfig(
        database=DatabaseConfig(path=":memory:"),
        seed=SEED,
        streaming=StreamingConfig(enabled=False),
        ratelimit=RateLimitConfig(
            enabled=ratelimit is not None, limit=ratelimit or 300, window_seconds=window
        ),
    )
    return MockServer(config=config).start()


@contextlib.contextmanager
def server_limits(
    *, max_characters: int, max_media_attachments: int | None = None
) -> Iterator[None]:
    """Make the mock serve (and enforce) another server's limits, for the `with` block.

    mastodon-mock (a mock, not Mastodon) hard-codes Mastodon's defaults (500
    characters, 4 media) in its instance document and in its status checks;
    real servers choose their own (glitch-soc and many others allow 5,000 or
    10,000). The mock runs in this process, so the two constants are swapped
    here and restored after.
    """
    from mastodon_mock.routers import statuses
    from mastodon_mock.serializers import instance

    config = instance._STATUS_CONFIG
    saved = (dict(config), statuses.MAX_STATUS_CHARACTERS, statuses.MAX_MEDIA_ATTACHMENTS)
    config["max_characters"] = max_characters
    statuses.MAX_STATUS_CHARACTERS = max_characters
    if max_media_attachments is not None:
        config["max_media_attachments"] = max_media_attachments
        statuses.MAX_MEDIA_ATTACHMENTS = max_media_attachments
    try:
        yield
    finally:
        config.clear()
        config.update(saved[0])
        statuses.MAX_STATUS_CHARACTERS, statuses.MAX_MEDIA_ATTACHMENTS = saved[1:]


@pytest.fixture(scope="session")
def _mastodon_server() -> Iterator[MockServer]:
    server = start_mastodon_peer()
    yield server
    server.stop()


@pytest.fixture
def mastodon_peer(_mastodon_server: MockServer) -> MastodonPeer:
    """The session's mock server, reset to the seed before each test."""
    peer = MastodonPeer(_mastodon_server)
    peer.reset()
    return peer


# --- recording requests ------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    content_type: str
    body: Any  # dict (JSON), list of pairs (form), or raw bytes (multipart)
    headers: dict[str, str]


@dataclass
class Recorder:
    """Every request a session sent, as the server received it."""

    requests: list[RecordedRequest] = field(default_factory=list)

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.requests.append(record(response.request))

    def attach(self, session: requests.Session) -> requests.Session:
        session.hooks.setdefault("response", []).append(self.hook)
        return session

    def paths(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]


def record(prepared: requests.PreparedRequest) -> RecordedRequest:
    url = urlsplit(prepared.url or "")
    ctype = prepared.headers.get("Content-Type", "")
    raw = prepared.body
    body: Any = raw
    if isinstance(raw, str):
        raw = raw.encode()
    if ctype.startswith("application/json") and raw:
        body = json.loads(raw)
    elif ctype.startswith("application/x-www-form-urlencoded") and raw:
        body = parse_qsl(raw.decode(), keep_blank_values=True)
    return RecordedRequest(
        method=prepared.method or "",
        path=url.path,
        query=parse_qsl(url.query, keep_blank_values=True),
        content_type=ctype,
        body=body,
        headers=dict(prepared.headers),
    )


# --- scripted transport ------------------------------------------------------

#: an instance document as Mastodon 4.x serves it (the parts the adapter reads)
INSTANCE = {
    "domain": "social.example",
    "configuration": {
        "statuses": {
            "max_characters": 1000,
            "characters_reserved_per_url": 23,
            "max_media_attachments": 4,
        },
        "media_attachments": {"description_limit": 1500},
    },
}


def http_date(t: float) -> str:
    """A `Date` header value for epoch seconds `t`."""
    return email.utils.formatdate(t, usegmt=True)


Reply = Callable[[RecordedRequest], "requests.Response | Exception"]


def reply(
    status: int = 200,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Callable[[RecordedRequest], requests.Response]:
    """A canned answer."""

    def make(req: RecordedRequest) -> requests.Response:
        r = requests.Response()
        r.status_code = status
        r._content = (
            raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        )
        r.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
        r.reason = "scripted"
        return r

    return make


class ScriptedAdapter(BaseAdapter):
    """Answers each request with the first matching (method, path) rule.

    A rule's answers are consumed in order; the last one repeats.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rules: list[tuple[str, str, list[Any]]] = []
        self.seen: list[RecordedRequest] = []

    def on(self, method: str, path: str, *answers: Any) -> ScriptedAdapter:
        self.rules.append((method, path, list(answers)))
        return self

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        req = record(request)
        self.seen.append(req)
        for method, path, answers in self.rules:
            if method == req.method and path == req.path:
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if isinstance(answer, Exception):
                    raise answer
                response = answer(req)
                response.request = request
                response.url = request.url or ""
                return response
        raise AssertionError(f"unscripted request {req.method} {req.path}")

    def close(self) -> None:
        pass


def scripted_session(adapter: ScriptedAdapter) -> requests.Session:
    s = requests.Session()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s
