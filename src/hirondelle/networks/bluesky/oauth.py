"""atproto OAuth, client side: sign in to Bluesky without ever seeing a password.

What the atproto profile of OAuth asks of a client (https://atproto.com/specs/oauth),
and where it is done here:

- **Discovery.** handle → DID (`resolve_handle`) → DID document (PLC
  directory or did:web) → PDS → its `/.well-known/oauth-protected-resource`
  → the authorization server's `/.well-known/oauth-authorization-server`
  (`Resolver`).
- **PAR + PKCE + DPoP.** Every authorization starts with a pushed
  authorization request (`OAuthClient.start`), with an S256 PKCE challenge,
  and every request to the authorization server or the PDS carries a DPoP
  proof signed by a key made for that session (`dpop_proof`); servers demand
  a fresh nonce (`use_dpop_nonce`), which is answered once (`_post`,
  `DpopAuth`).
- **Checks.** The callback's `iss` must be the issuer the request went to,
  `state` must match, and the token's `sub` DID must resolve to a PDS whose
  authorization server is that issuer (`OAuthClient.finish`).
- **Clients.** A portal with a public https address is a confidential web
  client (`web_client`: `private_key_jwt` with an ES256 assertion, metadata
  at `<public_url>/oauth/client-metadata.json`); a laptop or a test uses the
  loopback development client (`loopback_client`), which is public.

No Django here: the portal keeps the pending state in its session and the
signing key in its data directory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import MISSING, asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from hirondelle.networks import guard
from hirondelle.networks.pkce import new_pkce

__all__ = [
    "DEFAULT_PLC_URL",
    "SCOPE",
    "AuthServer",
    "ClientConfig",
    "DpopAuth",
    "Identity",
    "OAuthClient",
    "OAuthError",
    "OAuthSession",
    "PendingAuth",
    "Resolver",
    "client_assertion",
    "client_metadata",
    "dpop_proof",
    "jwks",
    "key_from_jwk",
    "key_to_jwk",
    "load_signing_key",
    "loopback_client",
    "new_key",
    "web_client",
]

DEFAULT_PLC_URL = "https://plc.directory"
SCOPE = "atproto transition:generic"
#: the web client's signing key, in the data directory
SIGNING_KEY_FILE = "bluesky_oauth_key.pem"
#: refresh this many seconds before the access token's announced expiry
EXPIRY_MARGIN = 30.0
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_HANDLE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-")


class OAuthError(Exception):
    """Signing in through OAuth failed; `reason` says at which step.

    Reasons: "handle" (unknown handle or DID), "unreachable" (a server did not
    answer), "address" (an internal or non-HTTPS address was named: the guard
    refused it, nothing was sent), "refused" (a server said no), "denied" (the person refused),
    "state" (the callback does not belong to a sign-in started here),
    "issuer" (the answer came from the wrong server), "invalid" (an answer
    that breaks the protocol).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def guarded(exc: guard.GuardError, what: str, url: str) -> OAuthError:
    """The guard's refusal as an OAuth failure ("address": an internal or non-HTTPS
    address was named; nothing was sent to it)."""
    if isinstance(exc, guard.AddressRefused):
        return OAuthError("address", f"{what}: {url} is not a public HTTPS address")
    if isinstance(exc, guard.TooLarge | guard.TooDeep):
        return OAuthError("invalid", f"{what}: {url} answered {exc.message}")
    return OAuthError("unreachable", f"{what}: {url} could not be reached ({exc.message})")


# -- keys ----------------------------------------------------------------------


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key: one per DPoP session, one for the web client."""
    return ec.generate_private_key(ec.SECP256R1())


def key_to_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The private JWK (with "d"), to store next to the tokens it is bound to."""
    return ECAlgorithm.to_jwk(key, as_dict=True)


def key_from_jwk(data: Mapping[str, Any]) -> ec.EllipticCurvePrivateKey:
    key = ECAlgorithm.from_jwk(dict(data))
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise OAuthError("invalid", "the stored DPoP key is not an EC private key")
    return key


def _public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    return ECAlgorithm.to_jwk(key.public_key(), as_dict=True)


