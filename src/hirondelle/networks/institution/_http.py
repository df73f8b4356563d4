"""The one place the institution tools make their HTTP clients: through the guard.

The institution's servers are named by its operator, the rel=me page by the
institution: all pass `networks.guard` (public HTTPS addresses only; a PDS on
a private network needs HIRONDELLE_ALLOW_PRIVATE_ADDRESSES, as for tests).
"""

from __future__ import annotations

from typing import Any

import httpx

from hirondelle.networks import guard

__all__ = ["http_client"]


def http_client(*, policy: guard.Policy | None = None, **kwargs: Any) -> httpx.Client:
    """A guarded httpx client; `transport` may only be the guard's own (or a mock in tests)."""
    return guard.httpx_client(policy=policy, **kwargs)
