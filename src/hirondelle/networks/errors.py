"""Errors raised by the network adapters.

Adapters translate every third-party error (mastodon.py, atproto, httpx) at
the boundary, so callers only ever handle these::

    NetworkError
    ├── Transient                 retry later: the same action may succeed
    │   ├── RateLimited           carries retry_after (seconds)
    │   └── Unavailable           server down, timeout, 5xx
    └── Permanent                 retrying will not help
        ├── AuthExpired           the token or session is no longer valid
        ├── NotFound              no such account or post
        ├── Refused               the server said no (blocked, limit, 4xx)
        └── InvalidResponse       the server answered something unreadable

A failure is a fact about one action of one person, never about the target
account for everybody.
"""

from __future__ import annotations

__all__ = [
    "AuthExpired",
    "InvalidResponse",
    "NetworkError",
    "NotFound",
    "Permanent",
    "RateLimited",
    "Refused",
    "Transient",
    "Unavailable",
]


class NetworkError(Exception):
    """Base of every adapter error; `message` is safe to show to the person."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Transient(NetworkError):
    pass


class RateLimited(Transient):
    def __init__(self, message: str, *, retry_after: float, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Unavailable(Transient):
    pass


class Permanent(NetworkError):
    pass


class AuthExpired(Permanent):
    pass


class NotFound(Permanent):
    pass


class Refused(Permanent):
    pass


class InvalidResponse(Permanent):
    pass
