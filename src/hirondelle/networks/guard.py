"""The one gate every outgoing connection passes: public addresses only.

A portal talks to servers that visitors, archives, profiles and DID documents
name. Without a gate, a visitor who types ``http://169.254.169.254/`` or
``http://0x7f.1:5432/`` makes the portal a proxy into its own network. So
every HTTP client Hirondelle opens comes from here, whatever its library
(``requests`` under mastodon.py, ``httpx`` under atproto), and every
connection it makes:

- resolves the name once, and refuses the whole answer if any address in it
  is loopback, private, shared, link-local (cloud metadata), multicast,
  reserved, unspecified or otherwise not globally routable, in every notation
  (decimal, hex and octal IPv4, IPv6, IPv4-mapped and -compatible IPv6, 6to4,
  NAT64, Teredo);
- connects to the address that was checked (no second lookup: a name that
  rebinds between the check and the connection cannot win), keeping the name
  for TLS (SNI and certificate) and for ``Host``;
- is checked again on every redirect hop (each hop is a new request through
  the same gate), speaks HTTPS only, ignores proxy environment variables;
- reads at most ``max_bytes`` of answer (512 kB by default, after
  decompression), refuses JSON nested deeper than ``max_depth``, and stops at
  a total ``deadline`` for the whole exchange, whatever the server's pace.

`Policy.allow_private` (the ``HIRONDELLE_ALLOW_PRIVATE_ADDRESSES`` setting,
for tests and local peers only) lets connections reach loopback and private
addresses, over plain HTTP too. The bar is atproto's ``@atproto-labs/fetch-node``
safe fetch. Pure: no Django.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import itertools
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpcore
import httpx
import requests
import urllib3
from httpcore._backends.sync import SyncStream
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from hirondelle.networks.errors import InvalidResponse, Refused, Unavailable

__all__ = [
    "API_DEADLINE",
    "API_MAX_BYTES",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "MEDIA_MAX_BYTES",
    "AddressRefused",
    "DeadlineExceeded",
    "GuardError",
    "Policy",
    "TooDeep",
    "TooLarge",
    "UnresolvableName",
    "api_policy",
    "check_json_depth",
    "configure",
    "deadline",
    "default_policy",
    "guard_error",
    "httpx_client",
    "httpx_transport",
    "is_public",
    "parse_ip",
    "requests_session",
]

DEFAULT_MAX_BYTES = 512 * 1024
#: answers of a network's API to a signed-in adapter (a page of 80 statuses
#: with their accounts and media can pass 512 kB)
API_MAX_BYTES = 4 * 1024 * 1024
#: pictures and videos fetched to republish posts
MEDIA_MAX_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_DEPTH = 128
#: seconds for a whole exchange: connecting, every redirect, every byte
DEFAULT_DEADLINE = 30.0
#: for an adapter's calls, which may carry a video up
API_DEADLINE = 300.0
DEFAULT_CONNECT_TIMEOUT = 10.0
MAX_REDIRECTS = 5

Resolver = Callable[[str, int], Sequence[str]]
Connector = Callable[[str, int, float | None], socket.socket]


# -- errors ------------------------------------------------------------------


class GuardError(Exception):
    """Marks the guard's own refusals (mixed into the network error classes)."""

    #: a short reason, stable for tests and logs: "private", "scheme", ...
    reason: str = ""


class AddressRefused(GuardError, Refused):
    """The address is not public (or the scheme not HTTPS): nothing was sent."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class UnresolvableName(GuardError, Unavailable):
    reason = "dns"


class TooLarge(GuardError, InvalidResponse):
    reason = "size"


class TooDeep(GuardError, InvalidResponse):
    reason = "depth"


class DeadlineExceeded(GuardError, Unavailable):
    reason = "deadline"


def guard_error(exc: BaseException | None) -> GuardError | None:
    """The guard's refusal behind `exc`, if a library wrapped it (mastodon.py does)."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, GuardError):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


# -- addresses ---------------------------------------------------------------

