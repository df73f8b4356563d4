"""Signing in to the portal with one's new account: no password, no e-mail.

The person proves they own a Mastodon account (OAuth authorization code with
PKCE, the app registered on the fly on their server) or a Bluesky account
(an app password). The first sign-in creates a local person; later ones, with
any of their connected accounts, find the same person again. Signing in with
a second account while signed in adds it to the same person.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model, login
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.accounts import connect_account
from hirondelle.migration.services.adapters import adapter_for
from hirondelle.networks.base import Network
from hirondelle.networks.errors import AuthExpired, NetworkError, Refused
from hirondelle.networks.mastodon import auth as mastodon_auth
from hirondelle.portal.models import MastodonApp

log = logging.getLogger(__name__)

__all__ = [
    "SignInError",
    "finish_mastodon",
    "sign_in",
    "sign_in_bluesky",
    "start_mastodon",
]

_SESSION_KEY = "hirondelle_mastodon_oauth"
DEFAULT_BLUESKY_SERVER = "https://bsky.social"


class SignInError(Exception):
    """Why signing in failed, in words the person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _app_for(server: str, redirect_uri: str) -> mastodon_auth.AppCredentials:
    app = MastodonApp.objects.filter(server=server, redirect_uri=redirect_uri).first()
    if app is None:
        registered = mastodon_auth.register_app(server, redirect_uri=redirect_uri)
        try:
            with transaction.atomic():
                app = MastodonApp.objects.create(
                    server=server,
                    redirect_uri=redirect_uri,
                    client_id=registered.client_id,
                    secret=registered.client_secret,
                )
        except IntegrityError:  # registered at the same moment by another request
            app = MastodonApp.objects.get(server=server, redirect_uri=redirect_uri)
    return mastodon_auth.AppCredentials(
        base_url=server,
        client_id=app.client_id,
        client_secret=app.secret,
        redirect_uri=redirect_uri,
    )


def start_mastodon(request: HttpRequest, server: str, redirect_uri: str) -> str:
    """Register (once) on the person's server; returns where to send their browser."""
    try:
        base_url = mastodon_auth.normalise_server(server)
    except ValueError as e:
        raise SignInError(
            _(
                "“%(server)s” is not a server address. Write only the server's name: for "
                "@marie@piaille.fr, write piaille.fr."
            )
            % {"server": server.strip()[:100]}
        ) from e
    try:
        app = _app_for(base_url, redirect_uri)
    except NetworkError as e:
        log.info("registering on %s failed: %s", base_url, e.message)
        raise SignInError(
            _(
                "We could not start the sign-in on %(server)s: it did not answer, or it is "
                "not a Mastodon server. Check the address and try again in a moment."
            )
            % {"server": urlsplit(base_url).hostname or base_url}
        ) from e
    pkce = mastodon_auth.new_pkce()
    state = secrets.token_urlsafe(24)
    request.session[_SESSION_KEY] = {
        "state": state,
        "server": base_url,
        "verifier": pkce.verifier,
        "challenge": pkce.challenge,
        "redirect_uri": redirect_uri,
    }
    return mastodon_auth.authorization_url(app, pkce, state=state)


def finish_mastodon(request: HttpRequest, code: str, state: str) -> ConnectedAccount:
    """The server sent the person back with a code: exchange it and sign in."""
    pending = request.session.pop(_SESSION_KEY, None)
    if not pending or not state or not secrets.compare_digest(pending["state"], state):
        raise SignInError(_("This sign-in link has expired or was not started here. Try again."))
    app = _app_for(pending["server"], pending["redirect_uri"])
    pkce = mastodon_auth.Pkce(verifier=pending["verifier"], challenge=pending["challenge"])
    try:
        token = mastodon_auth.exchange_code(app, code, pkce)
    except (NetworkError, ValueError) as e:
        log.info("code exchange with %s failed: %s", app.base_url, getattr(e, "message", e))
        raise SignInError(
            _(
                "Your server did not confirm the sign-in. Try again; if it happens again, "
                "your server may be having trouble for a while."
            )
        ) from e
    credentials = {
        "access_token": token.access_token,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    return sign_in(request, Network.MASTODON, app.base_url, credentials)


def sign_in_bluesky(
    request: HttpRequest, handle: str, app_password: str, server: str = ""
) -> ConnectedAccount:
    """Sign in with a Bluesky handle and an app password (never the main password)."""
    handle = handle.strip().lstrip("@")
    if not handle or not app_password.strip():
        raise SignInError(_("Give your Bluesky handle and an app password."))
    server = (server.strip() or DEFAULT_BLUESKY_SERVER).rstrip("/")
    if "://" not in server:
        server = "https://" + server
    credentials = {"identifier": handle, "app_password": app_password.strip()}
    return sign_in(request, Network.BLUESKY, server, credentials)


@dataclass
class _Owner:
    user: object
    created: bool


def _owner(request: HttpRequest) -> _Owner:
    if request.user.is_authenticated:
        return _Owner(request.user, False)
    user = get_user_model().objects.create_user(username=f"pending-{uuid.uuid4().hex}")
    return _Owner(user, True)


def sign_in(
    request: HttpRequest, network: Network, server: str, credentials: dict
) -> ConnectedAccount:
    """Check the credentials on the network, find or create the person, log them in."""
    owner = _owner(request)
    probe = ConnectedAccount(
        user=owner.user,
        network=network,
        server=server.rstrip("/"),
        credentials=credentials,
        handle=credentials.get("identifier", ""),
    )
    adapter = None
    try:
        adapter = adapter_for(probe)
        account = connect_account(owner.user, network, server, credentials, adapter=adapter)
    except NetworkError as e:
        if owner.created:
            owner.user.delete()
        log.info("sign-in on %s refused: %s", server, e.message)
        host = urlsplit(server).hostname or server
        if isinstance(e, AuthExpired | Refused):
            message = _(
                "%(server)s refused the sign-in: check your name and password. For Bluesky, "
                "use an app password, not your main password."
            )
        else:
            message = _(
                "%(server)s refused the sign-in because it could not be reached or answered "
                "strangely. Try again in a moment."
            )
        raise SignInError(message % {"server": host}) from e
    except Exception:
        if owner.created:
            owner.user.delete()
        raise
    finally:
        if adapter is not None:
            adapter.close()
    session = (probe.credentials or {}).get("session")
    if session and (account.credentials or {}).get("session") != session:
        # Keep the session the check opened: Bluesky allows few new ones.
        account.credentials = {**(account.credentials or {}), "session": session}
        account.save(update_fields=["credentials", "updated_at"])
    other = (
        ConnectedAccount.objects.filter(network=network, remote_id=account.remote_id)
        .exclude(user=owner.user)
        .select_related("user")
        .first()
    )
    if other is not None:
        if not owner.created:
            account.delete()
            raise SignInError(
                _(
                    "%(handle)s already belongs to another Hirondelle profile. "
                    "Sign out first to use that profile."
                )
                % {"handle": account.handle}
            )
        # A returning person: keep their profile, refresh its credentials.
        other.credentials = account.credentials
        other.server = account.server
        other.handle = account.handle
        other.status = ConnectedAccount.Status.ACTIVE
        other.status_reason = ""
        other.save()
        owner.user.delete()
        account, user = other, other.user
    else:
        user = owner.user
        if owner.created:
            user.first_name = account.handle[:150]
            candidate = f"{network}:{account.handle}"[:150]
            if not get_user_model().objects.filter(username=candidate).exists():
                user.username = candidate
            user.save(update_fields=["username", "first_name"])
    if not request.user.is_authenticated or request.user.pk != user.pk:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return account
