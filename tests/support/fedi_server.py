"""An institution's own Mastodon or GoToSocial server, for the institution tests: a MOCK.

Neither engine can be installed here, so this is `mastodon-mock` (PyPI: a
stateful imitation of Mastodon's REST API, FastAPI over SQLite; see
tests/support/mastodon_peer.py) with routes put in front of its own, which
imitate what an institution's provisioning meets on the real engines. It is
not Mastodon and not GoToSocial: only the behaviours below are imitated, each
from the source file named (mastodon/mastodon and superseriousbusiness/
gotosocial, read in December 2026).

Mastodon mode (`engine="mastodon"`):
- `POST /api/v1/accounts` is forbidden (403 "This action is not allowed")
  unless registrations are open (`registrations_mode` "open" or "approved") or
  the invite code is valid for use: `max_uses` not reached, not expired, not
  revoked (app/controllers/api/v1/accounts_controller.rb
  `check_enabled_registrations`, app/helpers/registration_helper.rb,
  app/models/invite.rb `valid_for_use?`). A used invite counts one use
  (app/models/user.rb `belongs_to :invite, counter_cache: :uses`).
- a new account is approved at once when registrations are "open" or the
  invite is valid, pending otherwise (app/models/concerns/user/approval.rb
  `set_approved`); its e-mail is unconfirmed until the owner follows the link
  (here `FediPeer.confirm_email`, standing for that click).
- a token whose user is unconfirmed or pending is refused with 403 and
  Mastodon's own messages (app/controllers/api/base_controller.rb
  `require_user!`), on every API call (Mastodon does so on most of them).
- approving or rejecting needs an admin's token and a pending account: an
  approved one gives 403 (app/policies/user_policy.rb `approve?`, `reject?`).
- 5 sign-ups per 30 minutes per address (config/initializers/rack_attack.rb
  `throttle_api_sign_up`), 429 past that.
- `scheduled_at` in the past, or less than 5 minutes ahead, is ignored: the
  status is published now, dated now (app/services/post_status_service.rb
  `scheduled_in_the_past?`); mastodon-mock already does this.
- a status's length counts every URL as 23 characters and a remote mention
  by its username only (app/validators/status_length_validator.rb), where
  mastodon-mock counts raw characters (both engines here).

GoToSocial mode (`engine="gotosocial"`):
- no invite codes; `POST /api/v1/accounts` needs a user's token (not an
  application's: internal/api/client/accounts/accountcreate.go),
  `accounts-registration-open`
  (400 "registration is not open for this server"), a reason of 40 to 500
  characters when `accounts-reason-required` (its default), a free username
  and e-mail (409), and stays under the daily and backlog limits (422)
  (internal/validate/formvalidation.go `CreateAccount`, `SignUpReason`;
  internal/processing/user/create.go; defaults in internal/config/defaults.go);
- every new account is pending until an admin approves it; approving twice
  is harmless (internal/processing/admin/signupapprove.go); a token of an
  unconfirmed or unapproved user is refused (internal/middleware/tokencheck.go;
  401 here);
- `scheduled_at` in the past backdates the post: `created_at` set to it, no
  notifications, not put on timelines; refused when backdating is disabled
  (403), at or before the UNIX epoch (406), for replies to others, mentions
  of others and polls (403); less than 5 minutes ahead is 422
  (internal/processing/status/create.go, docs/user_guide/importing_posts.md).

Both: the admin v1 account list shows active accounts by default on Mastodon
and every account on GoToSocial. Not imitated: federation, e-mail sending,
OAuth scopes, GoToSocial's ULIDs (ids here keep mastodon-mock's order),
timelines' pagination after a backdated post is filtered out of them, and
"new post" notifications to followers (mastodon-mock only notifies mentions,
which a backdated post cannot have).
"""

from __future__ import annotations

import contextvars
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from mastodon_mock.config import (
    DatabaseConfig,
    MastodonMockConfig,
    SeedAccount,
    SeedConfig,
    StreamingConfig,
)
from sqlalchemy import delete, select

__all__ = [
    "ADMIN_TOKEN",
    "USER_TOKEN",
    "FediPeer",
    "FediSettings",
    "fedi_peer",
    "start_fedi_peer",
]

