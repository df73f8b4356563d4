"""Proving one's X account by signing in with X: the `x_oauth` evidence.

Only where the operator configured an X app (``HIRONDELLE_X_CLIENT_ID``). A
person already signed in with their new accounts asks X (OAuth 2.0
authorization code with PKCE, scopes ``users.read tweet.read``) who they are.
We read ``GET /2/users/me`` (id and username), revoke the X token at once and
never store it: Hirondelle only needs to know who they are. Then each of the
person's connected accounts is linked to that X id with `x_oauth` evidence,
through the directory services, so conflicts, settling and the
`directory_changed` signal work as for any other evidence.

Strong evidence is not consent: an `x_oauth` link makes no one findable; only
the person's own `Consent.findable` does.

What is remembered: the `x_oauth` links themselves. The X ids proven for a
person are those whose `x_oauth` links point at the person's connected
accounts (`proven_x_accounts`); no extra table is needed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from hirondelle.config import get_settings
from hirondelle.identity.models import Evidence, Link, XAccount, x_id_to_db
from hirondelle.identity.services.directory import LinkRow, merge_links
from hirondelle.identity.services.errors import InvalidLink
from hirondelle.migration.models import ConnectedAccount, Migration
from hirondelle.networks import guard
from hirondelle.networks.pkce import new_pkce

__all__ = [
    "SCOPES",
    "XIdentity",
    "XProof",
    "XProofStatus",
    "XSignInError",
    "finish",
    "is_configured",
    "proof_status",
    "proven_x_accounts",
    "start",
]

log = logging.getLogger(__name__)

#: What `GET /2/users/me` needs, and nothing more (no offline.access: no refresh token).
SCOPES = "users.read tweet.read"
_SESSION_KEY = "hirondelle_x_oauth"
_TIMEOUT = httpx.Timeout(10.0)
ASSERTED_BY = "X sign-in checked by this portal"


class XSignInError(Exception):
    """Why proving the X account failed, in words the person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class XIdentity:
    """Who X says the person is."""

    id: str  # decimal, as X gives it
    username: str
    name: str = ""


@dataclass
class XProof:
    """The outcome of a successful proof."""

    identity: XIdentity
    linked: list[Link] = field(default_factory=list)
    #: The person's migrations whose archive is of another X account.
    mismatched: list[Migration] = field(default_factory=list)
    revoked: bool = True


@dataclass
class XProofStatus:
    """What the page shows: can one prove, what is proven, what does not match."""

    configured: bool
    can_start: bool
    proven: list[XAccount] = field(default_factory=list)
    mismatched: list[Migration] = field(default_factory=list)


def is_configured() -> bool:
    """The operator set up an X app: the button and the URLs exist."""
    return bool(get_settings().x_client_id.strip())


def start(request: HttpRequest, redirect_uri: str) -> str:
    """Remember state and PKCE verifier in the session; returns X's authorize URL."""
    if not is_configured():
        raise XSignInError(_("This portal does not offer signing in with X."))
    if not ConnectedAccount.objects.filter(user=request.user).exists():
        raise XSignInError(
            _("Sign in with your new Mastodon or Bluesky account first: it is what gets linked.")
        )
    config = get_settings()
    pkce = new_pkce()
    state = secrets.token_urlsafe(24)
    request.session[_SESSION_KEY] = {
        "state": state,
        "verifier": pkce.verifier,
        "redirect_uri": redirect_uri,
        "user": request.user.pk,
    }
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.x_client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": state,
            "code_challenge": pkce.challenge,
            "code_challenge_method": pkce.method,
        }
    )
    return f"{config.x_authorize_url}?{query}"


def _client_auth() -> tuple[dict[str, str], httpx.BasicAuth | None]:
    """Public clients name themselves in the body; confidential ones also use Basic auth."""
    config = get_settings()
    body = {"client_id": config.x_client_id}
    secret = config.x_client_secret
    return body, (httpx.BasicAuth(config.x_client_id, secret) if secret else None)


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(data, dict):
        return f"HTTP {response.status_code}"
    text = data.get("error_description") or data.get("detail") or data.get("error")
    return str(text or f"HTTP {response.status_code}")[:300]


