"""Signing in to a person's Mastodon-API server from a terminal.

Authorization code with PKCE (S256) and the out-of-band redirect: Hirondelle
registers itself on the person's server, prints a URL, the person approves in
their browser and pastes back the code shown. A pasted access token works
too. These are pure functions returning credentials; storing them (encrypted)
is the caller's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from hirondelle.networks.base import RemoteAccount
from hirondelle.networks.errors import AuthExpired, InvalidResponse, Refused
from hirondelle.networks.mastodon._http import Api
from hirondelle.networks.mastodon.adapter import MastodonAdapter
from hirondelle.networks.pkce import Pkce, new_pkce

__all__ = [
    "OOB_REDIRECT",
    "SCOPES",
    "AppCredentials",
    "Pkce",
    "Token",
    "authorization_url",
    "exchange_code",
    "login_with_token",
    "new_pkce",
    "normalise_server",
    "register_app",
    "revoke",
    "revoke_token",
]

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
SCOPES: tuple[str, ...] = ("read", "write", "follow")


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """Hirondelle's registration on one server (keep it: re-registering is wasteful)."""

    base_url: str
    client_id: str
    client_secret: str
    redirect_uri: str = OOB_REDIRECT
    scopes: tuple[str, ...] = SCOPES


@dataclass(frozen=True, slots=True)
class Token:
    access_token: str
    scope: str = ""
    token_type: str = "Bearer"


def normalise_server(server: str) -> str:
    """``mastodon.social``, ``@me@mastodon.social`` or a URL → ``https://mastodon.social``.

    An explicit ``http://`` address is kept (a server on this machine, in tests;
    the guard refuses it unless private addresses are allowed). The host is
    lower-cased and a default port dropped, so one server has one spelling.
    """
    text = server.strip()
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme.lower() not in ("https", "http")
        or not parts.hostname
        or parts.username is not None
        or " " in text
    ):
        raise ValueError(
            f"{server!r} is not a server address; give its name, like mastodon.social."
        )
    # One spelling per server, so its app registration is found again.
    scheme = parts.scheme.lower()
    host = parts.hostname.rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"https": 443, "http": 80}[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


def register_app(
    server: str,
    *,
    client_name: str = "Hirondelle",
    website: str | None = None,
    redirect_uri: str = OOB_REDIRECT,
    scopes: Sequence[str] = SCOPES,
    session: requests.Session | None = None,
) -> AppCredentials:
    """`POST /api/v1/apps` on the person's server."""
    base_url = normalise_server(server)
    params = {"client_name": client_name, "redirect_uris": redirect_uri, "scopes": " ".join(scopes)}
    if website:
        params["website"] = website
    data = _post(base_url, "/api/v1/apps", params, session)
    if not isinstance(data, dict) or not data.get("client_id") or not data.get("client_secret"):
        raise InvalidResponse(f"{base_url} did not register Hirondelle (no client id returned).")
    return AppCredentials(
        base_url=base_url,
        client_id=str(data["client_id"]),
        client_secret=str(data["client_secret"]),
        redirect_uri=redirect_uri,
        scopes=tuple(scopes),
    )


def _post(
    base_url: str, path: str, params: dict[str, str], session: requests.Session | None
) -> Any:
    """One form POST (registration and OAuth endpoints take forms), errors translated."""
    api = Api(base_url, session=session)
    try:
        data, _ = api.call("POST", path, params, form=True)
    finally:
        api.close()
    return data


def authorization_url(
    app: AppCredentials, pkce: Pkce, *, state: str | None = None, force_login: bool = False
) -> str:
    """Where the person approves Hirondelle; with the OOB redirect the server shows a code."""
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "scope": " ".join(app.scopes),
        "code_challenge": pkce.challenge,
        "code_challenge_method": pkce.method,
    }
    if state:
        params["state"] = state
    if force_login:
        params["force_login"] = "true"
    return f"{app.base_url}/oauth/authorize?{urlencode(params)}"


def exchange_code(
    app: AppCredentials, code: str, pkce: Pkce, *, session: requests.Session | None = None
) -> Token:
    """`POST /oauth/token` with the code and the PKCE verifier."""
    code = code.strip()
    if not code:
        raise ValueError("Paste the code your server showed after you approved Hirondelle.")
    try:
        data = _post(
            app.base_url,
            "/oauth/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": app.redirect_uri,
                "code_verifier": pkce.verifier,
                "scope": " ".join(app.scopes),
            },
            session,
        )
    except (Refused, AuthExpired) as error:
        raise Refused(
            f"{app.base_url} did not accept that code ({error.message}). Codes work once and "
            "expire quickly: open the sign-in link again and paste the new code.",
            status=error.status,
        ) from error
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        raise InvalidResponse(f"{app.base_url} answered the sign-in without an access token.")
    return Token(
        access_token=data["access_token"],
        scope=str(data.get("scope") or ""),
        token_type=str(data.get("token_type") or "Bearer"),
    )


def revoke(app: AppCredentials, token: str, *, session: requests.Session | None = None) -> None:
    """`POST /oauth/revoke`: part of "delete everything"."""
    _post(
        app.base_url,
        "/oauth/revoke",
        {"client_id": app.client_id, "client_secret": app.client_secret, "token": token},
        session,
    )


def revoke_token(
    server: str,
    client_id: str,
    client_secret: str,
    token: str,
    *,
    session: requests.Session | None = None,
) -> None:
    """`revoke()` for callers that stored the three strings rather than `AppCredentials`."""
    app = AppCredentials(normalise_server(server), client_id, client_secret)
    revoke(app, token, session=session)


def login_with_token(
    server: str, token: str, *, session: requests.Session | None = None
) -> RemoteAccount:
    """Check a pasted access token; returns whose it is (AuthExpired if refused)."""
    token = token.strip()
    if not token:
        raise ValueError("Paste the access token from your server's Development settings.")
    base_url = normalise_server(server)
    adapter = MastodonAdapter(base_url, token, session=session)
    try:
        return adapter.whoami()
    finally:
        adapter.close()
