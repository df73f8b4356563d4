"""One way to talk to a Mastodon-API server: through mastodon.py's request core.

mastodon.py's public helpers encode booleans as ``0``/``1`` and single ids
without ``[]`` (see its ``__generate_params``); several servers that speak the
Mastodon API (GoToSocial, Akkoma…) reject those forms. So every call goes
through mastodon.py's request core with parameters we shape ourselves, in the
documented forms: JSON bodies with real booleans and arrays, ``name[]`` for
arrays in query strings. mastodon.py still does what it is good at: the
session, bearer auth, the user agent, timeouts and its error classes, which
this module translates into ours at the boundary.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from hirondelle.networks import guard
from hirondelle.networks.errors import (
    AuthExpired,
    InvalidResponse,
    NetworkError,
    NotFound,
    RateLimited,
    Refused,
    Unavailable,
    why_unreachable,
)

USER_AGENT = "hirondelle (+https://hirondelle.example/bot)"
DEFAULT_TIMEOUT = 30.0
#: when the server says 429 and gives no hint, wait this long
FALLBACK_RETRY_AFTER = 60.0

_REQUEST_CORE = "_Mastodon__api_request"
if not hasattr(Mastodon, _REQUEST_CORE):  # pragma: no cover - guards a mastodon.py upgrade
    raise ImportError(
        "This mastodon.py release no longer has the request core Hirondelle uses; "
        "install a 2.x release (`pip install 'mastodon.py>=2,<3'`)."
    )

Params = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RateHeaders:
    """What one answer said about the rate-limit window, on our clock."""

    limit: float
    remaining: float
    reset_at: float  # seconds on the caller's clock
    retry_after: float | None = None
    #: how much earlier than `reset_at` the window may really end: whole-second
    #: headers (a truncated reset, a truncated Date) leave up to a second each
    uncertainty: float = 0.0
    #: the reset as the server wrote it: the same value, the same window
    window: str = ""


def query_params(params: Params) -> list[tuple[str, str]]:
    """Query-string pairs in the documented forms: ``id[]=1&id[]=2``, ``true``/``false``."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((f"{name}[]", _scalar(v)) for v in value)
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parse_time(value: str) -> float | None:
    """Epoch seconds from an ISO 8601 time (Mastodon) or epoch digits (GoToSocial)."""
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def rate_headers(headers: Mapping[str, str], now: float) -> RateHeaders | None:
    """Read ``X-RateLimit-*`` (and ``Retry-After``), mapped onto our clock.

    The reset time is taken relative to the server's ``Date`` header when there
    is one, so a skewed server clock (or a simulated clock here) stays correct.
    """
    retry_after = _retry_after(headers, now)
    try:
        limit = float(headers["X-RateLimit-Limit"])
        remaining = float(headers["X-RateLimit-Remaining"])
    except (KeyError, ValueError):
        if retry_after is None:
            return None
        return RateHeaders(math.nan, 0.0, now + retry_after, retry_after)
    raw_reset = headers.get("X-RateLimit-Reset", "").strip()
    reset = _parse_time(raw_reset)
    uncertainty = 0.0
    if reset is not None and raw_reset.isdigit():
        # Whole seconds (GoToSocial, mastodon-mock): the window ends somewhere in
        # the second after; starting the next one early draws a 429.
        reset += 1.0
        uncertainty += 1.0
    if reset is None:
        reset_at = now + (retry_after or FALLBACK_RETRY_AFTER)
    else:
        server_now = _server_date(headers)
        if server_now is not None:
            # Date is truncated to the second: the server's clock may be up to
            # a second later than it says, so the reset may come that much sooner.
            reset_at = now + (reset - server_now)
            uncertainty += 1.0
        else:
            reset_at = reset
    return RateHeaders(limit, remaining, reset_at, retry_after, uncertainty, raw_reset)


def _server_date(headers: Mapping[str, str]) -> float | None:
    date = headers.get("Date")
    if not date:
        return None
    try:
        return email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


def _retry_after(headers: Mapping[str, str], now: float) -> float | None:
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    server_now = _server_date(headers)
    return max(0.0, when - (server_now if server_now is not None else time.time()))