def _exchange(client: httpx.Client, code: str, verifier: str, redirect_uri: str) -> str:
    body, auth = _client_auth()
    response = client.post(
        get_settings().x_token_url,
        data={
            **body,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=auth,
    )
    if response.status_code != 200:
        raise XSignInError(
            _("X refused to confirm your sign-in (%(why)s). Nothing was changed; try again.")
            % {"why": _error_text(response)}
        )
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise XSignInError(
            _("X answered the sign-in with something unexpected. Nothing was changed; try again.")
        )
    return token


def _whoami(client: httpx.Client, token: str) -> XIdentity:
    response = client.get(
        f"{get_settings().x_api_url.rstrip('/')}/users/me",
        headers={"Authorization": f"Bearer {token}"},
    )
    if response.status_code != 200:
        raise XSignInError(
            _("X did not say which account you signed in with (%(why)s). Nothing was changed.")
            % {"why": _error_text(response)}
        )
    try:
        data = response.json()["data"]
        identity = XIdentity(
            id=str(data["id"]), username=str(data["username"]), name=str(data.get("name", ""))
        )
        x_id_to_db(identity.id)
    except (ValueError, KeyError, TypeError):
        raise XSignInError(
            _("X did not say which account you signed in with. Nothing was changed.")
        ) from None
    return identity


def _revoke(client: httpx.Client, token: str) -> bool:
    """Best effort: the token is never stored and X lets it expire in two hours anyway."""
    body, auth = _client_auth()
    try:
        response = client.post(
            get_settings().x_revoke_url,
            data={**body, "token": token, "token_type_hint": "access_token"},
            auth=auth,
        )
    except (httpx.HTTPError, guard.GuardError) as e:
        log.warning("Could not revoke an X token: %s", type(e).__name__)
        return False
    if response.status_code != 200:
        log.warning("X refused to revoke a token: HTTP %s", response.status_code)
        return False
    return True


def _ask_x(code: str, verifier: str, redirect_uri: str) -> tuple[XIdentity, bool]:
    """Exchange the code, read who the person is, revoke the token whatever happened."""
    try:
        with guard.httpx_client(timeout=_TIMEOUT, follow_redirects=False) as client:
            token = _exchange(client, code, verifier, redirect_uri)
            try:
                identity = _whoami(client, token)
            finally:
                revoked = _revoke(client, token)
    except (httpx.HTTPError, guard.GuardError) as e:
        raise XSignInError(
            _("X could not be reached (%(why)s). Nothing was changed; try again later.")
            % {"why": type(e).__name__}
        ) from e
    return identity, revoked


def _pop_pending(request: HttpRequest, state: str) -> dict:
    pending = request.session.pop(_SESSION_KEY, None)
    if (
        not isinstance(pending, dict)
        or not state
        or not secrets.compare_digest(str(pending.get("state", "")), state)
        or pending.get("user") != request.user.pk
    ):
        raise XSignInError(
            _(
                "This X sign-in was not started here, or has expired. "
                "Nothing was changed; try again."
            )
        )
    return pending


def finish(request: HttpRequest, *, code: str, state: str, error: str = "") -> XProof:
    """X sent the person back: check, ask X who they are, record `x_oauth` links.

    All or nothing: the links of every connected account are written in one
    transaction, after the X token was already revoked.
    """
    if not is_configured():
        raise XSignInError(_("This portal does not offer signing in with X."))
    if error:
        request.session.pop(_SESSION_KEY, None)
        if error == "access_denied":
            raise XSignInError(_("You did not allow the sign-in on X. Nothing was changed."))
        raise XSignInError(
            _("X stopped the sign-in (%(why)s). Nothing was changed; try again.")
            % {"why": error[:100]}
        )
    pending = _pop_pending(request, state)
    if not code:
        raise XSignInError(_("X sent you back without a code. Nothing was changed; try again."))
    identity, revoked = _ask_x(code, pending["verifier"], pending["redirect_uri"])
    return _record(request.user, identity, revoked)


def _record(user, identity: XIdentity, revoked: bool) -> XProof:
    accounts = list(ConnectedAccount.objects.filter(user=user).order_by("network", "handle"))
    if not accounts:
        raise XSignInError(
            _("Sign in with your new Mastodon or Bluesky account first: it is what gets linked.")
        )
    try:
        rows = [
            LinkRow.make(
                identity.id,
                account.network,
                account.handle,
                account.remote_id,
                evidence=Evidence.X_OAUTH,
                asserted_by=ASSERTED_BY,
                x_username=identity.username,
            )
            for account in accounts
        ]
    except InvalidLink as e:
        raise XSignInError(str(e)) from e
    with transaction.atomic():
        merge_links(rows, created_by=user)
    x_id = x_id_to_db(identity.id)
    linked = list(
        Link.objects.filter(x_account_id=x_id, evidence=Evidence.X_OAUTH)
        .filter(_mine(accounts))
        .select_related("network_account")
        .order_by("network", "network_account__handle")
    )
    mismatched = list(
        Migration.objects.filter(owner=user).exclude(x_account_id=x_id).select_related("x_account")
    )
    return XProof(identity=identity, linked=linked, mismatched=mismatched, revoked=revoked)


def _mine(accounts: list[ConnectedAccount]) -> Q:
    """Links whose network account is one of these connected accounts (by URI, else handle)."""
    q = Q(pk__in=[])
    for a in accounts:
        if a.remote_id:
            q |= Q(network=a.network, network_account__uri=a.remote_id)
        else:
            q |= Q(network=a.network, network_account__handle=a.handle.lower())
    return q


def proven_x_accounts(user) -> list[XAccount]:
    """X accounts that X itself confirmed belong to this person (not rejected links)."""
    if not getattr(user, "is_authenticated", False):
        return []
    accounts = list(ConnectedAccount.objects.filter(user=user))
    if not accounts:
        return []
    ids = (
        Link.objects.filter(evidence=Evidence.X_OAUTH)
        .exclude(state=Link.State.REJECTED)
        .filter(_mine(accounts))
        .values("x_account_id")
    )
    return list(XAccount.objects.filter(id__in=ids).order_by("username", "id"))


def proof_status(user) -> XProofStatus:
    """For the page: whether to show the button, what is proven, and any mismatch."""
    configured = is_configured()
    if not configured or not getattr(user, "is_authenticated", False):
        return XProofStatus(configured=configured, can_start=False)
    proven = proven_x_accounts(user)
    proven_ids = {x.id for x in proven}
    mismatched = (
        list(
            Migration.objects.filter(owner=user)
            .exclude(x_account_id__in=proven_ids)
            .select_related("x_account")
        )
        if proven
        else []
    )
    return XProofStatus(
        configured=True,
        can_start=ConnectedAccount.objects.filter(user=user).exists(),
        proven=proven,
        mismatched=mismatched,
    )
