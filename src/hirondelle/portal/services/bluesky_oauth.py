"""Signing in with Bluesky through atproto OAuth: the person never types a
password here, they approve Hirondelle on their own server's page.

A portal with a public https address is a confidential web client (its
metadata and keys at /oauth/client-metadata.json and /oauth/jwks.json, the
key made once in the data directory). A laptop served on 127.0.0.1 may use
the loopback development client (HIRONDELLE_BLUESKY_OAUTH=loopback). Anything
else keeps the app-password form. The pending sign-in (state, PKCE verifier,
DPoP key) waits in the Django session; nothing goes to the database until
the account is connected by `signin.sign_in`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from hirondelle.config import get_settings
from hirondelle.migration.models import ConnectedAccount
from hirondelle.networks.base import Network
from hirondelle.networks.bluesky import oauth
from hirondelle.portal.services.signin import DEFAULT_BLUESKY_SERVER, SignInError, sign_in

__all__ = [
    "Offer",
    "client_metadata_document",
    "finish",
    "jwks_document",
    "offer",
    "start",
]

SESSION_KEY = "hirondelle_bluesky_oauth"
CALLBACK = "portal:signin_bluesky_oauth_callback"
MODES = ("auto", "loopback", "off")


@dataclass(frozen=True)
class Offer:
    """Whether the sign-in page offers OAuth, as which client, and if not, why."""

    enabled: bool
    mode: str  # "web", "loopback" or ""
    reason: str = ""


def offer() -> Offer:
    settings = get_settings()
    mode = settings.bluesky_oauth.strip().lower()
    if mode == "off":
        return Offer(False, "", _("Signing in on Bluesky's own page is turned off here."))
    if mode == "loopback":
        return Offer(True, "loopback")
    if mode != "auto":
        return Offer(
            False,
            "",
            _("HIRONDELLE_BLUESKY_OAUTH must be auto, loopback or off (it is %(value)s).")
            % {"value": settings.bluesky_oauth},
        )
    if settings.public_url.startswith("https://"):
        return Offer(True, "web")
    return Offer(
        False,
        "",
        _(
            "Signing in on Bluesky's own page needs a public https address for this "
            "Hirondelle (HIRONDELLE_PUBLIC_URL). Until then, use an app password."
        ),
    )


def _signing_key():
    return oauth.load_signing_key(get_settings().data_dir / oauth.SIGNING_KEY_FILE)


def _web_client() -> oauth.ClientConfig:
    return oauth.web_client(
        get_settings().public_url,
        _signing_key(),
        reverse(CALLBACK),
        metadata_path=reverse("portal:bluesky_oauth_client_metadata"),
    )


def _client(request: HttpRequest) -> oauth.ClientConfig:
    current = offer()
    if not current.enabled:
        raise SignInError(current.reason)
    if current.mode == "web":
        return _web_client()
    redirect_uri = request.build_absolute_uri(reverse(CALLBACK))
    parts = urlsplit(redirect_uri)
    if parts.hostname == "localhost":  # the spec wants the IP literal
        redirect_uri = redirect_uri.replace("//localhost", "//127.0.0.1", 1)
    try:
        return oauth.loopback_client(redirect_uri)
    except ValueError as e:
        raise SignInError(
            _(
                "The development sign-in works only when Hirondelle is opened at "
                "http://127.0.0.1. Open it there, or use an app password."
            )
        ) from e


def _oauth_client(config: oauth.ClientConfig, server: str = "") -> oauth.OAuthClient:
    settings = get_settings()
    server = server.strip().rstrip("/")
    if server and "://" not in server:
        server = "https://" + server
    resolver = oauth.Resolver(
        plc_url=settings.bluesky_plc_url,
        handle_service=server or None,
        fallback_service=DEFAULT_BLUESKY_SERVER,
    )
    return oauth.OAuthClient(config, resolver)


def _message(e: oauth.OAuthError, who: str) -> str:
    """What the person reads: the step that failed, in their language."""
    if e.reason == "handle":
        return _(
            "No Bluesky account answers to %(who)s. Check the handle "
            "(name.bsky.social), or give your PDS address if it is not hosted by Bluesky."
        ) % {"who": who}
    if e.reason == "unreachable":
        return _("The Bluesky server of %(who)s could not be reached. Try again later.") % {
            "who": who
        }
    if e.reason == "state":
        return _("This sign-in link has expired or was not started here. Try again.")
    if e.reason == "issuer":
        return _(
            "The answer did not come from the server that holds this account; "
            "nothing was changed. Try again."
        )
    if e.reason == "address":
        return _(
            "The account %(who)s names a server that is not a public HTTPS address. "
            "Hirondelle only connects to public servers, over HTTPS."
        ) % {"who": who}
    # Not the server's own words: what a server answers is not shown to visitors.
    return _("Bluesky refused the sign-in. Nothing was changed; try again.")


def start(request: HttpRequest, handle: str, server: str = "") -> str:
    """Find the person's server and push the request; returns where to send their browser."""
    handle = handle.strip().lstrip("@")
    if not handle:
        raise SignInError(_("Give your Bluesky handle."))
    config = _client(request)
    client = _oauth_client(config, server)
    try:
        pending = client.start(handle)
    except oauth.OAuthError as e:
        raise SignInError(_message(e, handle)) from e
    finally:
        client.close()
    request.session[SESSION_KEY] = {
        **pending.to_dict(),
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "server": server,
    }
    return pending.authorize_url


def finish(request: HttpRequest, params: dict[str, str]) -> ConnectedAccount:
    """The person is back from their server: check everything, then sign them in."""
    stored = request.session.pop(SESSION_KEY, None)
    if params.get("error"):
        if params["error"] == "access_denied":
            raise SignInError(_("You did not give access on Bluesky. Nothing was changed."))
        raise SignInError(
            _("Bluesky refused the sign-in: %(why)s")
            % {"why": params.get("error_description") or params["error"]}
        )
    if not stored:
        raise SignInError(_("This sign-in link has expired or was not started here. Try again."))
    pending = oauth.PendingAuth.from_dict(stored)
    config = _client(request)
    if config.client_id != stored.get("client_id"):
        raise SignInError(_("This sign-in link has expired or was not started here. Try again."))
    client = _oauth_client(config, stored.get("server", ""))
    try:
        session = client.finish(
            pending,
            code=params.get("code", ""),
            state=params.get("state", ""),
            iss=params.get("iss"),
        )
    except oauth.OAuthError as e:
        raise SignInError(_message(e, pending.handle or pending.did or pending.pds)) from e
    finally:
        client.close()
    credentials = {"identifier": session.handle or session.did, "oauth": session.to_dict()}
    return sign_in(request, Network.BLUESKY, session.pds, credentials)


def client_metadata_document(request: HttpRequest) -> dict | None:
    """The web client's metadata, or None when this Hirondelle is not one."""
    if offer().mode != "web":
        return None
    return oauth.client_metadata(
        _web_client(),
        get_settings().public_url.rstrip("/") + reverse("portal:bluesky_oauth_jwks"),
    )


def jwks_document(request: HttpRequest) -> dict | None:
    if offer().mode != "web":
        return None
    return oauth.jwks(_web_client())
