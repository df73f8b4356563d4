"""A small imitation of X's OAuth 2.0 endpoints, served on 127.0.0.1 in a thread.

This is an imitation, not X: X cannot run here (no network but 127.0.0.1,
and X offers no test server), so the portal's "Prove my X account" flow is
tested against this stand-in, which follows what X documents for the
OAuth 2.0 Authorization Code Flow with PKCE
(docs.x.com, "OAuth 2.0 Authorization Code Flow with PKCE"):

- ``GET /i/oauth2/authorize``: ``response_type=code``, ``client_id``, the
  exact registered ``redirect_uri``, ``scope``, ``state``, ``code_challenge``
  and ``code_challenge_method`` (``S256`` or ``plain``). A bad request gets an
  error page, never a redirect. X shows the person a consent screen; here
  the "person" is `XOAuthServer.approve_as` (a username: approve as that
  account) or None (refuse: back with ``error=access_denied`` and the state).
- ``POST /2/oauth2/token``: form-encoded ``code``, ``grant_type``,
  ``redirect_uri`` (the same as at authorize), ``code_verifier`` (checked
  against the challenge), ``client_id``; a confidential client must send
  ``Authorization: Basic base64(client_id:client_secret)``. A code is valid 30
  seconds and once: reusing it fails and revokes the tokens it gave.
- ``POST /2/oauth2/revoke``: form-encoded ``token``, ``token_type_hint``,
  ``client_id`` (and Basic auth for a confidential client); records the token.
- ``GET /2/users/me``: ``Authorization: Bearer <token>`` answers
  ``{"data": {"id", "name", "username"}}``; 401 once revoked.

Error bodies follow X's shapes (``{"error", "error_description"}`` for OAuth,
``{"title", "detail", "status"}`` for the API). `fail_token` and `fail_revoke`
make those endpoints answer an error status on demand (X having a bad moment).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

__all__ = ["XOAuthServer", "XUser", "x_oauth_server"]

CODE_LIFETIME = 30.0  # seconds, as X documents
KNOWN_SCOPES = {
    "tweet.read",
    "tweet.write",
    "users.read",
    "follows.read",
    "follows.write",
    "offline.access",
    "like.read",
    "list.read",
    "block.read",
    "mute.read",
}


@dataclass(frozen=True)
class XUser:
    id: str
    username: str
    name: str = ""


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scope: str
    user: XUser
    issued: float
    used: bool = False
    tokens: list[str] = field(default_factory=list)


@dataclass
class XOAuthServer:
    """State of the imitation; the test reads what happened from it."""

    client_id: str = "hirondelle-test-client"
    #: None: a public client (PKCE only); else a confidential one (Basic auth).
    client_secret: str | None = None
    redirect_uris: list[str] = field(default_factory=list)
    users: dict[str, XUser] = field(default_factory=dict)
    #: Who approves at the authorize page; None refuses.
    approve_as: str | None = None
    #: An HTTP status the token endpoint answers instead of working.
    fail_token: int | None = None
    #: An HTTP status the revoke endpoint answers instead of working.
    fail_revoke: int | None = None
    base_url: str = ""
    codes: dict[str, _Code] = field(default_factory=dict)
    tokens: dict[str, XUser] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def authorize_url(self) -> str:
        return f"{self.base_url}/i/oauth2/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/2/oauth2/token"

    @property
    def revoke_url(self) -> str:
        return f"{self.base_url}/2/oauth2/revoke"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/2"

    def add_user(self, x_id: str, username: str, name: str = "") -> XUser:
        user = XUser(x_id, username, name or username.title())
        self.users[username] = user
        return user

    def calls(self, path: str) -> int:
        return sum(1 for _method, p in self.log if p == path)


def _challenge_of(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Handler(BaseHTTPRequestHandler):
    server_version = "XImitation/1"
    state: XOAuthServer  # set on the subclass made per server

    def log_message(self, format: str, *args) -> None:
        pass

    # Helpers -----------------------------------------------------------------
    def _send(self, status: int, body: dict | str, headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, str) else json.dumps(body)
        raw = data.encode()
        self.send_response(status)
        ctype = "text/html; charset=utf-8" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _oauth_error(self, status: int, error: str, description: str) -> None:
        self._send(status, {"error": error, "error_description": description})

    def _form(self) -> dict[str, str] | None:
        if self.headers.get("Content-Type", "").split(";")[0].strip() != (
            "application/x-www-form-urlencoded"
        ):
            self._oauth_error(400, "invalid_request", "Missing or invalid content type.")
            return None
        length = int(self.headers.get("Content-Length") or 0)
        return dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))

    def _client_ok(self, form: dict[str, str]) -> bool:
        """Confidential: Basic auth must match. Public: client_id in the body, no secret."""
        s = self.state
        header = self.headers.get("Authorization", "")
        if s.client_secret is not None:
            expected = base64.b64encode(f"{s.client_id}:{s.client_secret}".encode()).decode()
            if not header.startswith("Basic ") or not secrets.compare_digest(
                header.removeprefix("Basic "), expected
            ):
                self._oauth_error(401, "unauthorized_client", "Missing valid authorization header")
                return False
            if form.get("client_id", s.client_id) != s.client_id:
                self._oauth_error(400, "invalid_request", "Value passed for client_id was invalid.")
                return False
            return True
        if form.get("client_id") != s.client_id:
            self._oauth_error(400, "invalid_request", "Missing required parameter [client_id].")
            return False
        return True

    # Routes ------------------------------------------------------------------
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.state.lock:
            self.state.log.append(("GET", parts.path))
            if parts.path == "/i/oauth2/authorize":
                return self._authorize(dict(parse_qsl(parts.query, keep_blank_values=True)))
            if parts.path == "/2/users/me":
                return self._me()
        self._send(404, {"title": "Not Found Error", "status": 404, "detail": "Not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        with self.state.lock:
            self.state.log.append(("POST", path))
            if path == "/2/oauth2/token":
                return self._token()
            if path == "/2/oauth2/revoke":
                return self._revoke()
        self._send(404, {"title": "Not Found Error", "status": 404, "detail": "Not found"})

    def _authorize(self, q: dict[str, str]) -> None:
        s = self.state
        problems = []
        if q.get("response_type") != "code":
            problems.append("response_type must be code")
        if q.get("client_id") != s.client_id:
            problems.append("unknown client_id")
        if q.get("redirect_uri") not in s.redirect_uris:
            problems.append("redirect_uri is not the registered callback URL")
        scopes = set(q.get("scope", "").split(" "))
        if not scopes <= KNOWN_SCOPES or not {"users.read", "tweet.read"} <= scopes:
            problems.append("scope must include users.read and tweet.read")
        if not q.get("state"):
            problems.append("state is required")
        method = q.get("code_challenge_method", "")
        if not q.get("code_challenge") or method not in ("S256", "plain"):
            problems.append("code_challenge and code_challenge_method (S256 or plain) required")
        if problems:
            # X shows an error page and does not send the person back.
            return self._send(400, "<p>Something went wrong: " + "; ".join(problems) + "</p>")
        back = q["redirect_uri"]
        if s.approve_as is None:
            query = urlencode({"error": "access_denied", "state": q["state"]})
        else:
            code = secrets.token_urlsafe(32)
            s.codes[code] = _Code(
                client_id=q["client_id"],
                redirect_uri=back,
                challenge=q["code_challenge"],
                method=method,
                scope=q["scope"],
                user=s.users[s.approve_as],
                issued=time.monotonic(),
            )
            query = urlencode({"state": q["state"], "code": code})
        sep = "&" if "?" in back else "?"
        self._send(302, "", {"Location": f"{back}{sep}{query}"})

    def _token(self) -> None:
        s = self.state
        form = self._form()
        if form is None or not self._client_ok(form):
            return
        if s.fail_token is not None:
            return self._oauth_error(s.fail_token, "server_error", "Internal error")
        if form.get("grant_type") != "authorization_code":
            return self._oauth_error(400, "invalid_request", "Value passed for grant_type.")
        code = s.codes.get(form.get("code", ""))
        if code is None or time.monotonic() - code.issued > CODE_LIFETIME:
            return self._oauth_error(
                400, "invalid_request", "Value passed for the authorization code was invalid."
            )
        if code.used:  # RFC 6749 §4.1.2: refuse, and revoke what the code gave
            for token in code.tokens:
                s.tokens.pop(token, None)
            return self._oauth_error(
                400, "invalid_request", "Value passed for the authorization code was invalid."
            )
        code.used = True
        if code.client_id != s.client_id or form.get("redirect_uri") != code.redirect_uri:
            return self._oauth_error(400, "invalid_request", "Value passed for redirect_uri.")
        verifier = form.get("code_verifier", "")
        if not verifier or not secrets.compare_digest(
            _challenge_of(verifier, code.method), code.challenge
        ):
            return self._oauth_error(
                400, "invalid_request", "Value passed for the code_verifier was invalid."
            )
        token = secrets.token_urlsafe(40)
        s.tokens[token] = code.user
        code.tokens.append(token)
        self._send(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": token,
                "scope": code.scope,
            },
        )

    def _revoke(self) -> None:
        s = self.state
        form = self._form()
        if form is None or not self._client_ok(form):
            return
        if s.fail_revoke is not None:
            return self._oauth_error(s.fail_revoke, "server_error", "Internal error")
        token = form.get("token", "")
        if not token:
            return self._oauth_error(400, "invalid_request", "Missing required parameter [token].")
        s.tokens.pop(token, None)
        s.revoked.append(token)
        self._send(200, {"revoked": True})

    def _me(self) -> None:
        header = self.headers.get("Authorization", "")
        user = self.state.tokens.get(header.removeprefix("Bearer ")) if header else None
        if not header.startswith("Bearer ") or user is None:
            return self._send(
                401,
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
            )
        self._send(200, {"data": {"id": user.id, "name": user.name, "username": user.username}})


def start_x_oauth_server(state: XOAuthServer) -> tuple[ThreadingHTTPServer, threading.Thread]:
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="x-oauth-imitation", daemon=True)
    thread.start()
    return httpd, thread


@pytest.fixture
def x_oauth_server() -> Iterator[XOAuthServer]:
    """A fresh imitation per test (its codes and tokens are test state)."""
    state = XOAuthServer()
    httpd, thread = start_x_oauth_server(state)
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
