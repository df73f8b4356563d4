"""What citizens see: an institution's records read back through a Bluesky AppView.

The PDS only stores records; the app shows what the AppView made of them.
A verification appears on a profile only when the AppView trusts its issuer
(`trustedVerifierStatus` on the issuer's profile: a column at Bluesky, with no
API) and is valid only while the record's handle and display name both equal
the subject's current ones (atproto packages/bsky/src/views/index.ts,
`verification()`). Starter packs and lists are read with
`app.bsky.graph.getStarterPack` and `getList`, as the app does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from hirondelle.networks.errors import InvalidResponse, NotFound, RateLimited, Unavailable
from hirondelle.networks.institution._http import ServerClient

__all__ = ["AppViewClient", "VerificationView", "verification_of"]

PROFILES_PER_CALL = 25  # app.bsky.actor.getProfiles' maximum


@dataclass(frozen=True)
class VerificationView:
    """One profile's verification by one issuer, as the AppView shows it."""

    #: "valid", "invalid" (the record no longer matches handle and name) or "none"
    state: str
    handle: str
    display_name: str


def verification_of(profile: dict, issuer: str) -> VerificationView:
    """The state of `issuer`'s verification on a profile view (`none` when absent)."""
    found = [
        v
        for v in (profile.get("verification") or {}).get("verifications") or []
        if v.get("issuer") == issuer
    ]
    state = "none"
    if found:
        state = "valid" if any(v.get("isValid") for v in found) else "invalid"
    return VerificationView(
        state, str(profile.get("handle", "")), str(profile.get("displayName") or "")
    )


@dataclass
class AppViewClient(ServerClient):
    """Unauthenticated reads from an AppView (https://public.api.bsky.app by default)."""

    url: str
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        self._connect()

    def _get(self, nsid: str, params: dict | list) -> dict:
        try:
            response = self._client.get(f"/xrpc/{nsid}", params=params)
        except httpx.HTTPError as exc:
            raise Unavailable(f"The AppView {self.url} cannot be reached ({exc}).") from exc
        if response.status_code == 429:
            raise RateLimited(f"The AppView rate-limits {nsid}.", retry_after=60.0)
        if response.status_code >= 500:
            raise Unavailable(f"The AppView failed on {nsid} ({response.status_code}).")
        try:
            body = response.json()
        except ValueError as exc:
            raise InvalidResponse(f"The AppView answered {nsid} with something not JSON.") from exc
        if response.status_code >= 400:
            raise NotFound(f"{nsid}: {body.get('message') or body.get('error')}")
        return body

    def profiles(self, dids: Iterable[str]) -> dict[str, dict]:
        """Profile views by DID; an account the AppView does not know is left out."""
        wanted = list(dict.fromkeys(dids))
        found: dict[str, dict] = {}
        for start in range(0, len(wanted), PROFILES_PER_CALL):
            chunk = wanted[start : start + PROFILES_PER_CALL]
            body = self._get("app.bsky.actor.getProfiles", [("actors", d) for d in chunk])
            found.update({p["did"]: p for p in body.get("profiles", []) if "did" in p})
        return found

    def starter_pack(self, uri: str) -> dict | None:
        """The starter pack view (`list.listItemCount`, `record.name`), or None if unknown."""
        try:
            return self._get("app.bsky.graph.getStarterPack", {"starterPack": uri})["starterPack"]
        except NotFound:
            return None

    def list_members(self, uri: str) -> list[str] | None:
        """The DIDs on a list, every page; None if the AppView does not know the list."""
        members: list[str] = []
        cursor = None
        while True:
            params = {"list": uri, "limit": 100, **({"cursor": cursor} if cursor else {})}
            try:
                page = self._get("app.bsky.graph.getList", params)
            except NotFound:
                return None
            items = page.get("items", [])
            members += [i["subject"]["did"] for i in items if "subject" in i]
            cursor = page.get("cursor")
            if not cursor or not items:
                return members