ADMIN_TOKEN = "fedi_admin_token"
USER_TOKEN = "fedi_user_token"
SEED = SeedConfig(
    accounts=[
        SeedAccount(
            username="admin",
            display_name="Admin",
            access_token=ADMIN_TOKEN,
            role="admin",
            email="admin@social.example.fr",
        ),
        SeedAccount(username="agent", display_name="Agent", access_token=USER_TOKEN),
    ]
)
SIGNUP_WINDOW = timedelta(minutes=30)
MIN_SCHEDULE_OFFSET = timedelta(minutes=5)
#: Mastodon's UsernameValidator (local accounts), GoToSocial's regexes.Username
_MASTODON_USERNAME = re.compile(r"^[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?$", re.I)
_GTS_USERNAME = re.compile(r"^[a-z0-9_]{1,64}$")
_URL = re.compile(r"https?://\S+", re.I)
_WEIGHTED = contextvars.ContextVar("fedi_weighted_length", default=False)
_MENTION = re.compile(r"(?<![\w/])@([a-z0-9_]+)(?:@([a-z0-9.-]+))?", re.I)


@dataclass
class FediSettings:
    """The server's settings that provisioning meets (changeable during a test)."""

    engine: str = "mastodon"  # or "gotosocial"
    #: Mastodon's Setting.registrations_mode: "none", "approved" or "open"
    registrations_mode: str = "none"
    #: rack_attack's throttle_api_sign_up (None: off)
    signups_per_30min: int | None = 5
    #: GoToSocial's accounts-registration-open, -reason-required, -daily/backlog-limit
    registration_open: bool = True
    reason_required: bool = True
    daily_limit: int = 10
    backlog_limit: int = 20
    #: GoToSocial's instance-allow-backdating-statuses
    allow_backdating: bool = True


@dataclass
class _State:
    settings: FediSettings
    signups: dict[str, list[float]] = field(default_factory=dict)
    registered: dict[int, datetime] = field(default_factory=dict)
    backdated: set[int] = field(default_factory=set)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _state(request: Request) -> _State:
    return request.app.state.fedi


def _bearer(request: Request) -> str | None:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def _token_account(request: Request):
    from mastodon_mock.db.models import Account, OAuthToken

    token = _bearer(request)
    if token is None:
        return None, None
    with request.app.state.session_factory() as db:
        row = db.scalar(select(OAuthToken).where(OAuthToken.access_token == token))
        if row is None:
            return row, None
        account = db.get(Account, row.account_id) if row.account_id else None
        if account is not None:
            db.expunge(account)
        db.expunge(row)
        return row, account


# --- the gate in front of every call: unconfirmed, pending and non-admin tokens ---------

_OPEN_PREFIXES = ("/api/v1/_mock", "/api/v1/instance", "/api/v2/instance", "/api/v1/apps")


def _install_gate(app: FastAPI) -> None:
    @app.middleware("http")
    async def gate(request: Request, call_next):
        path = request.url.path
        settings = _state(request).settings
        gts = settings.engine == "gotosocial"
        registering = request.method == "POST" and path == "/api/v1/accounts"
        if path.startswith("/api/") and not path.startswith(_OPEN_PREFIXES) and not registering:
            _token, account = _token_account(request)
            if account is not None and account.domain is None:
                # api/base_controller.rb require_user! (Mastodon); tokencheck.go (GoToSocial)
                if account.disabled:
                    message = "Your login is currently disabled"
                elif not account.confirmed:
                    message = "Your login is missing a confirmed e-mail address"
                elif not account.approved:
                    message = "Your login is currently pending approval"
                else:
                    message = ""
                if message:
                    return _error(401, "Unauthorized") if gts else _error(403, message)
                if path.startswith(("/api/v1/admin", "/api/v2/admin")) and account.role not in (
                    "admin",
                    "owner",
                ):
                    return _error(
                        403, "user is not an admin" if gts else "This action is not allowed"
                    )
        response = await call_next(request)
        if gts and request.method == "GET" and path.startswith("/api/v1/timelines/"):
            return await _drop_backdated(request, response)
        return response