_IPV4_LEGACY = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(host: str) -> IP | None:
    """The address a host names literally, in any notation resolvers accept.

    ``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and ``127.1`` are all
    127.0.0.1 to ``inet_aton`` (and so to ``getaddrinfo``); ``[::1]`` is IPv6.
    None for a name that needs DNS.
    """
    text = host.strip().rstrip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # an IPv6 zone id names an interface, not a host
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _IPV4_LEGACY.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # IPv4-compatible ::a.b.c.d (deprecated)
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IP) -> bool:
    """Globally routable unicast, including what an IPv6 address embeds."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public(inner):
            return False
        if ip.ipv4_mapped is not None:
            return True  # judged by the IPv4 address it maps
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (one lookup)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def system_connector(ip: str, port: int, timeout: float | None) -> socket.socket:
    sock = socket.create_connection((ip, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


# -- the policy ----------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """What the guard allows, and how it resolves and connects.

    `resolver` and `connector` are replaced in tests by stubs that record what
    they were asked (so a test proves no connection was attempted).
    """

    allow_private: bool = False
    #: plain HTTP; None follows `allow_private` (tests of the refusals set it alone)
    allow_http: bool | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    deadline: float = DEFAULT_DEADLINE
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_redirects: int = MAX_REDIRECTS
    #: certificate authorities to trust instead of certifi's (tests' own)
    cafile: str | None = None
    resolver: Resolver = field(default=system_resolver, compare=False)
    connector: Connector = field(default=system_connector, compare=False)

    def with_(self, **changes: Any) -> Policy:
        return replace(self, **changes)

    def check_url(self, url: str) -> None:
        """Refuse a scheme other than HTTPS (HTTP too when private addresses are allowed)
        and a literal address that is not public, before anything is sent."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        http = self.allow_private if self.allow_http is None else self.allow_http
        allowed = ("https", "http") if http else ("https",)
        if scheme not in allowed:
            raise AddressRefused(
                f"Hirondelle only connects to servers over HTTPS, not {scheme or 'this'} "
                f"({_where(parts.hostname)}).",
                reason="scheme",
            )
        if not parts.hostname:
            raise AddressRefused("This address names no server.", reason="host")
        literal = parse_ip(parts.hostname)
        if literal is not None:
            self._check_ip(literal, parts.hostname)

    def _check_ip(self, ip: IP, host: str) -> None:
        if self.allow_private or is_public(ip):
            return
        raise AddressRefused(
            f"{_where(host)} is an internal or reserved network address; Hirondelle only "
            "connects to public servers.",
            reason="private",
        )

    def pin(self, host: str, port: int) -> list[str]:
        """Resolve `host` once and return the checked addresses to connect to.

        Every address of the answer must be public (a name that also points
        inside is refused, as fetch-node does with a unicast-only answer)."""
        literal = parse_ip(host)
        if literal is not None:
            self._check_ip(literal, host)
            return [_connectable(literal)]
        try:
            answers = list(self.resolver(host.rstrip("."), port))
        except (OSError, UnicodeError) as exc:
            raise UnresolvableName(f"The server name {host} could not be found.") from exc
        addresses: list[IP] = []
        for answer in answers:
            ip = parse_ip(answer)
            if ip is None:
                raise UnresolvableName(f"The server name {host} could not be found.")
            addresses.append(ip)
        if not addresses:
            raise UnresolvableName(f"The server name {host} could not be found.")
        for ip in addresses:
            self._check_ip(ip, host)
        return list(dict.fromkeys(_connectable(ip) for ip in addresses))

    def open(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """Resolve once, check, and connect to a checked address (each in turn, as
        `socket.create_connection` would, but never to one that was not checked)."""
        error: OSError | None = None
        for ip in self.pin(host, port):
            try:
                return self.connector(ip, port, _clamp(timeout))
            except OSError as exc:
                error = exc
        assert error is not None
        raise error


def _connectable(ip: IP) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _where(host: str | None) -> str:
    return f"“{host}”" if host else "this address"


_configured: Policy | None = None


def configure(policy: Policy | None) -> None:
    """Set the process-wide default policy (tests); None goes back to the settings."""
    global _configured
    _configured = policy


def api_policy() -> Policy:
    """The default policy with the limits of a signed-in adapter's API calls."""
    return default_policy().with_(max_bytes=API_MAX_BYTES, deadline=API_DEADLINE)


def default_policy() -> Policy:
    """The configured policy, else one read from `HIRONDELLE_ALLOW_PRIVATE_ADDRESSES`."""
    if _configured is not None:
        return _configured
    from hirondelle.config import get_settings  # pure: reads the environment only

    return Policy(allow_private=get_settings().allow_private_addresses)


# -- deadline ------------------------------------------------------------------

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hirondelle_guard_deadline", default=None
)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Bound everything the guarded clients do inside to `seconds` in all.

    Nested deadlines keep the earlier one."""
    end = time.monotonic() + seconds
    current = _deadline.get()
    if current is not None:
        end = min(end, current)
    token = _deadline.set(end)
    try:
        yield end
    finally:
        _deadline.reset(token)


def _remaining() -> float | None:
    end = _deadline.get()
    if end is None:
        return None
    left = end - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("The server took too long to answer.")
    return left


def _clamp(timeout: float | None) -> float | None:
    left = _remaining()
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


# -- JSON depth ----------------------------------------------------------------

_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_SQUARE = bytes.maketrans(b"{}", b"[]")  # for depth, braces count as brackets
_STEP = {0x5B: 1, 0x5D: -1}


def check_json_depth(data: bytes, limit: int = DEFAULT_MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than `limit` before a parser recurses into it.

    Brackets inside strings do not count: escaped backslashes and quotes are
    dropped first, so every quote left opens or closes a string, and what lies
    between every other quote is outside strings. Then each pass removes the
    innermost ``[]`` pairs: the number of passes is the depth. All in C-speed
    byte operations (a 512 kB answer takes about a millisecond)."""
    if data.lstrip()[:1] not in (b"[", b"{"):
        return
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = data.translate(_SQUARE, _NOT_STRUCTURE)
    brackets = b"".join(structure.split(b'"')[0::2])
    depth = 0
    while brackets:
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):  # unbalanced: count what is left exactly
            deepest = max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)
            depth += max(deepest, 0)
            break
        depth += 1
        if depth > limit:
            break
        brackets = inner
    if depth > limit:
        raise TooDeep(
            f"The server answered data nested more than {limit} levels deep; "
            "Hirondelle does not read it."
        )


