"""The one place discovery's network code gets an HTTP client: from the guard.

Every request discovery makes goes to an address a setting, an archive or a
profile supplied, so it passes the project's one request guard
(`hirondelle.networks.guard`: public addresses only, size, depth and
deadline limits), with the limits of API calls.
"""

from __future__ import annotations

from typing import Any

import httpx

from hirondelle.networks import guard

__all__ = ["USER_AGENT", "http_client"]

USER_AGENT = "hirondelle (+https://hirondelle.example/bot)"


def http_client(**kwargs: Any) -> httpx.Client:
    """A guarded httpx client for discovery's requests."""
    kwargs.setdefault("headers", {"User-Agent": USER_AGENT})
    return guard.httpx_client(policy=guard.api_policy(), **kwargs)