async def _drop_backdated(request: Request, response: Response) -> Response:
    """GoToSocial never puts a backdated post on a timeline."""
    import json

    body = b"".join([chunk async for chunk in response.body_iterator])
    hidden = {str(i) for i in _state(request).backdated}
    try:
        items = json.loads(body)
    except ValueError:
        items = None
    if isinstance(items, list) and hidden:
        items = [s for s in items if str(s.get("id")) not in hidden]
        body = json.dumps(items).encode()
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body, status_code=response.status_code, headers=headers)


# --- routes put in front of mastodon-mock's own ------------------------------------------


def _router() -> APIRouter:
    from mastodon_mock.db.models import Account, Invite, Notification, Status
    from mastodon_mock.deps import get_config
    from mastodon_mock.routers import admin as mock_admin
    from mastodon_mock.routers import oauth as mock_oauth
    from mastodon_mock.routers import statuses as mock_statuses
    from mastodon_mock.serializers.statuses import serialize_status

    router = APIRouter()

    @router.post("/api/v1/_mock/reset")
    def reset(request: Request) -> dict[str, Any]:
        answer = mock_oauth.mock_reset(request)
        state = _state(request)
        state.signups.clear()
        state.registered.clear()
        state.backdated.clear()
        return answer

    @router.post("/api/v1/_mock/confirm_email")
    async def confirm_email(request: Request) -> Any:
        """Mock-only: the owner followed the confirmation link the server e-mailed."""
        email = str((await request.json()).get("email", "")).lower()
        with request.app.state.session_factory() as db:
            account = db.scalar(select(Account).where(Account.email == email))
            if account is None:
                return _error(404, "Record not found")
            account.confirmed = True
            db.commit()
        return {"ok": True}

    @router.post("/api/v1/accounts")
    async def register(request: Request) -> Any:
        state = _state(request)
        settings = state.settings
        form = await request.form()
        username = str(form.get("username") or "")
        email = str(form.get("email") or "").strip().lower()
        reason = str(form.get("reason") or "")
        token_row, _account = _token_account(request)
        if token_row is None:
            return _error(401, "The access token is invalid")
        if settings.engine == "gotosocial" and token_row.account_id is None:
            # accountcreate.go: TokenAuth(c, true, true, true, …) wants a user's token
            return _error(401, "Unauthorized: token not associated with a user")
        with request.app.state.session_factory() as db:
            taken_name = db.scalar(
                select(Account).where(Account.username.ilike(username), Account.domain.is_(None))
            )
            taken_email = db.scalar(select(Account).where(Account.email == email))
            if settings.engine == "gotosocial":
                refusal = _gts_refusal(state, db, username, reason, taken_name, taken_email, email)
                if refusal is not None:
                    return refusal
                invite = None
                approved = False
            else:
                code = str(form.get("invite_code") or "")
                invite = db.scalar(select(Invite).where(Invite.code == code)) if code else None
                valid = invite is not None and _valid_for_use(db, invite)
                if settings.registrations_mode == "none" and not valid:
                    return _error(403, "This action is not allowed")
                limited = _mastodon_throttle(request, state)
                if limited is not None:
                    return limited
                details: dict[str, list[dict[str, str]]] = {}
                if not _MASTODON_USERNAME.match(username) or len(username) > 30:
                    details["username"] = [{"error": "ERR_INVALID", "description": "is invalid"}]
                elif taken_name is not None:
                    details["username"] = [{"error": "ERR_TAKEN", "description": "is taken"}]
                if taken_email is not None:
                    details["email"] = [{"error": "ERR_TAKEN", "description": "is taken"}]
                if details:
                    fields = ", ".join(f"{k.capitalize()} is invalid or taken" for k in details)
                    return _error(422, f"Validation failed: {fields}", details=details)
                approved = settings.registrations_mode == "open" or valid
                if not valid:
                    invite = None
        with request.app.state.session_factory() as db:
            answer = await mock_oauth.create_account(request, db, None)
            account = db.scalar(
                select(Account).where(Account.username == username, Account.domain.is_(None))
            )
            account.email = email
            account.confirmed = False
            account.approved = approved
            account.invite_request = reason or None
            account.locale = str(form.get("locale") or "en")
            if invite is not None:
                used = db.get(Invite, invite.id)
                used.uses = (used.uses or 0) + 1
            state.registered[account.id] = _now()
            db.commit()
        return answer

    @router.get("/api/v1/admin/accounts")
    def admin_accounts(request: Request) -> Any:
        """v1 list: Mastodon shows active accounts unless asked for another status
        (api/v1/admin/accounts_controller.rb), GoToSocial every status
        (internal/api/client/admin/accountsgetv1.go)."""
        from mastodon_mock.serializers.admin import serialize_admin_account

        q = request.query_params
        wanted = [k for k in ("active", "pending", "disabled", "suspended") if q.get(k) == "true"]
        if not wanted and _state(request).settings.engine != "gotosocial":
            wanted = ["active"]
        with request.app.state.session_factory() as db:
            rows = db.scalars(
                select(Account)
                .where(
                    Account.domain.is_not(None)
                    if q.get("remote") == "true"
                    else Account.domain.is_(None)
                )
                .where(Account.username.contains(q.get("username") or ""))
                .order_by(Account.id)
            ).all()

            def status_of(a) -> str:
                if a.suspended:
                    return "suspended"
                if not a.approved:
                    return "pending"
                return "disabled" if a.disabled else "active"

            chosen = [a for a in rows if not wanted or status_of(a) in wanted]
            limit = int(q.get("limit") or 100)
            return [serialize_admin_account(db, a, get_config(request)) for a in chosen[:limit]]

    @router.post("/api/v1/admin/accounts/{account_id}/approve")
    def approve(account_id: str, request: Request) -> Any:
        return _moderate(request, account_id, mock_admin.admin_account_approve)

    @router.post("/api/v1/admin/accounts/{account_id}/reject")
    def reject(account_id: str, request: Request) -> Any:
        return _moderate(request, account_id, mock_admin.admin_account_reject)

    def _moderate(request: Request, account_id: str, action) -> Any:
        gts = _state(request).settings.engine == "gotosocial"
        _token, admin = _token_account(request)
        if admin is None:
            return _error(401, "This method requires an authenticated user")
        with request.app.state.session_factory() as db:
            target = db.get(Account, int(account_id)) if account_id.isdigit() else None
            if target is None:
                return _error(404, "Record not found")
            if target.approved and not gts:
                return _error(403, "This action is not allowed")  # user_policy.rb
            me = db.get(Account, admin.id)
            return action(account_id, db, get_config(request), me)

    @router.post("/api/v1/statuses")
    async def post_status(request: Request) -> Any:
        state = _state(request)
        config = get_config(request)
        params = await mock_statuses._form_or_json(request)
        _token, me = _token_account(request)
        if me is None:
            return _error(401, "This method requires an authenticated user")
        scheduled = mock_statuses._parse_dt(params.get("scheduled_at"))
        backdate = False
        if state.settings.engine == "gotosocial" and scheduled is not None:
            scheduled = _aware(scheduled)
            ahead = scheduled - _now()
            if timedelta(0) < ahead < MIN_SCHEDULE_OFFSET:
                text = "scheduled_at must be at least 5 minutes in the future"
                return _error(422, text)
            if ahead <= timedelta(0):
                refusal = _backfill_refusal(request, state, params, me, scheduled)
                if refusal is not None:
                    return refusal
                backdate = True
        with request.app.state.session_factory() as db:
            account = db.get(Account, me.id)
            _WEIGHTED.set(True)
            answer = await mock_statuses.post_status(request, db, config, account)
            if not backdate or not isinstance(answer, dict):
                return answer
            status = db.get(Status, int(answer["id"]))
            status.created_at = scheduled
            db.execute(delete(Notification).where(Notification.status_id == status.id))
            db.commit()
            state.backdated.add(status.id)
            return serialize_status(db, status, config, account)

    def _backfill_refusal(request, state, params, me, scheduled) -> JSONResponse | None:
        if not state.settings.allow_backdating:
            return _error(403, "backdating statuses has been disabled on this instance")
        if scheduled <= datetime.fromtimestamp(0, UTC):
            return _error(406, "statuses can't be backdated to or before the UNIX epoch")
        if params.get("poll") or any(k.startswith("poll[") for k in params):
            return _error(403, "statuses with polls can't be backfilled")
        with request.app.state.session_factory() as db:
            for user, domain in _MENTION.findall(str(params.get("status") or "")):
                other = db.scalar(
                    select(Account).where(
                        Account.username.ilike(user),
                        Account.domain.is_(None) if not domain else Account.domain == domain,
                    )
                )
                if other is not None and other.id != me.id:
                    return _error(403, "statuses mentioning others can't be backfilled")
            reply_to = params.get("in_reply_to_id")
            if reply_to:
                parent = db.get(Status, int(reply_to)) if str(reply_to).isdigit() else None
                if parent is None:
                    return _error(404, "Record not found")
                if parent.account_id != me.id:
                    return _error(403, "replies to others can't be backfilled")
        return None

    def _valid_for_use(db, invite) -> bool:
        """app/models/invite.rb: uses left, not expired, its author still functional."""
        expires = _aware(invite.expires_at)
        author = db.get(Account, invite.account_id)
        return (
            not invite.revoked
            and (invite.max_uses is None or invite.uses < invite.max_uses)
            and (expires is None or expires > _now())
            and author is not None
            and not author.disabled
            and not author.suspended
        )

    return router


