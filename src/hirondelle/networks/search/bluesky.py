"""Bluesky's public AppView, read without signing in: search people, read profiles.

`app.bsky.actor.searchActors` finds accounts by words of handle, display name
and bio (production's search service; the reference AppView alone matches
handle substrings only); `app.bsky.actor.getProfiles` reads up to 25 full
profiles (counts, creation date) per request. The public API allows about
3,000 requests per 5 minutes per address, shared by everyone behind it, so
every request is charged to a `Budget` whose state the caller keeps, and the
server's `ratelimit-*` headers correct it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import httpx

from hirondelle.networks import guard
from hirondelle.networks.budget import Budget, Pool
from hirondelle.networks.errors import (
    InvalidResponse,
    RateLimited,
    Refused,
    Unavailable,
)
from hirondelle.networks.search._client import http_client
from hirondelle.networks.search.profiles import PublicProfile

__all__ = ["DEFAULT_APPVIEW", "PROFILES_PER_CALL", "PUBLIC_POOLS", "BlueskyPublic"]

DEFAULT_APPVIEW = "https://public.api.bsky.app"
#: getProfiles takes at most 25 actors
PROFILES_PER_CALL = 25
#: Bluesky's per-address limit on all requests (platform-limits.md); headers win.
PUBLIC_POOLS: Mapping[str, Pool] = MappingProxyType({"requests": Pool(limit=3000, period=300)})
_REQUEST = {"requests": 1.0}
FALLBACK_RETRY_AFTER = 60.0


def _text(value: Any, limit: int = 3000) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def profile_from_view(view: Any) -> PublicProfile | None:
    """A ProfileView(Detailed) → PublicProfile; None when it lacks a DID or handle."""
    if not isinstance(view, dict):
        return None
    did, handle = view.get("did"), view.get("handle")
    if not isinstance(did, str) or not did.startswith("did:") or not isinstance(handle, str):
        return None
    return PublicProfile(
        network="bluesky",
        account=did,
        handle=handle.lower(),
        display_name=_text(view.get("displayName"), 640),
        description=_text(view.get("description")),
        avatar=_text(view.get("avatar"), 2000),
        followers=_count(view.get("followersCount")),
        posts=_count(view.get("postsCount")),
        created_at=_text(view.get("createdAt"), 64),
    )


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BlueskyPublic:
    """Unauthenticated reads from one AppView, charged to one shared budget.

    `requests` counts what was sent, per method (for "requests per person found").
    """

    def __init__(
        self,
        base_url: str = DEFAULT_APPVIEW,
        *,
        budget_state: Mapping[str, Mapping[str, float]] | None = None,
        clock: Callable[[], float] = time.time,
        client: httpx.Client | None = None,
        timeout: float = 20.0,
    ) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(
                f"The Bluesky AppView address {base_url!r} must start with https:// "
                f"(for example {DEFAULT_APPVIEW})."
            )
        self.base_url = base_url.rstrip("/")
        self.budget = Budget.from_dict(budget_state or {}, PUBLIC_POOLS, clock=clock)
        self.clock = clock
        self._owns_client = client is None
        self._client = client if client is not None else http_client(timeout=timeout)
        self.requests: dict[str, int] = {}

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> BlueskyPublic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, method: str, params: Any) -> dict[str, Any]:
        wait = self.budget.delay(_REQUEST)
        if wait > 0:
            raise RateLimited(
                f"Bluesky's public search budget is spent; next room in {wait:.0f} s.",
                retry_after=wait,
                status=None,
            )
        self.budget.spend(_REQUEST)
        self.requests[method] = self.requests.get(method, 0) + 1
        try:
            response = self._client.get(f"{self.base_url}/xrpc/{method}", params=params)
        except guard.GuardError:
            raise  # already one of ours, with its reason
        except httpx.HTTPError as exc:
            refused = guard.guard_error(exc)
            if refused is not None:
                raise refused from exc
            raise Unavailable(f"Bluesky's public API could not be reached: {exc!r}") from exc
        self._observe(response)
        if response.status_code == 429:
            retry = self._retry_after(response)
            self.budget.exhaust("requests", retry)
            raise RateLimited(
                f"Bluesky asks us to slow down; searching resumes in {retry:.0f} s.",
                retry_after=retry,
            )
        if response.status_code >= 500:
            raise Unavailable(
                f"Bluesky's public API is having trouble (HTTP {response.status_code}).",
                status=response.status_code,
            )
        try:
            guard.check_json_depth(response.content)
            data = response.json()
        except ValueError as exc:
            raise InvalidResponse(
                f"Bluesky's public API answered {response.status_code} with something that is "
                "not JSON; is HIRONDELLE_BLUESKY_APPVIEW_URL an AppView?",
                status=response.status_code,
            ) from exc
        if response.status_code >= 400:
            detail = data.get("message") if isinstance(data, dict) else ""
            raise Refused(
                f"Bluesky refused {method}: {detail or response.status_code}",
                status=response.status_code,
            )
        if not isinstance(data, dict):
            raise InvalidResponse(f"Bluesky answered {method} with something that is no object.")
        return data

    def _observe(self, response: httpx.Response) -> None:
        headers = response.headers
        try:
            limit = float(headers["ratelimit-limit"])
            remaining = float(headers["ratelimit-remaining"])
            reset_at = float(headers["ratelimit-reset"])
        except (KeyError, ValueError):
            return
        if limit > 0:
            self.budget.observe("requests", limit=limit, remaining=remaining, reset_at=reset_at)

    def _retry_after(self, response: httpx.Response) -> float:
        try:
            return max(0.0, float(response.headers["retry-after"]))
        except (KeyError, ValueError):
            pass
        try:
            return max(0.0, float(response.headers["ratelimit-reset"]) - self.clock())
        except (KeyError, ValueError):
            return FALLBACK_RETRY_AFTER

    def search_actors(self, query: str, *, limit: int = 25) -> list[PublicProfile]:
        """One page of `searchActors` for `query` (one request)."""
        data = self._get("app.bsky.actor.searchActors", {"q": query, "limit": limit})
        actors = data.get("actors")
        if not isinstance(actors, list):
            raise InvalidResponse("Bluesky's searchActors answer has no list of actors.")
        return [p for p in map(profile_from_view, actors) if p is not None]

    def get_profiles(self, actors: Sequence[str]) -> list[PublicProfile]:
        """Full profiles of DIDs or handles, 25 per request; absent ones are left out."""
        found: list[PublicProfile] = []
        unique = list(dict.fromkeys(a for a in actors if a))
        for chunk in _chunks(unique, PROFILES_PER_CALL):
            data = self._get("app.bsky.actor.getProfiles", [("actors", a) for a in chunk])
            profiles = data.get("profiles")
            if not isinstance(profiles, list):
                raise InvalidResponse("Bluesky's getProfiles answer has no list of profiles.")
            found += [p for p in map(profile_from_view, profiles) if p is not None]
        return found
