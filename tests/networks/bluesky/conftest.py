"""Fixtures for the Bluesky adapter tests: the real atproto stack on 127.0.0.1.

The stack (PLC + PDS + AppView from npm `@atproto/dev-env`) starts once per
session (tests/support/atproto_peer.py) with the PDS's production rate
limits switched on. Each test makes its own accounts, so tests share nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from hirondelle.networks.bluesky import BlueskyAdapter
from tests.support.atproto_peer import AtprotoPeer, TestAccount

__all__ = ["account", "make_adapter", "xrpc"]


@pytest.fixture
def account(atproto_peer: AtprotoPeer) -> TestAccount:
    """A fresh account on the local PDS."""
    return atproto_peer.create_account()


@pytest.fixture
def make_adapter(atproto_peer: AtprotoPeer) -> Iterator[Callable[..., BlueskyAdapter]]:
    """Build adapters signed in as a test account; all are closed at the end."""
    made: list[BlueskyAdapter] = []

    def make(who: TestAccount, **kwargs) -> BlueskyAdapter:
        password = kwargs.pop("app_password", who.app_password)
        adapter = BlueskyAdapter(atproto_peer.pds, who.handle, password, **kwargs)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture
def xrpc(atproto_peer: AtprotoPeer) -> Iterator[Callable[..., dict]]:
    """Read the servers directly, not through the adapter: xrpc(method, base=None, **params)."""
    with httpx.Client(timeout=30) as client:

        def get(method: str, base: str | None = None, **params) -> dict:
            response = client.get(f"{base or atproto_peer.pds}/xrpc/{method}", params=params)
            response.raise_for_status()
            return response.json()

        yield get