def _too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"The server's answer is larger than {limit // 1024} kB; Hirondelle does not read it."
    )


# -- httpx -----------------------------------------------------------------------


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every wait ends at the exchange's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp_httpcore(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp_httpcore(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _clamp_httpcore(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def _clamp_httpcore(timeout: float | None) -> float | None:
    try:
        return _clamp(timeout)
    except DeadlineExceeded as exc:
        raise httpcore.ReadTimeout(str(exc)) from exc


class _Backend(httpcore.NetworkBackend):
    """httpcore's connections, opened through the policy (resolve once, check, pin)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            sock = self.policy.open(host, port, timeout)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connecting to {host} timed out") from exc
        except GuardError:
            raise
        except OSError as exc:
            raise httpcore.ConnectError(f"could not connect to {host}: {exc}") from exc
        for option in socket_options or ():
            sock.setsockopt(*option)
        return _DeadlineStream(SyncStream(sock))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused("Hirondelle does not open local sockets.", reason="unix")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _CappedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, limit: int, end: float | None) -> None:
        self._inner = inner
        self._limit = limit
        self._end = end

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        iterator = iter(self._inner)
        while True:
            token = _deadline.set(self._end)
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            except httpx.TimeoutException as exc:
                if self._end is not None and time.monotonic() >= self._end:
                    raise DeadlineExceeded("The server took too long to answer.") from exc
                raise
            finally:
                _deadline.reset(token)
            total += len(chunk)
            if total > self._limit:
                raise _too_large(self._limit)
            yield chunk

    def close(self) -> None:
        self._inner.close()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with every connection opened through the policy."""

    def __init__(self, policy: Policy | None = None, **kwargs: Any) -> None:
        self.policy = policy or default_policy()
        kwargs.setdefault("verify", _ssl_context(self.policy))
        kwargs.setdefault("trust_env", False)
        super().__init__(**kwargs)
        # The one seam httpcore offers for opening connections.
        self._pool._network_backend = _Backend(self.policy)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.policy.check_url(str(request.url))
        end = _deadline.get()
        if end is None:
            end = time.monotonic() + self.policy.deadline
        token = _deadline.set(end)
        try:
            response = super().handle_request(request)
        except httpx.TimeoutException as exc:
            if time.monotonic() >= end:
                raise DeadlineExceeded("The server took too long to answer.") from exc
            raise
        finally:
            _deadline.reset(token)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.policy.max_bytes:
            response.close()
            raise _too_large(self.policy.max_bytes)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _CappedStream(response.stream, self.policy.max_bytes, end)
        return response


