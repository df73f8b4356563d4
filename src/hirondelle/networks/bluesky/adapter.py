"""The Bluesky adapter: a thin layer over the `atproto` SDK.

What it adds to the SDK, and why:

- **Sessions that last.** `createSession` is limited to 30 per 5 minutes and
  300 a day, so the adapter signs in with an app password once, hands the
  session string to the caller (`on_session_change`, `session_string`) to
  store, takes it back next time, and refreshes it instead of signing in
  again.
  With atproto OAuth (`oauth.py`) there is no password at all: requests carry
  DPoP-bound tokens and a proof each (`oauth.DpopAuth`), refreshed the same way.
- **Batches.** Follows, blocks and list entries are records written with
  `com.atproto.repo.applyWrites`, 200 per call; mutes are not records
  (`app.bsky.graph.muteActor`, one call each).
- **Never twice.** Each record's key is a TID derived from the action's
  idempotency key (see `tid.py`), and the adapter keeps an index of the
  account's own follow/block/listitem records by subject: a retried action
  finds its earlier record (`already_done`) instead of writing a second one.
  If a write still hits an existing key (a concurrent writer), the PDS
  answers 500; the adapter then looks the keys up and reports them as done.
- **Budgets.** One `Budget` with the pools of `DEFAULT_POOLS`, charged before
  each call and corrected by the live `ratelimit-*` headers (the PDS reports
  the tightest of the limits that applied: the pool is told by the window in
  `ratelimit-policy`).
- **One error vocabulary.** Every SDK or httpx failure leaves as one of
  `hirondelle.networks.errors`. `apply()` never raises them: each action gets
  its own result, and when a call fails as a whole (rate limit, server down,
  session gone) every action it carried gets that error.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import regex
from atproto_client import Client, models
from atproto_client.client.session import Session, SessionEvent
from atproto_client.exceptions import (
    BadRequestError,
    LoginRequiredError,
    ModelError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError
from atproto_client.request import Request, RequestBase
from atproto_core.exceptions import AtProtocolError
from atproto_server.exceptions import TokenDecodeError
from pydantic import ValidationError

from hirondelle.networks import guard
from hirondelle.networks.base import (
    Action,
    ActionKind,
    ActionResult,
    MediaUpload,
    Network,
    OutgoingPost,
    PublishedPost,
    Relationship,
    RemoteAccount,
)
from hirondelle.networks.bluesky.oauth import DpopAuth, OAuthClient, OAuthError, OAuthSession
from hirondelle.networks.bluesky.tid import tid_for
from hirondelle.networks.budget import Budget, Costs, Pool
from hirondelle.networks.errors import (
    AuthExpired,
    InvalidResponse,
    NetworkError,
    NotFound,
    RateLimited,
    Refused,
    Transient,
    Unavailable,
)

__all__ = [
    "COLLECTIONS",
    "DEFAULT_POOLS",
    "MAX_WRITES_PER_CALL",
    "BlueskyAdapter",
    "default_pools",
]

T = TypeVar("T")

#: applyWrites takes at most this many writes in one call
MAX_WRITES_PER_CALL = 200
POST_MAX_GRAPHEMES = 300
POST_MAX_BYTES = 3000
IMAGES_PER_POST = 4
IMAGE_MAX_BYTES = 2_000_000
LIST_PURPOSES = ("curatelist", "modlist", "referencelist")

FOLLOW = "app.bsky.graph.follow"
BLOCK = "app.bsky.graph.block"
LISTITEM = "app.bsky.graph.listitem"
LIST = "app.bsky.graph.list"
POST = "app.bsky.feed.post"

#: the record collection each kind of action writes (mutes write none)
COLLECTIONS: Mapping[ActionKind, str] = {
    ActionKind.FOLLOW: FOLLOW,
    ActionKind.BLOCK: BLOCK,
    ActionKind.LIST_ADD: LISTITEM,
    ActionKind.POST: POST,
}

#: Bluesky's published limits (late 2026); live headers overwrite them.
DEFAULT_POOLS: Mapping[str, Pool] = {
    "points_hour": Pool(limit=5_000, period=3_600),  # repo writes: create 3, update 2, delete 1
    "points_day": Pool(limit=35_000, period=86_400),
    "requests": Pool(limit=3_000, period=300),  # every request, per IP
    "blobs": Pool(limit=1_000, period=86_400),  # uploadBlob, per IP by default
    "sessions": Pool(limit=30, period=300),  # createSession
    "sessions_day": Pool(limit=300, period=86_400),
}

_CREATE = {"points_hour": 3.0, "points_day": 3.0}
_UPDATE = {"points_hour": 2.0, "points_day": 2.0}
_SESSION = {"sessions": 1.0, "sessions_day": 1.0}
_EXPIRED_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing"})
_NOT_FOUND_ERRORS = frozenset(
    {
        "RecordNotFound",
        "HandleNotFound",
        "ActorNotFound",
        "NotFound",
        "AccountDeactivated",
        "AccountTakedown",
        "RepoNotFound",
        "RepoDeactivated",
        "RepoTakendown",
    }
)
_NOT_SERVED_ERRORS = frozenset({"MethodNotImplemented", "XRPCNotSupported"})
_HANDLE = regex.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_DID = regex.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}$")
_GRAPHEME = regex.compile(r"\X")


def default_pools() -> dict[str, Pool]:
    """Fresh copies of DEFAULT_POOLS."""
    return {name: Pool(limit=p.limit, period=p.period) for name, p in DEFAULT_POOLS.items()}


def _iso(moment: datetime) -> str:
    """atproto datetime: UTC, millisecond precision, 'Z'."""
    if moment.tzinfo is None:
        raise ValueError("dates sent to Bluesky must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _field(value: Any, name: str) -> Any:
    """A record field, whether the SDK gave a model or a plain dict."""
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def _xrpc_error(exc: RequestErrorBase) -> tuple[int | None, str, str]:
    response = exc.response
    if response is None:
        return None, "", ""
    content = response.content
    if isinstance(content, XrpcError):
        return response.status_code, content.error or "", content.message or ""
    return response.status_code, "", ""


def _not_served(exc: NetworkError) -> bool:
    """The server does not serve this method (no AppView behind the PDS)."""
    return exc.status in (404, 501) or getattr(exc, "xrpc_error", "") in _NOT_SERVED_ERRORS


def _no_appview(exc: NetworkError) -> bool:
    """Not served, or the PDS could not reach an AppView to proxy to."""
    return _not_served(exc) or (
        isinstance(exc, Unavailable) and getattr(exc, "xrpc_error", "") == "UpstreamFailure"
    )


@dataclass(frozen=True)
class _OAuthIdentity:
    """What the adapter reads from a session (`did`, `handle`) when OAuth signed in."""

    did: str
    handle: str


class GuardedRequest(Request):
    """The atproto SDK's request layer over the guard's httpx client.

    The PDS address comes from a person or a DID document: every call, and
    every redirect, goes through `networks.guard`."""

    def __init__(self, **kwargs: Any) -> None:
        RequestBase.__init__(self)  # not Request's: it opens a bare httpx.Client
        self._client_kwargs = kwargs
        self._client = guard.httpx_client(
            policy=guard.api_policy(), follow_redirects=True, **kwargs
        )


class BlueskyAdapter:
    """One Bluesky account, signed in with an app password, a stored session or OAuth.

    `service_url` is the account's PDS (or an entryway such as bsky.social);
    it also serves `app.bsky.*` reads by proxying them to its AppView.
    `budget_state` is a saved `budget.to_dict()`; `clock` drives the budget.
    `on_session_change(session_string)` is called whenever a new session is
    created or refreshed: store the string and pass it back next time.
    `transport` replaces httpx's (tests use it to simulate failures).
    `oauth_session` (an `OAuthSession` or its `to_dict()`) signs requests with
    DPoP instead, sent to the session's PDS; `oauth_client` renews its tokens
    (the adapter closes it), and `on_session_change` then gets
    `json.dumps(session.to_dict())`.
    """

    network = Network.BLUESKY
    #: self-label given to posts whose media X marked sensitive (the archive
    #: does not say which kind; "graphic-media" hides it behind a warning)
    sensitive_label = "graphic-media"

    def __init__(
        self,
        service_url: str,
        identifier: str,
        app_password: str | None = None,
        *,
        session_string: str | None = None,
        budget_state: Mapping[str, Mapping[str, float]] | None = None,
        clock: Callable[[], float] = time.time,
        on_session_change: Callable[[str], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        oauth_session: OAuthSession | Mapping[str, Any] | None = None,
        oauth_client: OAuthClient | None = None,
    ) -> None:
        if not service_url.startswith(("http://", "https://")):
            raise ValueError(
                "service_url must be an http(s) URL such as https://bsky.social, "
                f"got {service_url!r}"
            )
        if not app_password and not session_string and oauth_session is None:
            raise ValueError(
                "Bluesky needs an app password (Settings → Privacy and security → App passwords) "
                "or a stored session string"
            )
        self.service_url = service_url.rstrip("/")
        self.identifier = identifier.strip().lstrip("@")
        self._app_password = app_password
        self._session_string = session_string
        self._on_session_change = on_session_change
        self._clock = clock
        self.budget = Budget.from_dict(budget_state or {}, default_pools(), clock=clock)
        #: createSession calls made by this adapter (tests check reuse with it)
        self.sessions_created = 0
        #: XRPC calls made, by method name (tests check batching with it)
        self.calls: dict[str, int] = {}
        kwargs: dict[str, Any] = {
            "timeout": timeout,
            "event_hooks": {"request": [self._on_request], "response": [self._on_response]},
        }
        if transport is not None:
            kwargs["transport"] = transport
        self._oauth: DpopAuth | None = None
        self._oauth_client = oauth_client
        if oauth_session is not None:
            if not isinstance(oauth_session, OAuthSession):
                oauth_session = OAuthSession.from_dict(oauth_session)
            # The tokens are for the PDS the DID document names, at the address
            # it names (DPoP proofs are checked against it).
            self.service_url = oauth_session.pds.rstrip("/") or self.service_url
            self._oauth = DpopAuth(
                oauth_session,
                refresh=oauth_client.refresh if oauth_client is not None else None,
                on_change=self._oauth_changed,
                clock=clock,
            )
            self._session_string = json.dumps(oauth_session.to_dict())
            kwargs["auth"] = self._oauth
        self._client = Client(self.service_url, request=GuardedRequest(**kwargs))
        self._client.on_session_change(self._session_changed)
        self._signed_in = False
        self._me: RemoteAccount | None = None
        # own records by subject, per collection: filled on first use
        self._index: dict[str, dict[str, str]] = {}

    # -- sessions -------------------------------------------------------------

    @property
    def session_string(self) -> str | None:
        """The current session, to store and pass back as `session_string`."""
        return self._session_string

    @property
    def did(self) -> str:
        return self._session().did

    def _session_changed(self, event: SessionEvent, session: Session) -> None:
        if event is SessionEvent.IMPORT:
            return
        self._session_string = session.export()
        if self._on_session_change is not None:
            self._on_session_change(self._session_string)

    def _oauth_changed(self, session: OAuthSession) -> None:
        self._session_string = json.dumps(session.to_dict())
        if self._on_session_change is not None:
            self._on_session_change(self._session_string)

    def _session(self) -> Session | _OAuthIdentity:
        if self._oauth is not None:
            return _OAuthIdentity(self._oauth.session.did, self._oauth.session.handle)
        if not self._signed_in:
            self._sign_in()
        session = self._client._session
        if session is None:  # pragma: no cover - the SDK always sets one
            raise AuthExpired("no Bluesky session: sign in again")
        return session

    def _sign_in(self, *, fresh: bool = False) -> None:
        if self._session_string and not fresh:
            try:
                self._client.login(session_string=self._session_string, fetch_bsky_profile=False)
            except (ValueError, AtProtocolError) as exc:
                if not self._app_password:
                    raise AuthExpired(
                        "the stored Bluesky session is unreadable: sign in again "
                        "with an app password"
                    ) from exc
            else:
                self._signed_in = True
                return
        if not self._app_password:
            raise AuthExpired(
                "the Bluesky session has expired and no app password is stored: sign in again"
            )
        wait = self.budget.delay(_SESSION)
        if wait > 0:
            raise RateLimited(
                f"Bluesky allows 30 sign-ins per 5 minutes and 300 a day; "
                f"try again in {wait:.0f} s",
                retry_after=wait,
                status=None,
            )
        self.budget.spend(_SESSION)
        self.sessions_created += 1
        try:
            self._client.login(self.identifier, self._app_password, fetch_bsky_profile=False)
        except AtProtocolError as exc:
            error = self._translate(exc, "createSession")
            if isinstance(error, AuthExpired | Refused | NotFound):
                raise AuthExpired(
                    f"Bluesky refused the sign-in of {self.identifier}: check the handle and "
                    f"the app password ({error.message})",
                    status=error.status,
                ) from exc
            raise error from exc
        except httpx.HTTPError as exc:
            raise self._translate_http(exc) from exc
        self._signed_in = True

    def _refresh(self) -> bool:
        """Trade the refresh token for a new session; False if it is no longer valid."""
        if self._oauth is not None:
            try:
                return self._oauth.refresh_now()
            except OAuthError:
                return False
        try:
            self._client._refresh_and_set_session()
        except (AtProtocolError, httpx.HTTPError):
            return False
        return True

    def _call(self, method: str, fn: Callable[[Client], T]) -> T:
        """Run one SDK call; refresh or renew the session once if it expired."""
        self._session()
        for attempt in range(3):
            try:
                return fn(self._client)
            except AtProtocolError as exc:
                if attempt < 2 and self._is_expired(exc):
                    if attempt == 0 and self._refresh():
                        continue
                    if self._app_password:
                        self._sign_in(fresh=True)
                        continue
                raise self._translate(exc, method) from exc
            except httpx.HTTPError as exc:
                raise self._translate_http(exc) from exc
            except OAuthError as exc:  # renewing the OAuth tokens failed
                if exc.reason == "unreachable":
                    raise Unavailable(f"Bluesky could not renew the session: {exc}") from exc
                raise AuthExpired(
                    f"the Bluesky session could not be renewed ({exc}): sign in again"
                ) from exc
            except (ValidationError, ValueError) as exc:
                raise InvalidResponse(
                    f"Bluesky's answer to {method} was not understood: {exc}"
                ) from exc
        raise AuthExpired("the Bluesky session could not be renewed: sign in again")

    @staticmethod
    def _is_expired(exc: AtProtocolError) -> bool:
        if isinstance(exc, LoginRequiredError | TokenDecodeError):
            return True
        if isinstance(exc, UnauthorizedError | BadRequestError):
            _, error, _ = _xrpc_error(exc)
            status = exc.response.status_code if exc.response is not None else None
            return error in _EXPIRED_TOKEN_ERRORS or (status == 401 and not error)
        return False

    # -- errors and rate-limit headers -----------------------------------------

    def _translate(self, exc: AtProtocolError, method: str) -> NetworkError:
        """Map an SDK exception to a Hirondelle error."""
        if isinstance(exc, LoginRequiredError):
            return AuthExpired("not signed in to Bluesky: sign in again")
        if isinstance(exc, TokenDecodeError):
            return AuthExpired(f"the stored Bluesky session is unreadable ({exc}): sign in again")
        if isinstance(exc, ModelError):
            return InvalidResponse(f"Bluesky's answer to {method} was not understood: {exc}")
        if not isinstance(exc, RequestErrorBase):
            return InvalidResponse(f"{method} failed: {exc}")
        status, error, message = _xrpc_error(exc)
        detail = f"{method}: {error or status}" + (f" ({message})" if message else "")
        result: NetworkError
        if isinstance(exc, RateLimitExceededError):
            retry_after = exc.retry_after
            if retry_after is None and exc.reset_at is not None:
                retry_after = exc.reset_at.timestamp() - self._clock()
            retry_after = max(1.0, retry_after if retry_after is not None else 60.0)
            pool = self._pool_from_headers(method, exc.response.headers if exc.response else {})
            if pool is not None:
                self.budget.exhaust(pool, retry_after)
            result = RateLimited(
                f"Bluesky rate limit reached ({detail}); retry in {retry_after:.0f} s",
                retry_after=retry_after,
            )
        elif status is None:
            result = Unavailable(f"Bluesky could not be reached ({method}); will retry.")
        elif error in _EXPIRED_TOKEN_ERRORS or status == 401:
            result = AuthExpired(
                f"the Bluesky session is no longer valid ({detail}): sign in again", status=status
            )
        elif error in _NOT_FOUND_ERRORS or status == 404 or message == "Profile not found":
            result = NotFound(detail, status=status)
        elif status >= 500 or status in (408, 425):
            result = Unavailable(f"Bluesky server error: {detail}", status=status)
        else:
            result = Refused(f"Bluesky refused {detail}", status=status)
        result.xrpc_error = error  # type: ignore[attr-defined]
        return result

    @staticmethod
    def _translate_http(exc: httpx.HTTPError) -> NetworkError:
        if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
            return Unavailable("Bluesky could not be reached; will retry.")
        return InvalidResponse("Bluesky answered something unreadable.")

    def _on_request(self, request: httpx.Request) -> None:
        method = request.url.path.rsplit("/", 1)[-1]
        self.calls[method] = self.calls.get(method, 0) + 1
        self.budget.spend({"requests": 1})

    def _on_response(self, response: httpx.Response) -> None:
        method = response.request.url.path.rsplit("/", 1)[-1]
        headers = response.headers
        pool = self._pool_from_headers(method, headers)
        if pool is None:
            return
        try:
            limit = float(headers["ratelimit-limit"])
            remaining = float(headers["ratelimit-remaining"])
            reset_at = float(headers["ratelimit-reset"])
        except (KeyError, ValueError):
            return
        self.budget.observe(pool, limit=limit, remaining=remaining, reset_at=reset_at)

    @staticmethod
    def _pool_from_headers(method: str, headers: Mapping[str, str]) -> str | None:
        """Which pool the server's `ratelimit-*` headers describe, told by their window."""
        policy = headers.get("ratelimit-policy", "")
        try:
            limit = float(headers.get("ratelimit-limit", ""))
            window = float(policy.split("w=", 1)[1].split(";", 1)[0]) if "w=" in policy else 0.0
        except ValueError:
            return None
        if window >= 86_400:
            if method.endswith("uploadBlob"):
                return "blobs"
            return "sessions_day" if method.endswith("createSession") else "points_day"
        if window >= 3_600:
            return "points_hour"
        if window > 0:
            if method.endswith("createSession") and limit < DEFAULT_POOLS["requests"].limit:
                return "sessions"
            return "requests"
        return None

    def _check_budget(self, costs: Costs, count: int = 1) -> None:
        wait = self.budget.delay(costs, count)
        if wait > 0:
            raise RateLimited(
                f"Bluesky's budget for this account is spent; next room in {wait:.0f} s",
                retry_after=wait,
                status=None,
            )

    # -- the Adapter interface -------------------------------------------------

    def whoami(self) -> RemoteAccount:
        if self._me is None:
            session = self._session()
            display_name = ""
            try:
                profile = self._call(
                    "getProfile",
                    lambda c: c.app.bsky.actor.get_profile(
                        models.AppBskyActorGetProfile.Params(actor=session.did)
                    ),
                )
                display_name = profile.display_name or ""
            except NetworkError as exc:
                if not (_no_appview(exc) or isinstance(exc, NotFound)):
                    raise
            self._me = RemoteAccount(
                network=Network.BLUESKY,
                id=session.did,
                handle=session.handle,
                display_name=display_name,
            )
        return self._me

    def resolve(self, handle: str) -> RemoteAccount | None:
        """Handle (or DID) → account, through the AppView; the PDS if there is none."""
        actor = handle.strip().lstrip("@")
        if actor.startswith("did:"):
            if not _DID.match(actor):
                return None
        else:
            actor = actor.lower()
            if not _HANDLE.match(actor) or len(actor) > 253:
                return None
        try:
            profile = self._call(
                "getProfile",
                lambda c: c.app.bsky.actor.get_profile(
                    models.AppBskyActorGetProfile.Params(actor=actor)
                ),
            )
        except NotFound:
            return None
        except Refused as exc:
            if exc.status == 400:  # "Profile not found" and the like
                return None
            raise
        except NetworkError as exc:
            if not _no_appview(exc):
                raise
            return self._resolve_without_appview(actor)
        return RemoteAccount(
            network=Network.BLUESKY,
            id=profile.did,
            handle=profile.handle,
            display_name=profile.display_name or "",
        )

    def _resolve_without_appview(self, actor: str) -> RemoteAccount | None:
        if actor.startswith("did:"):
            return RemoteAccount(network=Network.BLUESKY, id=actor, handle="")
        try:
            answer = self._call(
                "resolveHandle",
                lambda c: c.com.atproto.identity.resolve_handle(
                    models.ComAtprotoIdentityResolveHandle.Params(handle=actor)
                ),
            )
        except (NotFound, Refused):
            return None
        return RemoteAccount(network=Network.BLUESKY, id=answer.did, handle=actor)

    def relationships(self, targets: Sequence[RemoteAccount]) -> dict[str, Relationship]:
        """Read from the account's own repository (follows, blocks) and its mutes."""
        follows = self._load_index(FOLLOW)
        blocks = self._load_index(BLOCK)
        muted = self._muted() if targets else set()
        return {
            t.id: Relationship(
                following=t.id in follows, blocking=t.id in blocks, muting=t.id in muted
            )
            for t in targets
        }

    def cost(self, kind: ActionKind) -> dict[str, float]:
        if kind is ActionKind.MUTE:
            return {"requests": 1.0}
        if kind is ActionKind.POST:
            return {**_CREATE, "requests": 1.0}
        return {**_CREATE, "requests": 1.0 / MAX_WRITES_PER_CALL}

    def post_cost(self, post: OutgoingPost) -> dict[str, float]:
        """What one post costs, its media uploads included."""
        costs = self.cost(ActionKind.POST)
        if post.media:
            costs["blobs"] = float(len(post.media))
            costs["requests"] += len(post.media)
        return costs

    def batch_size(self, kind: ActionKind) -> int:
        if kind in (ActionKind.FOLLOW, ActionKind.BLOCK, ActionKind.LIST_ADD):
            return MAX_WRITES_PER_CALL
        return 1

    def apply(self, actions: Sequence[Action]) -> list[ActionResult]:
        if not actions:
            return []
        kinds = {a.kind for a in actions}
        if len(kinds) != 1:
            raise ValueError(f"apply() takes actions of one kind, got {sorted(kinds)}")
        kind = actions[0].kind
        if kind is ActionKind.POST:
            raise ValueError("posts go through publish(), one at a time")
        if kind is ActionKind.MUTE:
            return self._mute_all(actions)
        return self._write_all(kind, actions)

    def create_list(
        self,
        name: str,
        description: str = "",
        *,
        purpose: str = "curatelist",
        key: str | None = None,
    ) -> str:
        """Create an `app.bsky.graph.list`; returns its at:// URI.

        `purpose`: "curatelist" (people to follow) or "modlist" (to mute or
        block together). With a `key`, the record key is derived from it, and
        calling again with the same key returns the list made the first time.
        """
        if purpose not in LIST_PURPOSES:
            raise ValueError(f"list purpose must be one of {', '.join(LIST_PURPOSES)}")
        name = name.strip()
        if not name:
            raise ValueError("a Bluesky list needs a name")
        if len(_GRAPHEME.findall(name)) > 64:
            raise ValueError(f"Bluesky list names take 64 characters at most: {name[:70]!r}…")
        record = {
            "$type": LIST,
            "purpose": f"app.bsky.graph.defs#{purpose}",
            "name": name,
            "createdAt": _iso(datetime.fromtimestamp(self._clock(), UTC)),
        }
        if description:
            record["description"] = description
        rkey = tid_for(key, namespace=LIST) if key else None
        if rkey is not None:
            found = self._get_record(LIST, rkey)
            if found is not None:
                return found[0]
        uri, _cid = self._create_record(LIST, record, rkey)
        return uri

    def publish(self, post: OutgoingPost) -> PublishedPost:
        """Write one `app.bsky.feed.post`, dated `post.created_at` (backdating)."""
        self._check_post(post)
        did = self._session().did
        created = post.created_at or datetime.fromtimestamp(self._clock(), UTC)
        rkey = tid_for(post.key, namespace=POST, at=created)
        if post.media:
            # A retry must not spend the day's blob uploads again.
            found = self._get_record(POST, rkey)
            if found is not None:
                return self._published(did, rkey, found[1])
        record: dict[str, Any] = {"$type": POST, "text": post.text, "createdAt": _iso(created)}
        if post.facets:
            record["facets"] = [dict(f) for f in post.facets]
        if post.language:
            record["langs"] = [post.language]
        parent = post.reply_to
        if parent is not None:
            root = post.thread_root or parent
            record["reply"] = {"root": self._ref(root), "parent": self._ref(parent)}
        media = self._upload_media(post.media) if post.media else None
        if post.quote is not None:
            quoted = {"$type": "app.bsky.embed.record", "record": self._ref(post.quote)}
            if media is None:
                record["embed"] = quoted
            else:
                record["embed"] = {
                    "$type": "app.bsky.embed.recordWithMedia",
                    "record": quoted,
                    "media": media,
                }
        elif media is not None:
            record["embed"] = media
        if post.sensitive or any(m.sensitive for m in post.media):
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": self.sensitive_label}],
            }
        _uri, cid = self._create_record(POST, record, rkey)
        return self._published(did, rkey, cid)

    def close(self) -> None:
        self._client.request.close()
        if self._oauth_client is not None:
            self._oauth_client.close()

    # -- records ----------------------------------------------------------------

    def set_alt_texts(self, post: PublishedPost, alts: Sequence[str]) -> PublishedPost:
        """Describe the images of a published post (the archive has none).

        Rewrites the post record with `putRecord`, guarded by its current cid
        so a concurrent edit is never overwritten; costs one update.
        """
        did, collection, rkey = post.uri.removeprefix("at://").split("/", 2)
        if did != self._session().did or collection != POST:
            raise InvalidResponse(f"{post.uri} is not a post of this account")
        answer = self._call(
            "getRecord",
            lambda c: c.invoke_query(
                "com.atproto.repo.getRecord",
                params=models.ComAtprotoRepoGetRecord.Params(repo=did, collection=POST, rkey=rkey),
                output_encoding="application/json",  # the raw record, round-tripped as is
            ),
        ).content
        record, cid = dict(answer["value"]), str(answer.get("cid") or "")
        embed = record.get("embed") or {}
        images = (embed.get("media") or {}).get("images") or embed.get("images") or []
        if not images:
            raise InvalidResponse(f"{post.uri} has no images to describe")
        for image, alt in zip(images, alts, strict=False):
            image["alt"] = alt
        self._check_budget(_UPDATE)
        self.budget.spend(_UPDATE)
        body = {
            "repo": did,
            "collection": POST,
            "rkey": rkey,
            "record": record,
            "swapRecord": cid,
        }
        answer = self._procedure("com.atproto.repo.putRecord", body)
        return self._published(did, rkey, str(answer.get("cid", "")))

    def _published(self, did: str, rkey: str, cid: str) -> PublishedPost:
        return PublishedPost(
            uri=f"at://{did}/{POST}/{rkey}",
            cid=cid,
            url=f"https://bsky.app/profile/{did}/post/{rkey}",
        )

    @staticmethod
    def _ref(post: PublishedPost) -> dict[str, str]:
        if not post.uri.startswith("at://") or not post.cid:
            raise ValueError(
                f"replies and quotes need the at:// URI and CID of the earlier post, got {post!r}"
            )
        return {"uri": post.uri, "cid": post.cid}

    @staticmethod
    def _check_post(post: OutgoingPost) -> None:
        if not post.key:
            raise ValueError("every post needs an idempotency key")
        graphemes = len(_GRAPHEME.findall(post.text))
        if graphemes > POST_MAX_GRAPHEMES or len(post.text.encode()) > POST_MAX_BYTES:
            raise ValueError(
                f"this post has {graphemes} characters; Bluesky takes {POST_MAX_GRAPHEMES}: "
                "split it into a thread first (hirondelle.compose)"
            )
        videos = [m for m in post.media if m.mime_type.startswith("video/")]
        images = [m for m in post.media if not m.mime_type.startswith("video/")]
        if videos and images:
            raise ValueError("a Bluesky post carries images or one video, not both")
        if len(videos) > 1:
            raise ValueError("a Bluesky post carries one video at most")
        if len(images) > IMAGES_PER_POST:
            raise ValueError(f"a Bluesky post carries {IMAGES_PER_POST} images at most")
        for image in images:
            if not image.mime_type.startswith("image/"):
                raise ValueError(f"cannot attach {image.mime_type} to a Bluesky post")
            if len(image.data) > IMAGE_MAX_BYTES:
                raise ValueError(
                    f"an image of {len(image.data):,} bytes is over Bluesky's "
                    f"{IMAGE_MAX_BYTES:,}: re-encode it first"
                )

    def _upload_media(self, media: Sequence[MediaUpload]) -> dict[str, Any]:
        self._check_budget({"blobs": 1.0}, len(media))
        blobs = [self._upload_blob(m) for m in media]
        if media[0].mime_type.startswith("video/"):
            video: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": blobs[0]}
            if media[0].alt:
                video["alt"] = media[0].alt
            return video
        images = []
        for upload, blob in zip(media, blobs, strict=True):
            image: dict[str, Any] = {"alt": upload.alt, "image": blob}
            ratio = _aspect_ratio(upload.data)
            if ratio is not None:
                image["aspectRatio"] = ratio
            images.append(image)
        return {"$type": "app.bsky.embed.images", "images": images}

    def _upload_blob(self, media: MediaUpload) -> Any:
        self.budget.spend({"blobs": 1.0})
        response = self._call(
            "uploadBlob",
            lambda c: c.invoke_procedure(
                "com.atproto.repo.uploadBlob",
                content=media.data,
                headers={"Content-Type": media.mime_type},
                output_encoding="application/json",
            ),
        )
        content = response.content
        if not isinstance(content, Mapping) or "blob" not in content:
            raise InvalidResponse("Bluesky's answer to uploadBlob had no blob")
        return content["blob"]

    def _procedure(self, nsid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a JSON body as written: records go out exactly as built here."""
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        response = self._call(
            nsid.rsplit(".", 1)[-1],
            lambda c: c.invoke_procedure(
                nsid,
                content=content,
                headers={"Content-Type": "application/json"},
                output_encoding="application/json",
            ),
        )
        if not isinstance(response.content, dict):
            raise InvalidResponse(f"Bluesky's answer to {nsid} was not a JSON object")
        return response.content

    def _create_record(
        self, collection: str, record: Mapping[str, Any], rkey: str | None
    ) -> tuple[str, str]:
        self._check_budget(_CREATE)
        did = self._session().did
        self.budget.spend(_CREATE)
        body: dict[str, Any] = {"repo": did, "collection": collection, "record": dict(record)}
        if rkey is not None:
            body["rkey"] = rkey
        try:
            answer = self._procedure("com.atproto.repo.createRecord", body)
        except Unavailable:
            # 500 is how the PDS says "this record key exists": a retry after a crash.
            found = self._get_record(collection, rkey) if rkey else None
            if found is None:
                raise
            return found
        try:
            return str(answer["uri"]), str(answer["cid"])
        except KeyError as exc:
            raise InvalidResponse("Bluesky's answer to createRecord had no uri/cid") from exc

    def _get_record(self, collection: str, rkey: str) -> tuple[str, str] | None:
        """(uri, cid) of one of the account's records, or None if there is none."""
        did = self._session().did
        params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=collection, rkey=rkey)
        try:
            answer = self._call("getRecord", lambda c: c.com.atproto.repo.get_record(params))
        except NotFound:
            return None
        return answer.uri, answer.cid or ""

    def _subject_key(self, action: Action) -> str:
        if action.kind is ActionKind.LIST_ADD:
            return f"{action.list_id} {action.target.id}"
        return action.target.id

    def _load_index(self, collection: str, *, refresh: bool = True) -> dict[str, str]:
        """The account's own records of a collection, by subject (list and subject for items)."""
        if not refresh and collection in self._index:
            return self._index[collection]
        did = self._session().did
        found: dict[str, str] = {}
        cursor: str | None = None
        while True:
            params = models.ComAtprotoRepoListRecords.Params(
                repo=did, collection=collection, limit=100, cursor=cursor
            )
            page = self._call("listRecords", lambda c, p=params: c.com.atproto.repo.list_records(p))
            for item in page.records:
                subject = _field(item.value, "subject")
                if not isinstance(subject, str):
                    continue
                if collection == LISTITEM:
                    subject = f"{_field(item.value, 'list')} {subject}"
                found.setdefault(subject, item.uri)
            if not page.cursor or not page.records:
                break
            cursor = page.cursor
        self._index[collection] = found
        return found

    def _muted(self) -> set[str]:
        muted: set[str] = set()
        cursor: str | None = None
        while True:
            params = models.AppBskyGraphGetMutes.Params(limit=100, cursor=cursor)
            try:
                page = self._call("getMutes", lambda c, p=params: c.app.bsky.graph.get_mutes(p))
            except NetworkError as exc:
                if _not_served(exc):
                    return muted  # no AppView: mutes cannot be read
                raise
            muted.update(profile.did for profile in page.mutes)
            if not page.cursor or not page.mutes:
                return muted
            cursor = page.cursor

    def _record_for(self, action: Action) -> dict[str, Any]:
        target = action.target.id
        if not _DID.match(target):
            raise ValueError(f"Bluesky actions need the target's DID, got {target!r}")
        record: dict[str, Any] = {
            "$type": COLLECTIONS[action.kind],
            "subject": target,
            "createdAt": _iso(datetime.fromtimestamp(self._clock(), UTC)),
        }
        if action.kind is ActionKind.LIST_ADD:
            if not action.list_id or not action.list_id.startswith("at://"):
                raise ValueError(
                    f"adding to a Bluesky list needs the list's at:// URI, got {action.list_id!r}"
                )
            record["list"] = action.list_id
        return record

    def _write_all(self, kind: ActionKind, actions: Sequence[Action]) -> list[ActionResult]:
        collection = COLLECTIONS[kind]
        results: list[ActionResult | None] = [None] * len(actions)
        try:
            index = self._load_index(collection, refresh=False)
        except NetworkError as exc:
            return [ActionResult(a, error=exc) for a in actions]
        pending: list[int] = []
        first_of: dict[str, int] = {}
        duplicates: dict[int, int] = {}
        for i, action in enumerate(actions):
            try:
                self._record_for(action)
            except ValueError as exc:
                results[i] = ActionResult(action, error=Refused(str(exc)))
                continue
            subject = self._subject_key(action)
            if subject in index:
                results[i] = ActionResult(action, remote_id=index[subject], already_done=True)
            elif subject in first_of:
                duplicates[i] = first_of[subject]
            else:
                first_of[subject] = i
                pending.append(i)
        failure: NetworkError | None = None
        for chunk in _chunks(pending, MAX_WRITES_PER_CALL):
            if failure is None:
                try:
                    outcome = self._write_chunk(collection, [actions[i] for i in chunk])
                except NetworkError as exc:
                    failure = exc
            if failure is not None:
                outcome = [ActionResult(actions[i], error=failure) for i in chunk]
            for i, result in zip(chunk, outcome, strict=True):
                results[i] = result
                if result.ok and result.remote_id:
                    index[self._subject_key(actions[i])] = result.remote_id
        for i, first in duplicates.items():
            earlier = results[first]
            assert earlier is not None
            results[i] = ActionResult(
                actions[i],
                remote_id=earlier.remote_id,
                error=earlier.error,
                already_done=earlier.ok,
            )
        return [r for r in results if r is not None]

    def _write_chunk(self, collection: str, actions: Sequence[Action]) -> list[ActionResult]:
        """One applyWrites call; isolates bad writes, recognises existing keys."""
        self._check_budget(_CREATE, len(actions))
        did = self._session().did
        rkeys = [tid_for(a.key, namespace=collection) for a in actions]
        writes = [
            {
                "$type": "com.atproto.repo.applyWrites#create",
                "collection": collection,
                "rkey": rkey,
                "value": self._record_for(a),
            }
            for a, rkey in zip(actions, rkeys, strict=True)
        ]
        self.budget.spend(_CREATE, len(actions))
        try:
            answer = self._procedure(
                "com.atproto.repo.applyWrites", {"repo": did, "writes": writes}
            )
        except Unavailable:
            return self._recover_existing(collection, actions, rkeys)
        except Refused as exc:
            if exc.status not in (400, 413):
                raise
            if len(actions) == 1:
                return [ActionResult(actions[0], error=exc)]
            middle = len(actions) // 2
            return self._write_chunk(collection, actions[:middle]) + self._write_chunk(
                collection, actions[middle:]
            )
        created = answer.get("results")
        if not isinstance(created, list) or len(created) != len(actions):
            raise InvalidResponse(f"applyWrites answered {created!r:.80} for {len(actions)} writes")
        return [
            ActionResult(a, remote_id=r.get("uri") if isinstance(r, dict) else None)
            for a, r in zip(actions, created, strict=True)
        ]

    def _recover_existing(
        self, collection: str, actions: Sequence[Action], rkeys: Sequence[str]
    ) -> list[ActionResult]:
        """After a 500: were some of these records written before (a retried batch)?"""
        existing: dict[int, str] = {}
        for i, rkey in enumerate(rkeys):
            found = self._get_record(collection, rkey)
            if found is not None:
                existing[i] = found[0]
        if not existing:
            raise Unavailable(f"Bluesky failed to write {len(actions)} records; try again later")
        rest = [i for i in range(len(actions)) if i not in existing]
        written: dict[int, ActionResult] = {}
        if rest:
            for i, result in zip(
                rest, self._write_chunk(collection, [actions[i] for i in rest]), strict=True
            ):
                written[i] = result
        return [
            ActionResult(a, remote_id=existing[i], already_done=True)
            if i in existing
            else written[i]
            for i, a in enumerate(actions)
        ]

    def _mute_all(self, actions: Sequence[Action]) -> list[ActionResult]:
        results: list[ActionResult] = []
        failure: NetworkError | None = None
        for action in actions:
            if failure is not None:
                results.append(ActionResult(action, error=failure))
                continue
            if not _DID.match(action.target.id):
                results.append(
                    ActionResult(
                        action,
                        error=Refused(f"muting needs the target's DID, got {action.target.id!r}"),
                    )
                )
                continue
            data = models.AppBskyGraphMuteActor.Data(actor=action.target.id)
            try:
                self._check_budget({"requests": 1.0})
                self._call("muteActor", lambda c, d=data: c.app.bsky.graph.mute_actor(d))
            except NetworkError as exc:
                if isinstance(exc, Transient | AuthExpired):
                    failure = exc
                results.append(ActionResult(action, error=exc))
                continue
            results.append(ActionResult(action, remote_id=None))
        return results


def _aspect_ratio(data: bytes) -> dict[str, int] | None:
    """Width and height from the image header (Pillow reads no pixels for this)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    if width <= 0 or height <= 0:
        return None
    return {"width": width, "height": height}