def _mastodon_throttle(request: Request, state: _State) -> JSONResponse | None:
    """rack_attack.rb throttle_api_sign_up: 5 per 30 minutes per address."""
    limit = state.settings.signups_per_30min
    if limit is None:
        return None
    ip = request.client.host if request.client else "?"
    now = time.monotonic()
    recent = [t for t in state.signups.get(ip, []) if now - t < SIGNUP_WINDOW.total_seconds()]
    if len(recent) >= limit:
        state.signups[ip] = recent
        return _error(429, "Too many requests")
    state.signups[ip] = [*recent, now]
    return None


def _gts_refusal(state, db, username, reason, taken_name, taken_email, email):
    """formvalidation.go CreateAccount + processing/user/create.go, in their order."""
    from mastodon_mock.db.models import Account

    settings = state.settings
    if not settings.registration_open:
        return _error(400, "Bad Request: registration is not open for this server")
    if not _GTS_USERNAME.match(username):
        return _error(
            400,
            f"Bad Request: given username {username} was invalid: must contain only "
            "lowercase letters, numbers, and underscores, max 64 characters",
        )
    if settings.reason_required:
        length = len(reason)
        if not reason:
            return _error(400, "Bad Request: no reason provided")
        if length < 40:
            return _error(
                400, f"Bad Request: reason should be at least 40 chars but '{reason}' was {length}"
            )
        if length > 500:
            return _error(
                400,
                "Bad Request: reason should be no more than 500 chars but given reason was "
                f"{length}",
            )
    day_ago = _now() - timedelta(days=1)
    ids = list(state.registered)
    rows = db.scalars(select(Account).where(Account.id.in_(ids))).all() if ids else []
    approved_today = sum(1 for a in rows if a.approved and state.registered[a.id] > day_ago)
    pending = sum(1 for a in rows if not a.approved)
    if settings.daily_limit > 0 and approved_today >= settings.daily_limit:
        return _error(
            422,
            "Unprocessable Entity: this instance has hit its limit of new sign-ups for today "
            f"({settings.daily_limit}); you can try again tomorrow",
        )
    if settings.backlog_limit > 0 and pending >= settings.backlog_limit:
        return _error(
            422,
            f"Unprocessable Entity: this instance's sign-up backlog is currently full "
            f"({settings.backlog_limit} sign-ups pending approval); you must wait until "
            "some pending sign-ups are handled by the admin(s)",
        )
    if taken_email is not None:
        return _error(409, f"Conflict: email address {email} is not available")
    if taken_name is not None:
        return _error(409, f"Conflict: username {username} is not available")
    return None