def _thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638 thumbprint: a stable key id."""
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    return _b64(hashlib.sha256(canonical.encode()).digest())


def load_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The web client's signing key, created once at `path` with mode 0600.

    Its public half is published in the client's JWKS: a new key at each
    start would break the sessions the authorization server bound to it.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        pem = new_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            data = path.read_bytes()
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            data = pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an EC private key; delete it to make a new one")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# -- clients -------------------------------------------------------------------


@dataclass(frozen=True)
class ClientConfig:
    """Who Hirondelle is to the authorization server.

    With a `signing_key` it is a confidential client (`private_key_jwt`);
    without, a public one (the loopback development client).
    """

    client_id: str
    redirect_uri: str
    scope: str = SCOPE
    signing_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    client_name: str = "Hirondelle"
    client_uri: str = ""

    @property
    def confidential(self) -> bool:
        return self.signing_key is not None

    @property
    def key_id(self) -> str:
        if self.signing_key is None:
            return ""
        return _thumbprint(_public_jwk(self.signing_key))

    def auth_params(self, issuer: str) -> dict[str, str]:
        """The client authentication fields of a PAR, token or revocation request."""
        params = {"client_id": self.client_id}
        if self.signing_key is not None:
            params["client_assertion_type"] = _ASSERTION_TYPE
            params["client_assertion"] = client_assertion(self, issuer)
        return params


def loopback_client(redirect_uri: str, scope: str = SCOPE) -> ClientConfig:
    """The development client the spec allows: `http://localhost?redirect_uri=…&scope=…`.

    `redirect_uri` must be on 127.0.0.1 or [::1] (not "localhost").
    """
    host = urlsplit(redirect_uri).hostname or ""
    if not redirect_uri.startswith("http://") or host not in ("127.0.0.1", "::1"):
        raise ValueError(
            f"the loopback client redirects to http://127.0.0.1:<port>/…, got {redirect_uri!r}"
        )
    client_id = "http://localhost?" + urlencode(
        {"redirect_uri": redirect_uri, "scope": scope}, quote_via=quote
    )
    return ClientConfig(client_id=client_id, redirect_uri=redirect_uri, scope=scope)


def loopback_client_from_id(client_id: str) -> ClientConfig:
    """Rebuild the loopback client a stored session was issued to."""
    from urllib.parse import parse_qs

    parts = urlsplit(client_id)
    query = parse_qs(parts.query)
    if parts.scheme != "http" or parts.hostname != "localhost" or "redirect_uri" not in query:
        raise ValueError(f"not a loopback client id: {client_id!r}")
    return ClientConfig(
        client_id=client_id,
        redirect_uri=query["redirect_uri"][0],
        scope=query.get("scope", [SCOPE])[0],
    )


def is_loopback_client_id(client_id: str) -> bool:
    return client_id.startswith("http://localhost")


def client_for_id(client_id: str, signing_key_path: Path) -> ClientConfig:
    """The client a stored session was issued to, enough to refresh and revoke it."""
    if is_loopback_client_id(client_id):
        return loopback_client_from_id(client_id)
    return ClientConfig(
        client_id=client_id, redirect_uri="", signing_key=load_signing_key(signing_key_path)
    )


def web_client(
    public_url: str,
    signing_key: ec.EllipticCurvePrivateKey,
    redirect_path: str,
    *,
    metadata_path: str = "/oauth/client-metadata.json",
    scope: str = SCOPE,
) -> ClientConfig:
    """The confidential client of a portal served at an https `public_url`."""
    base = public_url.rstrip("/")
    if not base.startswith("https://"):
        raise ValueError(f"a web client needs an https public address, got {public_url!r}")
    return ClientConfig(
        client_id=base + metadata_path,
        redirect_uri=base + redirect_path,
        scope=scope,
        signing_key=signing_key,
        client_uri=base,
    )


def client_metadata(client: ClientConfig, jwks_uri: str) -> dict[str, Any]:
    """The client metadata document, served at the `client_id` URL."""
    if not client.confidential:
        raise ValueError("only the web client publishes a metadata document")
    return {
        "client_id": client.client_id,
        "client_name": client.client_name,
        "client_uri": client.client_uri,
        "application_type": "web",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "redirect_uris": [client.redirect_uri],
        "scope": client.scope,
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "dpop_bound_access_tokens": True,
        "jwks_uri": jwks_uri,
    }


def jwks(client: ClientConfig) -> dict[str, list[dict[str, str]]]:
    """The public keys that verify the web client's assertions."""
    if client.signing_key is None:
        return {"keys": []}
    public = _public_jwk(client.signing_key)
    return {"keys": [{**public, "kid": client.key_id, "use": "sig", "alg": "ES256"}]}


