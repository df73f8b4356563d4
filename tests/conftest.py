"""Fixtures shared by the whole suite.

`pytest --postgres` runs the database tests against a real PostgreSQL server
that this file starts on 127.0.0.1 (and stops at the end); without the flag
they run on SQLite. `scripts/test` runs both passes.
"""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

from tests.support.atproto_peer import atproto_peer
from tests.support.browser import browser
from tests.support.listener import serve
from tests.support.mastodon_peer import _mastodon_server, mastodon_peer
from tests.support.postgres import start_postgres

# The real peers, one per test session, shared by every test that needs them.
# One Chromium too: a second sync_playwright() in the same thread fails, so
# the session's `browser` is defined here only.
__all__ = ["_mastodon_server", "atproto_peer", "browser", "mastodon_peer", "serve"]

_server = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        help="Run database tests on a PostgreSQL server started for the run.",
    )


_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _loopback_only(getaddrinfo):
    """Wrap `socket.getaddrinfo` so the suite never asks a DNS server anything.

    Tests may name hosts that do not exist (`remote.example`, `mock.local`);
    the system resolver would send those questions to the machine's DNS
    server, outside 127.0.0.0/8. Here they fail at once, as an unknown name
    does, and addresses and loopback names resolve as before.
    """

    def lookup(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or name.lower().rstrip(".") in _LOOPBACK_NAMES:
            return getaddrinfo(host, *args, **kwargs)
        if name.lower().rstrip(".").endswith(".localhost"):
            return getaddrinfo("localhost", *args, **kwargs)
        try:
            ipaddress.ip_address(name.split("%", 1)[0])
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, f"no DNS in the test suite: {name}") from None
        return getaddrinfo(host, *args, **kwargs)

    lookup.__wrapped__ = getaddrinfo
    return lookup


def pytest_configure(config: pytest.Config) -> None:
    global _server
    socket.getaddrinfo = _loopback_only(socket.getaddrinfo)
    # The peers (Mastodon, atproto, X stand-ins) listen on 127.0.0.1 over plain
    # HTTP: the suite allows private addresses, as HIRONDELLE_ALLOW_PRIVATE_ADDRESSES
    # does for a local peer. The guard's own tests pass a strict policy.
    from hirondelle.networks import guard

    guard.configure(guard.Policy(allow_private=True))
    if not config.getoption("--postgres"):
        return
    import dj_database_url
    from asgiref.local import Local
    from django.conf import settings
    from django.db import connections

    _server = start_postgres()
    settings.DATABASES["default"] = dj_database_url.parse(_server.url)
    # Django may already hold a connection handler built from the SQLite
    # settings: forget it, so the next access reads the new settings.
    connections.__dict__.pop("settings", None)
    connections._settings = None
    connections._connections = Local(connections.thread_critical)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None:
        _server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--postgres"):
        return
    skip = pytest.mark.skip(reason="PostgreSQL-only: runs in `pytest --postgres`")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_hirondelle_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from the suite's environment, whatever the last one set."""
    for name in list(os.environ):
        if (
            name.startswith("HIRONDELLE_")
            and name not in ("HIRONDELLE_DATA_DIR", "HIRONDELLE_SERVERS_LIST_URL")
            and not name.startswith("HIRONDELLE_TEST_")
        ):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _suite_guard_policy() -> None:
    """Every test starts with the suite's guard policy, whatever the last one set."""
    from hirondelle.networks import guard

    guard.configure(guard.Policy(allow_private=True))


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counts live in Django's cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A command run in-process switches to English: the next test starts afresh."""
    yield
    from django.utils import translation

    translation.deactivate()