def _count_like_mastodon() -> None:
    """Make mastodon-mock's length check weigh URLs and mentions as Mastodon does, for the
    requests of this server only (a context variable set by its status route)."""
    from mastodon_mock.routers import statuses

    raw_check = statuses._validate_status_params
    if getattr(raw_check, "fedi_weighted", False):
        return

    def check(params: dict[str, Any]):
        if _WEIGHTED.get():
            text = str(params.get("status") or "")
            weighted = _MENTION.sub(lambda m: "@" + m.group(1), _URL.sub("x" * 23, text))
            if len(weighted) > statuses.MAX_STATUS_CHARACTERS:
                limit = statuses.MAX_STATUS_CHARACTERS
                return JSONResponse(
                    {
                        "error": "Validation failed: Text is too long "
                        f"(maximum is {limit} characters)"
                    },
                    status_code=422,
                )
            params = {**params, "status": weighted}
        return raw_check(params)

    check.fedi_weighted = True
    statuses._validate_status_params = check


def build_app(settings: FediSettings) -> FastAPI:
    from mastodon_mock.app import create_app

    _count_like_mastodon()

    app = create_app(
        MastodonMockConfig(
            database=DatabaseConfig(path=":memory:"),
            seed=SEED,
            streaming=StreamingConfig(enabled=False),
        )
    )
    app.state.fedi = _State(settings)
    first = len(app.router.routes)
    app.include_router(_router())
    ours = app.router.routes[first:]
    del app.router.routes[first:]
    app.router.routes[0:0] = ours
    _install_gate(app)
    return app