class Api:
    """A mastodon.py client plus the last answer's headers, errors translated.

    Not thread-safe (neither is mastodon.py): one per worker.
    """

    def __init__(
        self,
        base_url: str,
        access_token: str | None = None,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):  # the guard then checks more
            raise ValueError(
                f"Server address {base_url!r} must start with https:// (for example "
                "https://mastodon.social)."
            )
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.owns_session = session is None
        # Every address comes from a person (their server): through the guard.
        self.session = (
            session if session is not None else guard.requests_session(policy=guard.api_policy())
        )
        self.last_response: requests.Response | None = None
        self.session.hooks.setdefault("response", []).append(self._remember)
        self.client = Mastodon(
            api_base_url=self.base_url,
            access_token=access_token,
            session=self.session,
            ratelimit_method="throw",
            version_check_mode="none",
            request_timeout=timeout,
            user_agent=USER_AGENT,
        )
        self._core = getattr(self.client, _REQUEST_CORE)

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_response = response

    def close(self) -> None:
        """Unhook from a borrowed session; close our own."""
        hooks = self.session.hooks.get("response", [])
        if self._remember in hooks:
            hooks.remove(self._remember)
        if self.owns_session:
            self.session.close()

    def call(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        *,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        form: bool = False,
    ) -> tuple[Any, requests.Response]:
        """Send one request; return (decoded JSON, response). Raises only NetworkError.

        GET parameters go in the query string (``name[]`` arrays); other methods
        send a JSON body, or multipart when `files` are given, or a form body
        when `form` is set (OAuth endpoints, which RFC 6749 defines as forms).
        """
        self.last_response = None
        body: Any
        use_json = False
        if method == "GET":
            body = query_params(params or {})
        elif files or form:
            body = {k: _scalar(v) for k, v in (params or {}).items() if v is not None}
        else:
            body = dict(params or {})
            use_json = True
        try:
            response = self._core(
                method,
                path,
                body,
                files=dict(files or {}),
                headers=dict(headers or {}),
                do_ratelimiting=False,
                use_json=use_json,
                return_response_object=True,
            )
        except MastodonError as error:
            refused = guard.guard_error(error)  # mastodon.py wraps every exception
            if refused is not None:
                raise refused from error
            raise self.translate(error) from error
        return self._decode(response), response

    def _decode(self, response: requests.Response) -> Any:
        if not response.content:
            return {}
        try:
            guard.check_json_depth(response.content)
            return json.loads(response.content)
        except ValueError as error:
            raise InvalidResponse(
                f"The server at {self.base_url} answered {response.status_code} with something "
                "that is not JSON; is this a Mastodon-compatible server?",
                status=response.status_code,
            ) from error

    def rate(self) -> RateHeaders | None:
        """Rate-limit headers of the last answer, if it carried any."""
        if self.last_response is None:
            return None
        return rate_headers(self.last_response.headers, self.clock())

    def translate(self, error: MastodonError) -> NetworkError:
        """mastodon.py's error → ours, with a message a person can act on."""
        status = _status(error)
        detail = _detail(error)
        where = self.base_url
        if isinstance(error, MastodonRatelimitError) or status == 429:
            rate = self.rate()
            retry = FALLBACK_RETRY_AFTER
            if rate is not None:
                retry = (
                    rate.retry_after
                    if rate.retry_after is not None
                    else max(0.0, rate.reset_at - self.clock())
                )
            return RateLimited(
                f"{where} asks us to slow down; Hirondelle will continue in {retry:.0f} s.",
                retry_after=retry,
            )
        if isinstance(error, MastodonNetworkError):
            return Unavailable(f"Could not reach {where}: {why_unreachable(error)}.")
        if (
            isinstance(error, MastodonUnauthorizedError)
            or status == 401
            or (status == 403 and "scope" in detail.lower())
        ):
            return AuthExpired(
                f"{where} no longer accepts Hirondelle's sign-in ({detail}); "
                "connect the account again.",
                status=status,
            )
        if isinstance(error, MastodonNotFoundError) or status in (404, 410):
            return NotFound(f"{where}: not found ({detail}).", status=status)
        if isinstance(error, MastodonServerError) or (status is not None and status >= 500):
            return Unavailable(f"{where} is having trouble (HTTP {status}).", status=status)
        if isinstance(error, MastodonAPIError) and status is not None:
            return Refused(f"{where} refused: {detail} (HTTP {status}).", status=status)
        return InvalidResponse(f"{where} answered something unreadable.", status=status)


def _status(error: MastodonError) -> int | None:
    for arg in error.args[1:2]:
        if isinstance(arg, int):
            return arg
    return None


def _detail(error: MastodonError) -> str:
    if len(error.args) >= 4 and error.args[3]:
        return str(error.args[3])
    if len(error.args) >= 3 and error.args[2]:
        return str(error.args[2])
    return str(error)
