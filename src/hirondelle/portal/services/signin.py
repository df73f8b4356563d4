"""Signing in to the portal with one's new account: no password, no e-mail.

The person proves they own a Mastodon account (OAuth authorization code with
PKCE, the app registered on the fly on their server) or a Bluesky account
(an app password). The first sign-in creates a local person; later ones, with
any of their connected accounts, find the same person again. Signing in with
a second account while signed in adds it to the same person.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model, login
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from hirondelle.config import get_settings
from hirondelle.identity.services.person import LOCAL_USERNAME, local_person, single_person
from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.accounts import (
    connect_account,
    replace_credentials,
    revoke_credentials,
)
from hirondelle.migration.services.adapters import adapter_for
from hirondelle.networks import guard
from hirondelle.networks.base import Network
from hirondelle.networks.bluesky import oauth
from hirondelle.networks.errors import (
    AuthExpired,
    InvalidResponse,
    NetworkError,
    NotFound,
    RateLimited,
    Refused,
)
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


def network_failure(error: NetworkError, server: str) -> str:
    """What failed, in plain words: never the remote answer, never library text.

    Servers named by visitors can be anything; what they answer (an error
    page, a port banner) tells an attacker what lives behind an address, so
    it is not shown. The person reads which step failed and what to check."""
    if isinstance(error, guard.AddressRefused):
        return _(
            "%(server)s is not a public server address. Hirondelle only connects to "
            "public servers, over HTTPS."
        ) % {"server": server}
    if isinstance(error, guard.UnresolvableName):
        return _("No server is called %(server)s. Check the spelling.") % {"server": server}
    if isinstance(error, RateLimited):
        return _("%(server)s asks to slow down. Try again in a few minutes.") % {"server": server}
    if isinstance(error, AuthExpired | Refused | NotFound):
        return _(
            "%(server)s refused the sign-in. Check the name, then the handle and password."
        ) % {"server": server}
    if isinstance(error, InvalidResponse):
        return _(
            "%(server)s did not answer like a server of this network. Check the server name."
        ) % {"server": server}
    return _(
        "%(server)s could not be reached, or took too long to answer. Check the server "
        "name, or try again later."
    ) % {"server": server}


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
        raise SignInError(network_failure(e, base_url)) from e
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
    pkce = mastodon_auth.Pkce(verifier=pending["verifier"], challenge=pending["challenge"])
    try:
        app = _app_for(pending["server"], pending["redirect_uri"])
        token = mastodon_auth.exchange_code(app, code, pkce)
    except ValueError as e:
        raise SignInError(str(e)) from e
    except (Refused, AuthExpired) as e:
        raise SignInError(
            _(
                "%(server)s did not accept the sign-in code. Codes work once and expire "
                "quickly: start again."
            )
            % {"server": pending["server"]}
        ) from e
    except NetworkError as e:
        raise SignInError(network_failure(e, pending["server"])) from e
    credentials = {
        "access_token": token.access_token,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
    }
    return sign_in(request, Network.MASTODON, app.base_url, credentials)


def bluesky_identity(handle: str, server: str) -> oauth.Identity:
    """handle → DID → DID document → PDS, checked both ways (the document names
    the handle back). `server`, if the person gave one, only resolves the
    handle; the password then goes to the PDS the DID document names."""
    settings = get_settings()
    resolver = oauth.Resolver(
        plc_url=settings.bluesky_plc_url,
        handle_service=server or None,
        fallback_service=DEFAULT_BLUESKY_SERVER,
    )
    try:
        return resolver.identity(handle)
    finally:
        resolver.close()


#: How a handle becomes an identity; tests that stand in for Bluesky replace it.
resolve_identity: Callable[[str, str], oauth.Identity] = bluesky_identity


def _identity_failure(error: oauth.OAuthError, handle: str, server: str) -> str:
    where = server or DEFAULT_BLUESKY_SERVER
    if error.reason == "handle":
        return _("No Bluesky account answers to %(who)s. Check the handle (name.bsky.social).") % {
            "who": handle
        }
    if error.reason == "address":
        return _(
            "The account %(who)s names a server that is not a public HTTPS address. "
            "Hirondelle sends passwords only to public servers, over HTTPS."
        ) % {"who": handle}
    if error.reason == "unreachable":
        return _(
            "The servers that say where %(who)s lives could not be reached (%(server)s). "
            "Try again later."
        ) % {"who": handle, "server": where}
    return _(
        "What the servers say about %(who)s does not hold together, so Hirondelle does "
        "not send the password anywhere."
    ) % {"who": handle}


def sign_in_bluesky(
    request: HttpRequest, handle: str, app_password: str, server: str = ""
) -> ConnectedAccount:
    """Sign in with a Bluesky handle and an app password (never the main password).

    The password goes only to the account's own PDS, as its DID document names
    it, over HTTPS (the guard), never to a server typed in the form."""
    handle = handle.strip().lstrip("@")
    if not handle or not app_password.strip():
        raise SignInError(_("Give your Bluesky handle and an app password."))
    server = server.strip().rstrip("/")
    if server and "://" not in server:
        server = "https://" + server
    if server:
        try:  # an internal address typed in the form: refused before any lookup
            guard.default_policy().check_url(server)
        except guard.AddressRefused as e:
            raise SignInError(network_failure(e, server)) from e
    try:
        identity = resolve_identity(handle, server)
    except oauth.OAuthError as e:
        raise SignInError(_identity_failure(e, handle, server)) from e
    credentials = {"identifier": identity.handle or handle, "app_password": app_password.strip()}
    return sign_in(request, Network.BLUESKY, identity.pds, credentials)


_NEXT_KEY = "hirondelle.signin_next"


def remember_next(request: HttpRequest, target: str) -> None:
    """Where to go once signed in (a page of this site only: never another host)."""
    if (
        target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and target.startswith("/")
        and not target.startswith("//")
    ):
        request.session[_NEXT_KEY] = target


def page_after_signin(request: HttpRequest) -> str:
    """The page the person was on before signing in (remembered once), else home."""
    return request.session.pop(_NEXT_KEY, None) or reverse("portal:home")


@dataclass
class _Owner:
    user: object
    created: bool
    #: the laptop's person, claimed by this sign-in (see `_owner`)
    laptop: bool = False
    #: ... created by it: removed again if the sign-in fails
    fresh: bool = False

    def forget(self) -> None:
        """The sign-in failed: leave no profile it created behind."""
        if self.created or self.fresh:
            self.user.delete()


def _from_this_machine(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _owner(request: HttpRequest) -> _Owner:
    """Whose profile a sign-in lands in.

    Signed in already: theirs (a second account joins the same person). On a
    laptop (`single_person`), a browser on this machine signs in as the local
    person, whom the command line acts for, as long as that person has no
    account yet or this is one of theirs (found below as `other`): the page
    and `hirondelle import`/`plan`/`run` then work on the same data. A
    different account once the local person has one gets a profile of its
    own, as on a portal. Otherwise: a new profile, named after the account."""
    if request.user.is_authenticated:
        return _Owner(request.user, False)
    if single_person() and _from_this_machine(request):
        existed = get_user_model().objects.filter(username=LOCAL_USERNAME).exists()
        local = local_person()
        if not ConnectedAccount.objects.filter(user=local).exists():
            return _Owner(local, False, laptop=True, fresh=not existed)
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
        owner.forget()
        raise SignInError(network_failure(e, server.rstrip("/"))) from e
    except Exception:
        owner.forget()
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
    if other is not None and owner.laptop:
        # One of another profile's accounts (made before this laptop had a
        # local person): that profile signs in, as a returning person.
        replace_credentials(other, account.credentials)
        account.delete()
        if owner.fresh:
            owner.user.delete()
        other.server = account.server
        other.handle = account.handle
        other.status = ConnectedAccount.Status.ACTIVE
        other.status_reason = ""
        other.save()
        account, user = other, other.user
    elif other is not None:
        if not owner.created:
            # The token just issued is not kept: revoke it, or it stays valid.
            revoke_credentials(account.network, account.server, account.credentials)
            account.delete()
            raise SignInError(
                _(
                    "%(handle)s already belongs to another Hirondelle profile. "
                    "Sign out first to use that profile."
                )
                % {"handle": account.handle}
            )
        # A returning person: keep their profile, refresh its credentials
        # (the replaced token is kept to be revoked, see replace_credentials).
        replace_credentials(other, account.credentials)
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