class _Server:
    """uvicorn in a thread on 127.0.0.1, on a port the OS picks."""

    def __init__(self, app: FastAPI) -> None:
        import uvicorn

        self.app = app
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fediverse mock server did not start")
            time.sleep(0.02)
        sock = self._server.servers[0].sockets[0]
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)


@dataclass
class FediPeer:
    """A running mock server with the helpers tests need (mock-only shortcuts named so)."""

    server: _Server

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def settings(self) -> FediSettings:
        return self.server.app.state.fedi.settings

    def configure(self, **changes: Any) -> None:
        for key, value in changes.items():
            if not hasattr(self.settings, key):
                raise AttributeError(key)
            setattr(self.settings, key, value)

    def reset(self, **settings: Any) -> None:
        requests.post(f"{self.base_url}/api/v1/_mock/reset", timeout=10).raise_for_status()
        self.server.app.state.fedi.settings = FediSettings(**settings)

    def invite(self, *, max_uses: int | None = None, expires_in: int | None = None) -> str:
        """An invite created by the admin (Preferences › Invite people)."""
        body: dict[str, Any] = {}
        if max_uses is not None:
            body["max_uses"] = max_uses
        if expires_in is not None:
            body["expires_in"] = expires_in
        r = requests.post(
            f"{self.base_url}/api/v1/_mock/invites",
            json=body,
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["code"]

    def invite_uses(self, code: str) -> int:
        r = requests.get(
            f"{self.base_url}/api/v1/_mock/invites",
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10,
        )
        r.raise_for_status()
        return next(i["uses"] for i in r.json() if i["code"] == code)

    def app_token(self) -> str:
        """An application's token (client credentials), as registration clients get one."""
        app = requests.post(
            f"{self.base_url}/api/v1/apps",
            data={"client_name": "Hirondelle", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
            timeout=10,
        ).json()
        r = requests.post(
            f"{self.base_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
            },
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["access_token"]

    def confirm_email(self, email: str) -> None:
        """Mock-only: what the owner's click on the confirmation link does."""
        r = requests.post(
            f"{self.base_url}/api/v1/_mock/confirm_email", json={"email": email}, timeout=10
        )
        r.raise_for_status()

    def call(self, method: str, path: str, token: str = ADMIN_TOKEN, **kwargs: Any):
        return requests.request(
            method,
            f"{self.base_url}{path}",
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
            **kwargs,
        )

    def admin_accounts(self) -> list[dict]:
        """Every local account as the admin API shows it (pending ones too)."""
        found = []
        for status in ("active", "pending"):
            r = self.call(
                "GET",
                "/api/v1/admin/accounts",
                params={"local": "true", status: "true", "limit": 200},
            )
            r.raise_for_status()
            found += [a for a in r.json() if a["username"] not in ("admin", "agent")]
        return found

    def get(self, path: str, token: str = ADMIN_TOKEN, **params: Any) -> Any:
        r = self.call("GET", path, token, params=params)
        r.raise_for_status()
        return r.json()


def start_fedi_peer() -> _Server:
    return _Server(build_app(FediSettings()))


@pytest.fixture(scope="session")
def _fedi_server() -> Iterator[_Server]:
    server = start_fedi_peer()
    yield server
    server.stop()


@pytest.fixture
def fedi_peer(_fedi_server: _Server) -> FediPeer:
    """The session's mock server, reset to the seed and Mastodon's settings before each test."""
    peer = FediPeer(_fedi_server)
    peer.reset()
    return peer