class GuardedClient(httpx.Client):
    """An httpx client whose whole exchange (redirects and body) has one deadline,
    whose decoded answer is capped, and whose JSON answers are depth-checked."""

    def __init__(self, *, policy: Policy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def build_request(self, method: str, url: Any, **kwargs: Any) -> httpx.Request:
        if isinstance(url, str) and "://" in url:
            self.policy.check_url(url)  # before httpx's parser, which rejects some notations
        try:
            return super().build_request(method, url, **kwargs)
        except httpx.InvalidURL as exc:
            raise AddressRefused("This is not a valid server address.", reason="url") from exc

    def send(
        self, request: httpx.Request, *, stream: bool = False, **kwargs: Any
    ) -> httpx.Response:
        with deadline(self.policy.deadline):
            response = super().send(request, stream=True, **kwargs)
            if stream:
                return response
            try:
                chunks: list[bytes] = []
                total = 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > self.policy.max_bytes:
                        raise _too_large(self.policy.max_bytes)
                    chunks.append(chunk)
            finally:
                response.close()
            content = b"".join(chunks)
            response._content = content  # what Response.read() would have stored
            check_json_depth(content, self.policy.max_depth)
            return response


def httpx_transport(policy: Policy | None = None, **kwargs: Any) -> GuardedTransport:
    """The guarded transport alone, for a client built by a library."""
    return GuardedTransport(policy or default_policy(), **kwargs)


def httpx_client(*, policy: Policy | None = None, **kwargs: Any) -> httpx.Client:
    """An `httpx.Client` that only reaches public HTTPS servers, within the limits.

    Accepts httpx.Client's arguments; `transport` is refused (it would bypass
    the guard) and proxies from the environment are ignored."""
    policy = policy or default_policy()
    if "transport" in kwargs and kwargs["transport"] is not None:
        transport = kwargs.pop("transport")
        if not isinstance(transport, GuardedTransport | httpx.MockTransport):
            raise TypeError("a guarded client needs the guard's transport")
    else:
        kwargs.pop("transport", None)
        transport = GuardedTransport(policy)
    kwargs["trust_env"] = False
    kwargs.setdefault("max_redirects", policy.max_redirects)
    kwargs.setdefault("timeout", httpx.Timeout(policy.deadline, connect=policy.connect_timeout))
    return GuardedClient(policy=policy, transport=transport, **kwargs)


# -- requests ----------------------------------------------------------------------


def _ssl_context(policy: Policy) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=policy.cafile or certifi.where())
    context.sslsocket_class = _DeadlineSSLSocket
    return context


class _DeadlineMixin:
    """Every wait of a socket also ends at the exchange's deadline."""

    _base_timeout: float | None = None

    def settimeout(self, value: float | None) -> None:
        self._base_timeout = value
        super().settimeout(value)  # type: ignore[misc]

    def _arm(self) -> None:
        try:
            super().settimeout(_clamp(self._base_timeout))  # type: ignore[misc]
        except DeadlineExceeded as exc:
            raise TimeoutError("deadline reached") from exc

    def recv(self, *args: Any) -> bytes:
        self._arm()
        return super().recv(*args)  # type: ignore[misc]

    def recv_into(self, *args: Any) -> int:
        self._arm()
        return super().recv_into(*args)  # type: ignore[misc]

    def sendall(self, *args: Any) -> None:
        self._arm()
        super().sendall(*args)  # type: ignore[misc]

    def send(self, *args: Any) -> int:
        self._arm()
        return super().send(*args)  # type: ignore[misc]


