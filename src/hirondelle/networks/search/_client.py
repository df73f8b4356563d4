"""The one place discovery's network code gets an HTTP client.

Every outgoing request of discovery goes to an address a setting, an archive
or a profile supplied, so it must pass the project's one request guard
(`hirondelle.networks.guard`) where it exists; this function is the single
switch for that.
"""

from __future__ import annotations

from typing import Any

import httpx
import requests

__all__ = ["http_client", "requests_session"]

USER_AGENT = "hirondelle (+https://hirondelle.example/bot)"


def http_client(**kwargs: Any) -> httpx.Client:
    """An httpx client for discovery's requests (through the guard when present)."""
    kwargs.setdefault("headers", {"User-Agent": USER_AGENT})
    try:
        from hirondelle.networks import guard  # type: ignore[attr-defined]
    except ImportError:
        return httpx.Client(**kwargs)
    return guard.httpx_client(**kwargs)


def requests_session() -> requests.Session:
    """A requests session (mastodon.py's transport), through the guard when present."""
    try:
        from hirondelle.networks import guard  # type: ignore[attr-defined]
    except ImportError:
        return requests.Session()
    return guard.requests_session()
