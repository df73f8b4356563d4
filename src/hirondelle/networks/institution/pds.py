"""An institution's own Bluesky PDS, through its XRPC API.

Admin calls use HTTP Basic `admin:<PDS_ADMIN_PASSWORD>` (what `pdsadmin` does);
account calls use the account's session. When the PDS operator set
`PDS_RATE_LIMIT_BYPASS_KEY`, every call carries it in `x-ratelimit-bypass`,
which lifts the per-IP and per-account limits (createAccount: 100 per 5 min
per IP; repo writes: 5,000 points an hour per account).

The client counts its requests and the write points it spent per account
(create = 3, update = 2, delete = 1, as the PDS counts them), so the planner
and the benchmark can say how close a run came to the budget.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    "APPLY_WRITES_MAX",
    "CREATE_ACCOUNT_PER_5MIN",
    "RELAY_NEW_HOST_ACCOUNTS",
    "RESET_EMAILS_PER_DAY",
    "RESET_EMAILS_PER_HOUR",
    "WRITE_POINTS",
    "WRITE_POINTS_PER_DAY",
    "WRITE_POINTS_PER_HOUR",
    "PdsClient",
    "PdsError",
    "Session",
    "random_password",
    "reset_email_slots",
]

WRITE_POINTS = {"create": 3, "update": 2, "delete": 1}
WRITE_POINTS_PER_HOUR = 5_000
WRITE_POINTS_PER_DAY = 35_000
APPLY_WRITES_MAX = 200
CREATE_ACCOUNT_PER_5MIN = 100
#: com.atproto.server.requestPasswordReset, per client address (the request's IP, or the
#: one the PDS's proxy forwards): @atproto/pds api/com/atproto/server/requestPasswordReset.ts
RESET_EMAILS_PER_HOUR = 15
RESET_EMAILS_PER_DAY = 50
#: the Bluesky relay's default for a new PDS (indigo cmd/relay default-account-limit)
RELAY_NEW_HOST_ACCOUNTS = 100


class PdsError(Refused):
    """The PDS refused; `error` is its XRPC error name (e.g. HandleNotAvailable)."""

    def __init__(self, message: str, *, error: str = "", status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.error = error


def reset_email_slots(
    count: int,
    sent: list[datetime],
    now: datetime,
    *,
    per_hour: int = RESET_EMAILS_PER_HOUR,
    per_day: int = RESET_EMAILS_PER_DAY,
) -> list[datetime]:
    """When each of the next `count` reset e-mails may be asked without the PDS refusing.

    No more than `per_hour` in any hour and `per_day` in any day: stricter than the
    PDS's fixed windows (which start at the first request), so never refused.
    """
    hour, day = timedelta(hours=1), timedelta(days=1)
    times = sorted(t for t in sent if t > now - day)
    slots: list[datetime] = []
    at = now
    for _ in range(count):
        while True:
            in_hour = [t for t in times if t > at - hour]
            in_day = [t for t in times if t > at - day]
            later = []
            if len(in_hour) >= per_hour:
                later.append(in_hour[-per_hour] + hour)
            if len(in_day) >= per_day:
                later.append(in_day[-per_day] + day)
            if not later:
                break
            at = max(later)
        times.append(at)
        slots.append(at)
    return slots


def random_password() -> str:
    """A password nobody sees: the official sets their own through the reset e-mail."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Session:
    did: str
    handle: str
    access_jwt: str


