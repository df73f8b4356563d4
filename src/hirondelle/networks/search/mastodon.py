"""Searching people on the person's own Mastodon-API server.

`GET /api/v2/search?type=accounts` finds accounts the server knows by name
(no `resolve`: a plain search sends nothing further); an address claimed in
an X display name is looked up (`/api/v1/accounts/lookup`, then a resolving
search, which makes the server ask the remote one by WebFinger). Account
entities carry the bio (`note`), profile fields with `verified_at`, counts
and the creation date, so one request reads everything. Requests go through
the connected account's adapter, so they spend its budget (300 per 5 minutes).
"""

from __future__ import annotations

from typing import Any

from hirondelle.networks.errors import InvalidResponse, NotFound, RateLimited
from hirondelle.networks.mastodon.adapter import MastodonAdapter, parse_handle
from hirondelle.networks.search.profiles import ProfileField, PublicProfile, html_to_text

__all__ = ["MastodonSearch", "profile_from_account"]


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def profile_from_account(data: Any, local_domain: str) -> PublicProfile | None:
    """A Mastodon Account entity → PublicProfile; None when it lacks an address."""
    if not isinstance(data, dict):
        return None
    acct, uri = data.get("acct"), data.get("uri") or data.get("url")
    if not isinstance(acct, str) or not acct or not isinstance(uri, str) or not uri:
        return None
    acct = acct.removeprefix("@")
    handle = (acct if "@" in acct else f"{acct}@{local_domain}").lower()
    fields = []
    for item in data.get("fields") or ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            fields.append(
                ProfileField(
                    name=html_to_text(item["name"])[:255],
                    value=html_to_text(str(item.get("value") or ""))[:2000],
                    verified=bool(item.get("verified_at")),
                )
            )
    return PublicProfile(
        network="mastodon",
        account=uri,
        handle=handle,
        display_name=str(data.get("display_name") or "")[:640],
        description=html_to_text(str(data.get("note") or "")).strip()[:3000],
        avatar=str(data.get("avatar_static") or data.get("avatar") or "")[:2000],
        followers=_count(data.get("followers_count")),
        posts=_count(data.get("statuses_count")),
        created_at=str(data.get("created_at") or "")[:64],
        fields=tuple(fields[:16]),
        url=str(data.get("url") or "")[:2000],
    )


class MastodonSearch:
    """Account searches on one connected Mastodon account's server."""

    def __init__(self, adapter: MastodonAdapter) -> None:
        self.adapter = adapter
        self.requests: dict[str, int] = {}
        self._domain: str | None = None

    @property
    def budget(self):  # the adapter's: one per connected account
        return self.adapter.budget

    def domain(self) -> str:
        if self._domain is None:
            self._count("instance")
            self._domain = self.adapter.limits().domain
        return self._domain

    def _count(self, what: str) -> None:
        self.requests[what] = self.requests.get(what, 0) + 1

    def _read(self, what: str, path: str, params: dict[str, Any]) -> Any:
        """One GET, counted only when it leaves (a spent budget sends nothing)."""
        if self.adapter.budget.allowance({"requests": 1}) < 1:
            wait = self.adapter.budget.delay({"requests": 1})
            raise RateLimited(
                f"Your Mastodon server's request budget is spent; next in {wait:.0f} s.",
                retry_after=wait,
                status=None,
            )
        self._count(what)
        return self.adapter.read(path, params)

    def _profiles(self, data: Any) -> list[PublicProfile]:
        if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
            raise InvalidResponse("The server's search answer has no list of accounts.")
        domain = self.domain()
        return [p for p in (profile_from_account(a, domain) for a in data["accounts"]) if p]

    def search(self, query: str, *, limit: int = 10) -> list[PublicProfile]:
        """Accounts the server knows that match `query` (one request, nothing resolved)."""
        self.domain()  # read once, before the search, to name local accounts
        data = self._read(
            "search",
            "/api/v2/search",
            {"q": query, "type": "accounts", "limit": limit, "resolve": False},
        )
        return self._profiles(data)

    def lookup(self, address: str) -> PublicProfile | None:
        """The account at ``user@host`` (lookup, then a resolving search), or None."""
        user, host = parse_handle(address)
        wanted = f"{user}@{host}"
        domain = self.domain()
        acct = user if host == domain else wanted
        try:
            found = profile_from_account(
                self._read("lookup", "/api/v1/accounts/lookup", {"acct": acct}), domain
            )
        except NotFound:
            found = None
        if found is not None and found.handle == wanted:
            return found
        data = self._read(
            "search",
            "/api/v2/search",
            {"q": wanted, "type": "accounts", "limit": 5, "resolve": True},
        )
        for profile in self._profiles(data):
            if profile.handle == wanted:
                return profile
        return None
