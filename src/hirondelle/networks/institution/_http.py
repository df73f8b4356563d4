"""The one place the institution tools make their HTTP clients: through the guard.

The institution's servers are named by its operator, the rel=me page by the
institution: all pass `networks.guard` (public HTTPS addresses only; a PDS on
a private network needs HIRONDELLE_ALLOW_PRIVATE_ADDRESSES, as for tests).
"""

from __future__ import annotations

from typing import Any, Self

import httpx

from hirondelle.networks import guard

__all__ = ["ServerClient", "http_client"]


def http_client(*, policy: guard.Policy | None = None, **kwargs: Any) -> httpx.Client:
    """A guarded httpx client; `transport` may only be the guard's own (or a mock in tests)."""
    return guard.httpx_client(policy=policy, **kwargs)


class ServerClient:
    """What the institution's clients share: one guarded client to one server's URL.

    Subclasses are dataclasses with `url` and `transport` fields; their
    `__post_init__` calls `_connect`. Usable in `with`.
    """

    url: str
    transport: httpx.BaseTransport | None
    _client: httpx.Client

    def _connect(self, **kwargs: Any) -> None:
        self.url = self.url.rstrip("/")
        if self.transport is not None:
            kwargs["transport"] = self.transport
        self._client = http_client(base_url=self.url, **kwargs)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
