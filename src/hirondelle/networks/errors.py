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
    "why_unreachable",
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


def why_unreachable(error: BaseException) -> str:
    """What went wrong when a server could not be reached, in a few plain words.

    Client libraries wrap the cause several layers deep ("HTTPSConnectionPool
    … Max retries exceeded … NewConnectionError …"); this finds it, so an
    error reads as one sentence: "Could not reach X: the connection was refused."
    """
    import socket
    import ssl

    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror) or "resolve" in type(current).__name__.lower():
            return "no server answers to that name"
        if isinstance(current, ConnectionRefusedError):
            return "the connection was refused"
        if isinstance(current, TimeoutError) or "timeout" in type(current).__name__.lower():
            return "it did not answer in time"
        if isinstance(current, ssl.SSLError) or "ssl" in type(current).__name__.lower():
            return "its secure connection (TLS) could not be verified"
        if isinstance(current, ConnectionResetError):
            return "the connection was cut"
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += [a for a in current.args if isinstance(a, BaseException)]
    return "the connection failed"