@dataclass
class PdsClient(ServerClient):
    """XRPC calls to one PDS; `requests` and `points` count what was spent."""

    url: str
    admin_password: str = ""
    bypass_key: str = ""
    transport: httpx.BaseTransport | None = None
    requests: Counter = field(default_factory=Counter)
    points: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        headers = {"x-ratelimit-bypass": self.bypass_key} if self.bypass_key else {}
        self._connect(headers=headers)

    # -- plumbing -----------------------------------------------------------
    def _admin(self) -> dict[str, str]:
        if not self.admin_password:
            raise AuthExpired("The PDS admin password is not set for this server.")
        token = base64.b64encode(f"admin:{self.admin_password}".encode()).decode()
        return {"authorization": f"Basic {token}"}

    def _call(
        self,
        method: str,
        nsid: str,
        *,
        json: dict | None = None,
        params: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        self.requests[nsid] += 1
        try:
            response = self._client.request(
                method, f"/xrpc/{nsid}", json=json, params=params, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise Unavailable(f"{self.url} did not answer {nsid} in time.") from exc
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.url} cannot be reached ({exc}).") from exc
        if response.status_code == 429:
            reset = response.headers.get("ratelimit-reset", "")
            # the PDS sends the moment the window ends, in Unix seconds
            wait = max(1.0, float(reset) - time.time()) if reset.isdigit() else 60.0
            raise RateLimited(
                f"The PDS rate-limits {nsid}: set PDS_RATE_LIMIT_BYPASS_KEY on the PDS "
                "and give it to Hirondelle, or wait.",
                retry_after=wait,
            )
        if response.status_code >= 500:
            raise Unavailable(f"{self.url} failed on {nsid} ({response.status_code}).")
        try:
            body = response.json() if response.content else {}
        except ValueError as exc:
            raise InvalidResponse(f"{self.url} answered {nsid} with something not JSON.") from exc
        if response.status_code in (401, 403):
            raise AuthExpired(
                f"The PDS refused the credentials for {nsid}: {body.get('message', '')}",
                status=response.status_code,
            )
        if response.status_code >= 400:
            error = str(body.get("error", ""))
            message = str(body.get("message", "")) or error
            if error in ("RecordNotFound", "AccountNotFound") or response.status_code == 404:
                raise NotFound(f"{nsid}: {message}", status=response.status_code)
            raise PdsError(f"{nsid}: {message}", error=error, status=response.status_code)
        return body

    # -- admin --------------------------------------------------------------
    def create_invite_codes(self, count: int) -> list[str]:
        """`count` single-use invite codes in one request."""
        body = self._call(
            "POST",
            "com.atproto.server.createInviteCodes",
            json={"codeCount": count, "useCount": 1},
            headers=self._admin(),
        )
        return [code for entry in body.get("codes", []) for code in entry.get("codes", [])]

    def account_info(self, did: str) -> dict:
        return self._call(
            "GET", "com.atproto.admin.getAccountInfo", params={"did": did}, headers=self._admin()
        )

    def update_handle(self, did: str, handle: str) -> None:
        self._call(
            "POST",
            "com.atproto.admin.updateAccountHandle",
            json={"did": did, "handle": handle},
            headers=self._admin(),
        )

    def update_own_handle(self, session: Session, handle: str) -> None:
        """The account itself changes its handle (the PDS checks that it resolves)."""
        self._call(
            "POST",
            "com.atproto.identity.updateHandle",
            json={"handle": handle},
            headers={"authorization": f"Bearer {session.access_jwt}"},
        )

    def current_handle(self, did: str) -> str:
        """The handle the PDS holds for `did` now ("" when it does not host it)."""
        try:
            repo = self._call("GET", "com.atproto.repo.describeRepo", params={"repo": did})
        except (NotFound, PdsError):
            return ""
        return str(repo.get("handle", ""))

    # -- accounts -----------------------------------------------------------
    def create_account(
        self,
        *,
        email: str,
        handle: str,
        password: str,
        invite_code: str = "",
        recovery_key: str = "",
    ) -> Session:
        body: dict[str, Any] = {"email": email, "handle": handle, "password": password}
        if invite_code:
            body["inviteCode"] = invite_code
        if recovery_key:
            body["recoveryKey"] = recovery_key
        answer = self._call("POST", "com.atproto.server.createAccount", json=body)
        return Session(answer["did"], answer["handle"], answer["accessJwt"])

    def create_session(self, identifier: str, password: str) -> Session:
        answer = self._call(
            "POST",
            "com.atproto.server.createSession",
            json={"identifier": identifier, "password": password},
        )
        return Session(answer["did"], answer["handle"], answer["accessJwt"])

    def create_app_password(self, session: Session, name: str) -> str:
        """An app password (revocable by the owner) for Hirondelle's republishing runner."""
        return self._call(
            "POST",
            "com.atproto.server.createAppPassword",
            json={"name": name},
            headers={"authorization": f"Bearer {session.access_jwt}"},
        )["password"]

    def resolve_handle(self, handle: str) -> str | None:
        try:
            return self._call(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
            )["did"]
        except (NotFound, PdsError):
            return None

    def request_password_reset(self, email: str) -> None:
        """The PDS e-mails the account's owner a code: this is the invitation to claim it."""
        self._call("POST", "com.atproto.server.requestPasswordReset", json={"email": email})

    def reset_password(self, token: str, password: str) -> None:
        self._call(
            "POST",
            "com.atproto.server.resetPassword",
            json={"token": token.strip().upper(), "password": password},
        )

    # -- records ------------------------------------------------------------
    def put_record(
        self, session: Session, collection: str, rkey: str, record: dict, *, new: bool = True
    ) -> dict:
        self.points[session.did] += WRITE_POINTS["create" if new else "update"]
        return self._call(
            "POST",
            "com.atproto.repo.putRecord",
            json={"repo": session.did, "collection": collection, "rkey": rkey, "record": record},
            headers={"authorization": f"Bearer {session.access_jwt}"},
        )

    def apply_writes(self, session: Session, writes: list[dict]) -> list[dict]:
        """Up to 200 writes in one commit; returns one result per write (with `uri`)."""
        if len(writes) > APPLY_WRITES_MAX:
            raise ValueError(f"applyWrites takes at most {APPLY_WRITES_MAX} writes")
        for write in writes:
            kind = write["$type"].rsplit("#", 1)[-1]
            self.points[session.did] += WRITE_POINTS[kind]
        body = self._call(
            "POST",
            "com.atproto.repo.applyWrites",
            json={"repo": session.did, "writes": writes},
            headers={"authorization": f"Bearer {session.access_jwt}"},
        )
        return body.get("results", [])

    def get_record(self, repo: str, collection: str, rkey: str) -> dict | None:
        try:
            return self._call(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": repo, "collection": collection, "rkey": rkey},
            )
        except (NotFound, PdsError):
            return None

    def list_records(self, repo: str, collection: str) -> list[dict]:
        found: list[dict] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"repo": repo, "collection": collection, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            page = self._call("GET", "com.atproto.repo.listRecords", params=params)
            found += page.get("records", [])
            cursor = page.get("cursor")
            if not cursor or not page.get("records"):
                return found