class _DeadlineSocket(_DeadlineMixin, socket.socket):
    """A plain socket under the deadline."""


class _DeadlineSSLSocket(_DeadlineMixin, ssl.SSLSocket):
    """A TLS socket under the deadline, its reads and handshake too."""

    def read(self, *args: Any) -> Any:
        self._arm()
        return super().read(*args)

    def do_handshake(self, *args: Any) -> None:
        self._arm()
        super().do_handshake(*args)


def _deadline_socket(sock: socket.socket) -> socket.socket:
    """The same connection, as a socket that honours the deadline."""
    if isinstance(sock, _DeadlineSocket) or type(sock) is not socket.socket:
        return sock
    timeout = sock.gettimeout()
    wrapped = _DeadlineSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    wrapped.settimeout(timeout)
    return wrapped


class _PinnedConnectionMixin:
    policy: Policy
    host: str
    port: int
    timeout: Any
    socket_options: Any
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        timeout = self.timeout if isinstance(self.timeout, int | float) else None
        try:
            sock = self.policy.open(self._dns_host, self.port, timeout)
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
        except GuardError:
            raise
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]
        for option in self.socket_options or ():
            sock.setsockopt(*option)
        return _deadline_socket(sock)


class _GuardedAdapter(HTTPAdapter):
    """requests' adapter with connections opened through the policy, the answer
    read within the caps and the deadline."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        http_conn = type("GuardedHTTPConnection", (_PinnedConnectionMixin, HTTPConnection), {})
        https_conn = type("GuardedHTTPSConnection", (_PinnedConnectionMixin, HTTPSConnection), {})
        http_conn.policy = https_conn.policy = policy  # type: ignore[attr-defined]
        self._pools = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type(
                "GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
            ),
        }
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["ssl_context"] = _ssl_context(self.policy)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise AddressRefused("Hirondelle does not connect through proxies.", reason="proxy")

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        self.policy.check_url(request.url or "")
        end = _deadline.get()
        if end is None:
            end = time.monotonic() + self.policy.deadline
        token = _deadline.set(end)
        try:
            connect, read = _split_timeout(timeout, self.policy)
            try:
                response = super().send(
                    request, stream=True, timeout=(connect, read), verify=verify, cert=cert
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                if time.monotonic() >= end:
                    raise DeadlineExceeded("The server took too long to answer.") from exc
                raise
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > self.policy.max_bytes:
                response.close()
                raise _too_large(self.policy.max_bytes)
            if not stream:
                self._read(response, end)
            return response
        finally:
            _deadline.reset(token)

    def _read(self, response: requests.Response, end: float) -> None:
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in response.raw.stream(64 * 1024, decode_content=True):
                total += len(chunk)
                if total > self.policy.max_bytes:
                    raise _too_large(self.policy.max_bytes)
                chunks.append(chunk)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            response.close()  # half read: the connection cannot be reused
            if time.monotonic() >= end:
                raise DeadlineExceeded("The server took too long to answer.") from exc
            raise requests.ConnectionError(f"reading the answer failed: {exc}") from exc
        except BaseException:
            response.close()
            raise
        response.raw.release_conn()  # read whole: back to the pool, kept alive
        content = b"".join(chunks)
        check_json_depth(content, self.policy.max_depth)
        response._content = content  # what Response.content would have stored
        response._content_consumed = True


def _split_timeout(timeout: Any, policy: Policy) -> tuple[float, float]:
    if isinstance(timeout, tuple):
        connect, read = timeout
    else:
        connect = read = timeout
    connect = min(connect or policy.connect_timeout, policy.deadline)
    read = min(read or policy.deadline, policy.deadline)
    return connect, read


def requests_session(*, policy: Policy | None = None) -> requests.Session:
    """A `requests.Session` that only reaches public HTTPS servers, within the limits."""
    policy = policy or default_policy()
    session = requests.Session()  # the guard's own: every adapter replaced below
    session.trust_env = False
    session.max_redirects = policy.max_redirects
    adapter = _GuardedAdapter(policy)
    session.adapters.clear()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