def client_assertion(client: ClientConfig, issuer: str, *, now: float | None = None) -> str:
    """The ES256 `private_key_jwt` assertion: short-lived, single use, for one issuer."""
    if client.signing_key is None:
        raise ValueError("a public client has no assertion to make")
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": issuer,
        "jti": secrets.token_urlsafe(24),
        "iat": issued,
        "exp": issued + 60,
    }
    return jwt.encode(claims, client.signing_key, algorithm="ES256", headers={"kid": client.key_id})


# -- DPoP ----------------------------------------------------------------------


def _htu(url: str) -> str:
    """The request URL without query or fragment, as DPoP's `htu`."""
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def dpop_proof(
    key: ec.EllipticCurvePrivateKey,
    method: str,
    url: str,
    *,
    nonce: str | None = None,
    access_token: str | None = None,
    now: float | None = None,
) -> str:
    """One DPoP proof (RFC 9449): this key, this request, now."""
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method.upper(),
        "htu": _htu(url),
        "iat": int(time.time() if now is None else now),
    }
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["ath"] = _b64(hashlib.sha256(access_token.encode()).digest())
    return jwt.encode(
        claims, key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": _public_jwk(key)}
    )


def _nonce_challenge(response: httpx.Response) -> bool:
    """The server wants the proof again, with the nonce it just sent."""
    if not response.headers.get("DPoP-Nonce"):
        return False
    if response.status_code == 401:
        return "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")
    if response.status_code == 400:
        try:
            return response.json().get("error") == "use_dpop_nonce"
        except (ValueError, AttributeError):
            return False
    return False


# -- identities and servers ----------------------------------------------------


@dataclass(frozen=True)
class Identity:
    did: str
    handle: str
    pds: str


@dataclass(frozen=True)
class AuthServer:
    issuer: str
    par_endpoint: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str = ""


