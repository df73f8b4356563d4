"""An institution's own Mastodon or GoToSocial server: registration, approval, profile.

Neither engine has an HTTP admin API that creates accounts (Mastodon has
`tootctl accounts create`, GoToSocial `gotosocial admin account create`);
both accept `POST /api/v1/accounts` from an application or user token, then
an admin approves through `POST /api/v1/admin/accounts/:id/approve`.
Mastodon limits registrations to 5 per 30 minutes per IP
(config/initializers/rack_attack.rb), GoToSocial to its daily and backlog
limits (accounts-registration-daily-limit, -backlog-limit; 0 turns them off).

GoToSocial publishes a status with `scheduled_at` in the past as a backdated
post (no notifications, not pushed to timelines; no replies to others, no
boosts, no mentions of others, no polls; internal/processing/status/create.go);
Mastodon ignores a `scheduled_at` less than 5 minutes ahead and publishes at
once, dated now (post_status_service.rb), so history republished there is
dated today, unlisted, each post stating its original date.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from hirondelle.networks.errors import (
    AuthExpired,
    InvalidResponse,
    NotFound,
    RateLimited,
    Refused,
    Unavailable,
)
from hirondelle.networks.institution._http import ServerClient

__all__ = [
    "MASTODON_SIGNUPS_PER_30MIN",
    "FediverseServer",
    "RegistrationRefused",
    "signup_reason",
    "tootctl_command",
]

MASTODON_SIGNUPS_PER_30MIN = 5
#: GoToSocial's SignUpReason (internal/validate/formvalidation.go), when a reason is required
REASON_MIN, REASON_MAX = 40, 500


class RegistrationRefused(Refused):
    """The server will not register anyone with these settings (Mastodon answers 403:
    registrations closed and the invite code missing, wrong, expired or used up)."""


def signup_reason(name: str, group: str, institution: str) -> str:
    """A sign-up reason GoToSocial accepts (40 to 500 characters); Mastodon shows it to admins."""
    who = f"{name} ({group})" if group else name
    text = f"Compte officiel de {who}, créé par {institution} avec Hirondelle."
    return text[:REASON_MAX]


def tootctl_command(username: str, email: str) -> str:
    """What a Mastodon admin runs to create one account without the API's limit."""
    return (
        f"RAILS_ENV=production bin/tootctl accounts create {username} "
        f"--email {email} --confirmed --approve"
    )


@dataclass
class FediverseServer(ServerClient):
    """Calls to one Mastodon-API server: `admin_token` approves, `app_token` registers."""

    url: str
    kind: str  # "mastodon" or "gotosocial"
    admin_token: str = ""
    app_token: str = ""
    transport: httpx.BaseTransport | None = None
    requests: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._connect()

    @property
    def backdates(self) -> bool:
        return self.kind == "gotosocial"

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        self.requests[f"{method} {path.split('?')[0]}"] += 1
        try:
            response = self._client.request(
                method, path, headers={"authorization": f"Bearer {token}"}, **kwargs
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.url} cannot be reached ({exc}).") from exc
        if response.status_code == 429:
            raise RateLimited(
                f"{self.url} limits {path}: wait, or create the accounts from the server's "
                "command line (tootctl / gotosocial admin).",
                retry_after=60.0,
            )
        if response.status_code >= 500:
            raise Unavailable(f"{self.url} failed on {path} ({response.status_code}).")
        try:
            body = response.json() if response.content else {}
        except ValueError as exc:
            if response.status_code < 400:
                raise InvalidResponse(
                    f"{self.url} answered {path} with something not JSON."
                ) from exc
            body = {}
        if response.status_code < 400:
            return body
        detail = str(
            (body.get("error") or body.get("detail") if isinstance(body, dict) else "")
            or response.text[:200]
        )[:300]
        if response.status_code in (401, 403):
            raise AuthExpired(f"{self.url} refused the token for {path}: {detail}", status=401)
        if response.status_code == 404:
            raise NotFound(f"{self.url}: {path} not found.", status=404)
        raise Refused(f"{self.url} refused {path}: {detail}", status=response.status_code)

    def register(
        self,
        *,
        username: str,
        email: str,
        password: str,
        invite_code: str = "",
        reason: str = "",
        locale: str = "fr",
    ) -> str:
        """A new account's access token (usable once the e-mail is confirmed and approved)."""
        form = {
            "username": username,
            "email": email,
            "password": password,
            "agreement": "true",
            "locale": locale,
        }
        if invite_code:
            form["invite_code"] = invite_code
        if reason:
            form["reason"] = reason
        try:
            # GoToSocial registers with a user's token only (accountcreate.go): the admin's
            token = self.app_token if self.kind == "mastodon" and self.app_token else ""
            body = self._call("POST", "/api/v1/accounts", token or self.admin_token, data=form)
        except AuthExpired as exc:
            if self.kind == "mastodon" and "not allowed" in str(exc):
                raise RegistrationRefused(str(exc), status=403) from exc
            raise
        token = body.get("access_token")
        if not token:
            raise InvalidResponse(f"{self.url} created no token for {username}.")
        return token

    def find_local(self, username: str) -> dict | None:
        """The admin view of a local account by exact username (it may exist from a past run).

        Mastodon's v1 admin list shows active accounts unless asked for pending
        ones (GoToSocial shows all): pending accounts are looked up second.
        """
        for extra in ({}, {"pending": "true"}):
            found = self._call(
                "GET",
                "/api/v1/admin/accounts",
                self.admin_token,
                params={"username": username, "local": "true", **extra},
            )
            for account in found or []:
                if str(account.get("username", "")).lower() == username.lower():
                    return account
        return None

    def approve(self, account_id: str) -> None:
        self._call("POST", f"/api/v1/admin/accounts/{account_id}/approve", self.admin_token)

    def me(self, token: str) -> dict:
        return self._call("GET", "/api/v1/accounts/verify_credentials", token)

    def update_profile(
        self, token: str, *, display_name: str, note: str, fields: list[tuple[str, str]]
    ) -> dict:
        form: dict[str, str] = {"display_name": display_name[:30], "note": note[:500]}
        for i, (name, value) in enumerate(fields[:4]):
            form[f"fields_attributes[{i}][name]"] = name[:255]
            form[f"fields_attributes[{i}][value]"] = value[:255]
        return self._call("PATCH", "/api/v1/accounts/update_credentials", token, data=form)

    def post(self, token: str, text: str, *, key: str, created_at: datetime | None = None) -> dict:
        """One status; backdated on GoToSocial, unlisted and dated today on Mastodon."""
        form: dict[str, str] = {"status": text, "visibility": "unlisted", "language": "fr"}
        if created_at is not None and self.backdates:
            form["scheduled_at"] = created_at.isoformat()
            form["visibility"] = "public"
        return self._post_status(token, form, key)

    def _post_status(self, token: str, form: dict[str, str], key: str) -> dict:
        self.requests["POST /api/v1/statuses"] += 1
        try:
            response = self._client.post(
                "/api/v1/statuses",
                data=form,
                headers={"authorization": f"Bearer {token}", "Idempotency-Key": key},
            )
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.url} cannot be reached ({exc}).") from exc
        if response.status_code >= 400:
            raise Refused(f"{self.url} refused a status ({response.status_code}).")
        return response.json()
