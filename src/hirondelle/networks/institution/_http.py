"""The one place the institution tools make their HTTP clients."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["http_client"]


def http_client(**kwargs: Any) -> httpx.Client:
    """An httpx client for the institution's servers (to be routed through networks.guard)."""
    kwargs.setdefault("timeout", 30.0)
    return httpx.Client(**kwargs)