class Resolver:
    """Handle → DID → DID document → PDS → authorization server.

    `handle_service`, when set, resolves handles with its
    `com.atproto.identity.resolveHandle` (a PDS or AppView trusted for it);
    otherwise DNS (`_atproto.<handle>` TXT), then `https://<handle>/.well-known/atproto-did`,
    then `fallback_service`'s resolveHandle if given. Either way the DID
    document must name the handle back.
    """

    def __init__(
        self,
        *,
        plc_url: str = DEFAULT_PLC_URL,
        handle_service: str | None = None,
        fallback_service: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.plc_url = plc_url.rstrip("/")
        self.handle_service = handle_service.rstrip("/") if handle_service else None
        self.fallback_service = fallback_service.rstrip("/") if fallback_service else None
        # Every address here comes from a person or a DID document: guarded.
        self._http = http or guard.httpx_client(timeout=timeout, follow_redirects=False)

    def _get_json(self, url: str, what: str, **params: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, params=params or None)
        except guard.GuardError as exc:
            raise guarded(exc, what, url) from exc
        except httpx.HTTPError as exc:
            raise OAuthError("unreachable", f"{what}: {url} could not be reached") from exc
        if response.status_code in (400, 404):
            raise OAuthError("handle", f"{what}: {url} answered {response.status_code}")
        if response.status_code != 200:
            raise OAuthError("unreachable", f"{what}: {url} answered {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise OAuthError("invalid", f"{what}: {url} did not answer JSON") from exc
        if not isinstance(data, dict):
            raise OAuthError("invalid", f"{what}: {url} did not answer a JSON object")
        return data

    def resolve_handle(self, handle: str) -> str:
        handle = handle.strip().lstrip("@").lower()
        if not handle or "." not in handle or not set(handle) <= _HANDLE_CHARS:
            raise OAuthError("handle", f"{handle!r} is not a Bluesky handle (name.example.com)")
        if self.handle_service:
            did = self._handle_by_service(self.handle_service, handle)
        else:
            did = self._handle_by_dns(handle) or self._handle_by_https(handle)
            if not did and self.fallback_service:
                did = self._handle_by_service(self.fallback_service, handle)
        if not did.startswith("did:"):
            raise OAuthError("handle", f"no Bluesky account is called {handle}")
        return did

    def _handle_by_service(self, service: str, handle: str) -> str:
        data = self._get_json(
            f"{service}/xrpc/com.atproto.identity.resolveHandle",
            f"resolving {handle}",
            handle=handle,
        )
        return str(data.get("did", ""))

    @staticmethod
    def _handle_by_dns(handle: str) -> str:
        try:
            import dns.exception
            import dns.resolver
        except ImportError:  # pragma: no cover - dnspython comes with atproto
            return ""
        try:
            answers = dns.resolver.resolve(f"_atproto.{handle}", "TXT", lifetime=5.0)
        except (dns.exception.DNSException, OSError):
            return ""
        for answer in answers:
            text = b"".join(answer.strings).decode(errors="replace")
            if text.startswith("did="):
                return text[4:]
        return ""

    def _handle_by_https(self, handle: str) -> str:
        try:
            response = self._http.get(f"https://{handle}/.well-known/atproto-did")
        except (httpx.HTTPError, guard.GuardError):
            return ""
        text = response.text.strip() if response.status_code == 200 else ""
        return text if text.startswith("did:") and "\n" not in text else ""

    def did_document(self, did: str) -> dict[str, Any]:
        if did.startswith("did:plc:"):
            return self._get_json(f"{self.plc_url}/{did}", f"reading {did}")
        if did.startswith("did:web:"):
            rest = did[len("did:web:") :]
            if ":" in rest:
                raise OAuthError("handle", f"did:web with a path is not used by atproto: {did}")
            host = rest.replace("%3A", ":").replace("%3a", ":")
            scheme = "http" if host.split(":")[0] in ("localhost", "127.0.0.1") else "https"
            return self._get_json(f"{scheme}://{host}/.well-known/did.json", f"reading {did}")
        raise OAuthError("handle", f"unsupported DID method: {did}")

    @staticmethod
    def pds_of(document: Mapping[str, Any]) -> str:
        for service in document.get("service") or []:
            if (
                isinstance(service, Mapping)
                and str(service.get("id", "")).endswith("#atproto_pds")
                and service.get("type") == "AtprotoPersonalDataServer"
            ):
                endpoint = str(service.get("serviceEndpoint", "")).rstrip("/")
                if endpoint.startswith(("https://", "http://")):
                    return endpoint
        raise OAuthError("invalid", f"{document.get('id')} names no PDS in its DID document")

    @staticmethod
    def handle_of(document: Mapping[str, Any]) -> str:
        for aka in document.get("alsoKnownAs") or []:
            if isinstance(aka, str) and aka.startswith("at://"):
                return aka[len("at://") :]
        return ""

    def identity(self, handle_or_did: str) -> Identity:
        """Who the person says they are, checked both ways (handle ↔ DID)."""
        given = handle_or_did.strip().lstrip("@")
        did = given if given.startswith("did:") else self.resolve_handle(given)
        document = self.did_document(did)
        if document.get("id") != did:
            raise OAuthError("invalid", f"the DID document of {did} is about someone else")
        handle = self.handle_of(document)
        if not given.startswith("did:") and handle.lower() != given.lower():
            raise OAuthError("handle", f"{given} and {did} do not name each other")
        return Identity(did=did, handle=handle, pds=self.pds_of(document))

    def issuer_of(self, pds: str) -> str:
        """The authorization server that protects a PDS."""
        data = self._get_json(
            f"{pds.rstrip('/')}/.well-known/oauth-protected-resource", f"asking {pds}"
        )
        servers = data.get("authorization_servers") or []
        if not servers or not isinstance(servers[0], str):
            raise OAuthError("invalid", f"{pds} names no authorization server")
        return servers[0].rstrip("/")

    def auth_server(self, issuer: str) -> AuthServer:
        data = self._get_json(
            f"{issuer}/.well-known/oauth-authorization-server", f"asking {issuer}"
        )
        if data.get("issuer") != issuer:
            raise OAuthError(
                "issuer", f"{issuer} calls itself {data.get('issuer')!r} in its metadata"
            )
        try:
            return AuthServer(
                issuer=issuer,
                par_endpoint=str(data["pushed_authorization_request_endpoint"]),
                authorization_endpoint=str(data["authorization_endpoint"]),
                token_endpoint=str(data["token_endpoint"]),
                revocation_endpoint=str(data.get("revocation_endpoint") or ""),
            )
        except KeyError as exc:
            raise OAuthError("invalid", f"{issuer} does not say where its {exc} is") from exc

    def close(self) -> None:
        self._http.close()


# -- sessions ------------------------------------------------------------------


@dataclass
class PendingAuth:
    """What to remember between sending the person away and their return."""

    state: str
    verifier: str
    dpop_key: dict[str, str]
    issuer: str
    authorize_url: str
    did: str = ""
    handle: str = ""
    pds: str = ""
    dpop_nonce: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PendingAuth:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class OAuthSession:
    """DPoP-bound tokens of one account, with the key they are bound to.

    Store it whole (`to_dict`), encrypted: the key is as secret as the tokens.
    """

    did: str
    handle: str
    pds: str
    issuer: str
    client_id: str
    access_token: str
    refresh_token: str
    expires_at: float
    dpop_key: dict[str, str] = field(repr=False)
    scope: str = SCOPE
    dpop_nonce_as: str = ""
    dpop_nonce_pds: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OAuthSession:
        required = {n for n, f in cls.__dataclass_fields__.items() if f.default is MISSING}
        missing = required - set(data)
        if missing:
            raise OAuthError("invalid", f"stored OAuth session lacks {', '.join(sorted(missing))}")
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at - EXPIRY_MARGIN


class OAuthClient:
    """The three legs of the flow (start, finish, refresh) and revocation."""

    def __init__(
        self,
        client: ClientConfig,
        resolver: Resolver | None = None,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 15.0,
    ) -> None:
        self.client = client
        # Every address here comes from a person or a DID document: guarded.
        self._http = http or guard.httpx_client(timeout=timeout, follow_redirects=False)
        self.resolver = resolver or Resolver(http=self._http)
        self._clock = clock

    def close(self) -> None:
        self._http.close()
        self.resolver.close()

    def __enter__(self) -> OAuthClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(
        self,
        url: str,
        form: Mapping[str, str],
        key: ec.EllipticCurvePrivateKey,
        nonce: str,
        issuer: str,
        what: str,
    ) -> tuple[dict[str, Any], str]:
        """POST a form with a DPoP proof; answers one nonce challenge. Returns (json, nonce)."""
        for attempt in range(2):
            # A new assertion each time: its jti is single use.
            body = {**form, **self.client.auth_params(issuer)}
            proof = dpop_proof(key, "POST", url, nonce=nonce or None, now=self._clock())
            try:
                response = self._http.post(url, data=body, headers={"DPoP": proof})
            except guard.GuardError as exc:
                raise guarded(exc, what, url) from exc
            except httpx.HTTPError as exc:
                raise OAuthError("unreachable", f"{what}: {url} could not be reached") from exc
            nonce = response.headers.get("DPoP-Nonce", nonce)
            if attempt == 0 and _nonce_challenge(response):
                continue
            break
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code >= 500:
            raise OAuthError("unreachable", f"{what}: {url} answered {response.status_code}")
        if response.status_code >= 400:
            error = data.get("error", response.status_code)
            detail = data.get("error_description", "")
            raise OAuthError("refused", f"{what}: {error}" + (f" ({detail})" if detail else ""))
        return data, nonce

    def start(self, handle_or_server: str) -> PendingAuth:
        """Resolve the account (a handle, a DID, or a PDS/entryway URL) and push the request."""
        given = handle_or_server.strip().lstrip("@")
        identity: Identity | None = None
        if given.startswith(("https://", "http://")):
            pds = given.rstrip("/")
        else:
            identity = self.resolver.identity(given)
            pds = identity.pds
        issuer = self.resolver.issuer_of(pds)
        server = self.resolver.auth_server(issuer)
        key = new_key()
        pkce = new_pkce()
        state = secrets.token_urlsafe(24)
        form = {
            "response_type": "code",
            "redirect_uri": self.client.redirect_uri,
            "scope": self.client.scope,
            "state": state,
            "code_challenge": pkce.challenge,
            "code_challenge_method": pkce.method,
        }
        if identity is not None:
            form["login_hint"] = identity.handle or identity.did
        data, nonce = self._post(server.par_endpoint, form, key, "", issuer, "sign-in request")
        request_uri = data.get("request_uri")
        if not isinstance(request_uri, str):
            raise OAuthError("invalid", f"{issuer} gave no request_uri")
        authorize_url = (
            server.authorization_endpoint
            + "?"
            + urlencode({"client_id": self.client.client_id, "request_uri": request_uri})
        )
        return PendingAuth(
            state=state,
            verifier=pkce.verifier,
            dpop_key=key_to_jwk(key),
            issuer=issuer,
            authorize_url=authorize_url,
            did=identity.did if identity else "",
            handle=identity.handle if identity else "",
            pds=pds,
            dpop_nonce=nonce,
        )

    def finish(
        self, pending: PendingAuth, *, code: str, state: str, iss: str | None
    ) -> OAuthSession:
        """The person came back: check the callback, trade the code, check the token."""
        if not state or not secrets.compare_digest(pending.state, state):
            raise OAuthError("state", "this sign-in answer does not match a sign-in started here")
        if not iss or iss.rstrip("/") != pending.issuer:
            raise OAuthError(
                "issuer", f"the answer claims to come from {iss!r}, not {pending.issuer}"
            )
        if not code:
            raise OAuthError("invalid", "the answer carries no authorization code")
        server = self.resolver.auth_server(pending.issuer)
        key = key_from_jwk(pending.dpop_key)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.client.redirect_uri,
            "code_verifier": pending.verifier,
        }
        data, nonce = self._post(
            server.token_endpoint, form, key, pending.dpop_nonce, pending.issuer, "token request"
        )
        session = self._session_from(data, pending.issuer, pending.dpop_key, nonce)
        if pending.did and session.did != pending.did:
            raise OAuthError(
                "issuer", f"signed in as {session.did}, but the sign-in was for {pending.did}"
            )
        # The issuer must be the authority for this DID, whoever it says it is.
        identity = self.resolver.identity(session.did)
        if self.resolver.issuer_of(identity.pds) != pending.issuer:
            raise OAuthError(
                "issuer", f"{pending.issuer} is not the authorization server of {session.did}"
            )
        session.pds = identity.pds
        session.handle = identity.handle
        return session

    def _session_from(
        self,
        data: Mapping[str, Any],
        issuer: str,
        dpop_key: dict[str, str],
        nonce: str,
        previous: OAuthSession | None = None,
    ) -> OAuthSession:
        token_type = str(data.get("token_type", ""))
        if token_type.lower() != "dpop":
            raise OAuthError("invalid", f"{issuer} issued a {token_type!r} token, not DPoP")
        sub = data.get("sub")
        if not isinstance(sub, str) or not sub.startswith("did:"):
            raise OAuthError("invalid", f"{issuer} issued a token without a DID (sub)")
        if previous is not None and sub != previous.did:
            raise OAuthError("issuer", f"refresh returned a token for {sub}, not {previous.did}")
        scope = str(data.get("scope", ""))
        if "atproto" not in scope.split():
            raise OAuthError("invalid", f"{issuer} granted {scope!r}, without atproto")
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise OAuthError("invalid", f"{issuer} issued no access token")
        expires_in = float(data.get("expires_in") or 300)
        return OAuthSession(
            did=sub,
            handle=previous.handle if previous else "",
            pds=previous.pds if previous else "",
            issuer=issuer,
            client_id=self.client.client_id,
            access_token=access,
            refresh_token=str(
                data.get("refresh_token") or (previous.refresh_token if previous else "")
            ),
            expires_at=self._clock() + expires_in,
            dpop_key=dpop_key,
            scope=scope,
            dpop_nonce_as=nonce,
            dpop_nonce_pds=previous.dpop_nonce_pds if previous else "",
        )

    def refresh(self, session: OAuthSession) -> OAuthSession:
        """New tokens for old (the refresh token is single use: store the answer)."""
        if not session.refresh_token:
            raise OAuthError("refused", "this Bluesky session cannot be renewed: sign in again")
        server = self.resolver.auth_server(session.issuer)
        form = {"grant_type": "refresh_token", "refresh_token": session.refresh_token}
        data, nonce = self._post(
            server.token_endpoint,
            form,
            key_from_jwk(session.dpop_key),
            session.dpop_nonce_as,
            session.issuer,
            "token refresh",
        )
        return self._session_from(data, session.issuer, session.dpop_key, nonce, previous=session)

    def revoke(self, session: OAuthSession) -> bool:
        """Revoke the tokens where the server allows it; False if it has no revocation endpoint."""
        server = self.resolver.auth_server(session.issuer)
        if not server.revocation_endpoint:
            return False
        key = key_from_jwk(session.dpop_key)
        nonce = session.dpop_nonce_as
        for token in (session.refresh_token, session.access_token):
            if token:
                _data, nonce = self._post(
                    server.revocation_endpoint,
                    {"token": token},
                    key,
                    nonce,
                    session.issuer,
                    "revocation",
                )
        return True


# -- requests to the PDS ---------------------------------------------------------


class DpopAuth(httpx.Auth):
    """httpx auth for a PDS: `Authorization: DPoP <token>` plus a proof per request.

    Refreshes an expired access token first (through `refresh`), answers one
    `use_dpop_nonce` challenge per request, and retries once with fresh
    tokens when the PDS calls the token invalid. `on_change(session)` hears
    of every new session (tokens or nonce) so the caller can store it.
    """

    requires_request_body = True

    def __init__(
        self,
        session: OAuthSession,
        refresh: Callable[[OAuthSession], OAuthSession] | None = None,
        on_change: Callable[[OAuthSession], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self._refresh = refresh
        self._on_change = on_change
        self._clock = clock
        #: how many nonce challenges were answered, and refreshes made (tests read them)
        self.nonce_challenges = 0
        self.refreshes = 0
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._key_jwk: Mapping[str, Any] | None = None

    def refresh_now(self) -> bool:
        if self._refresh is None:
            return False
        self.session = self._refresh(self.session)
        self.refreshes += 1
        if self._on_change is not None:
            self._on_change(self.session)
        return True

    def _sign(self, request: httpx.Request) -> None:
        if self._key is None or self._key_jwk is not self.session.dpop_key:
            self._key_jwk = self.session.dpop_key
            self._key = key_from_jwk(self._key_jwk)
        key = self._key
        token = self.session.access_token
        request.headers["Authorization"] = f"DPoP {token}"
        request.headers["DPoP"] = dpop_proof(
            key,
            request.method,
            str(request.url),
            nonce=self.session.dpop_nonce_pds or None,
            access_token=token,
            now=self._clock(),
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.session.expired(self._clock()):
            self.refresh_now()
        refreshed = False
        challenged = False
        while True:
            self._sign(request)
            response = yield request
            nonce = response.headers.get("DPoP-Nonce")
            if nonce and nonce != self.session.dpop_nonce_pds:
                self.session = replace(self.session, dpop_nonce_pds=nonce)
            if response.status_code != 401:
                return
            challenge = response.headers.get("WWW-Authenticate", "")
            if "use_dpop_nonce" in challenge and nonce and not challenged:
                challenged = True
                self.nonce_challenges += 1
                continue
            if "invalid_token" in challenge and not refreshed and self._refresh is not None:
                refreshed = True
                response.read()
                self.refresh_now()
                continue
            return
