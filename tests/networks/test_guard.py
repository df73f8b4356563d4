"""The outgoing-connection guard, for both HTTP libraries Hirondelle uses.

No test here sends a packet outside 127.0.0.0/8. Names are resolved by a stub
resolver; connections go through a stub connector that records what it was
asked and fails the test if a refused address reaches it. Where a test needs
a server, the stub connector opens a real connection to a listener on
127.0.0.1 whatever address it was asked for, so the guard's decision is about
the (fake, public) address the stub resolver gave, and the bytes stay local.
"""

from __future__ import annotations

import gzip
import http.server
import json
import socket
import time

import httpx
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from hirondelle.config import get_settings
from hirondelle.networks import guard
from hirondelle.networks.errors import NetworkError
from tests.support.listener import PUBLIC, Stubs, answer, make_authority, serve_tls


def httpx_get(policy: guard.Policy, url: str) -> bytes:
    with guard.httpx_client(policy=policy, follow_redirects=True) as client:
        return client.get(url).content


def requests_get(policy: guard.Policy, url: str) -> bytes:
    with guard.requests_session(policy=policy) as session:
        return session.get(url, timeout=30).content


CLIENTS = [pytest.param(httpx_get, id="httpx"), pytest.param(requests_get, id="requests")]


# -- every notation of an internal address ----------------------------------------

INTERNAL_LITERALS = [
    "127.0.0.1",
    "2130706433",  # decimal 127.0.0.1
    "0x7f000001",  # hex
    "0x7f.1",  # hex, short form
    "0177.0.0.1",  # octal
    "017700000001",
    "127.1",
    "[::1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:7f00:1]",
    "[::127.0.0.1]",  # IPv4-compatible (deprecated)
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # shared address space (carrier NAT)
    "169.254.169.254",  # cloud metadata
    "2852039166",  # 169.254.169.254 in decimal
    "0xa9fea9fe",  # ... in hex
    "[::ffff:169.254.169.254]",
    "0.0.0.0",
    "0",
    "[::]",
    "224.0.0.1",  # multicast
    "[ff02::1]",
    "255.255.255.255",
    "240.0.0.1",  # reserved
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "[fe80::1]",  # link-local
    "[fc00::1]",  # unique local
    "[fd00:ec2::254]",  # AWS metadata over IPv6
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[2002:a9fe:a9fe::]",  # 6to4 of the metadata address
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of the metadata address
    "[64:ff9b::7f00:1]",
    "[2001:db8::1]",  # documentation
]


@pytest.mark.parametrize("get", CLIENTS)
@pytest.mark.parametrize("host", INTERNAL_LITERALS)
def test_internal_literal_is_refused_before_any_connection(get, host: str) -> None:
    stubs = Stubs()
    with pytest.raises(guard.AddressRefused) as refused:
        get(stubs.policy(), f"https://{host}/api/v1/apps")
    assert refused.value.reason == "private"
    assert stubs.connections == []
    assert stubs.lookups == []  # a literal needs no lookup


@pytest.mark.parametrize("get", CLIENTS)
@pytest.mark.parametrize(
    "answers",
    [
        ["10.0.0.7"],
        ["169.254.169.254"],
        ["::1"],
        ["::ffff:10.1.2.3"],
        [PUBLIC, "127.0.0.1"],  # one internal answer is enough to refuse the name
    ],
)
def test_name_resolving_inside_is_refused(get, answers: list[str]) -> None:
    stubs = Stubs(answers={"inside.example": [answers]})
    with pytest.raises(guard.AddressRefused) as refused:
        get(stubs.policy(), "https://inside.example/")
    assert refused.value.reason == "private"
    assert stubs.lookups == ["inside.example"]
    assert stubs.connections == []


@pytest.mark.parametrize("get", CLIENTS)
@pytest.mark.parametrize("url", ["http://example.org/", "ftp://example.org/", "file:///etc/passwd"])
def test_only_https(get, url: str) -> None:
    stubs = Stubs(answers={"example.org": [[PUBLIC]]})
    with pytest.raises((guard.AddressRefused, NetworkError, ValueError)) as refused:
        get(stubs.policy(), url)
    if isinstance(refused.value, guard.AddressRefused):
        assert refused.value.reason == "scheme"
    assert stubs.connections == []


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", PUBLIC, "2606:4700:4700::1111", "2a00:1450:4007:80e::200e", "::ffff:8.8.8.8"],
)
def test_public_addresses_pass(address: str) -> None:
    ip = guard.parse_ip(address)
    assert ip is not None
    assert guard.is_public(ip)


def test_unknown_name_is_a_clear_error() -> None:
    stubs = Stubs()
    with pytest.raises(guard.UnresolvableName, match="could not be found"):
        httpx_get(stubs.policy(), "https://nowhere.example/")
    assert stubs.connections == []


# -- pinning, redirects ----------------------------------------------------------------


@pytest.mark.parametrize("get", CLIENTS)
def test_connects_to_the_checked_address_despite_rebinding(get, serve) -> None:
    """The resolver answers public, then private: the one connection goes to the
    public address that was checked, and the name is looked up once."""
    hosts: list[str] = []

    def handle(request):
        hosts.append(request.headers["Host"])
        answer(request, b'{"ok": true}', headers={"Content-Type": "application/json"})

    port = serve(handle)
    stubs = Stubs(answers={"rebind.example": [[PUBLIC], ["10.0.0.1"]]}, local_port=port)
    body = get(stubs.policy(allow_http=True), f"http://rebind.example:{port}/")
    assert json.loads(body) == {"ok": True}
    assert stubs.lookups == ["rebind.example"]
    assert stubs.connections == [(PUBLIC, port)]
    assert hosts == [f"rebind.example:{port}"]  # the name, not the address, goes to the server


@pytest.mark.parametrize("get", CLIENTS)
@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",
        "http://inside.example/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_redirect_to_internal_address_is_refused(get, serve, target: str) -> None:
    port = serve(lambda r: answer(r, b"", status=302, headers={"Location": target}))
    stubs = Stubs(
        answers={"public.example": [[PUBLIC]], "inside.example": [["10.9.8.7"]]}, local_port=port
    )
    with pytest.raises(guard.AddressRefused) as refused:
        get(stubs.policy(allow_http=True), f"http://public.example:{port}/start")
    assert refused.value.reason == "private"
    assert stubs.connections == [(PUBLIC, port)]  # the first hop only


def test_redirect_from_https_to_http_is_refused() -> None:
    """The scheme is checked on every hop: shown with the policy's own check,
    since the loopback listener speaks no TLS."""
    policy = Stubs().policy()
    policy.check_url("https://example.org/")
    with pytest.raises(guard.AddressRefused) as refused:
        policy.check_url("http://example.org/")
    assert refused.value.reason == "scheme"


@pytest.mark.parametrize("get", CLIENTS)
def test_redirects_are_bounded(get, serve) -> None:
    port = serve(lambda r: answer(r, b"", status=302, headers={"Location": r.path + "x"}))
    stubs = Stubs(answers={"public.example": [[PUBLIC]]}, local_port=port)
    with pytest.raises((httpx.TooManyRedirects, requests.TooManyRedirects)):
        get(stubs.policy(allow_http=True), f"http://public.example:{port}/")
    assert len(stubs.connections) <= guard.MAX_REDIRECTS + 1


# -- hostile answers --------------------------------------------------------------------


@pytest.mark.parametrize("get", CLIENTS)
@pytest.mark.parametrize("length", [True, False], ids=["announced", "unannounced"])
def test_answer_size_is_capped(get, serve, length: bool) -> None:
    port = serve(lambda r: answer(r, b"x" * (guard.DEFAULT_MAX_BYTES + 1), length=length))
    policy = guard.Policy(allow_private=True)
    with pytest.raises(guard.TooLarge):
        get(policy, f"http://127.0.0.1:{port}/")
    # just under the cap is read whole
    port = serve(lambda r: answer(r, b"x" * guard.DEFAULT_MAX_BYTES, length=length))
    assert len(get(policy, f"http://127.0.0.1:{port}/")) == guard.DEFAULT_MAX_BYTES


@pytest.mark.parametrize("get", CLIENTS)
def test_decompressed_size_is_capped(get, serve) -> None:
    bomb = gzip.compress(b"0" * (20 * 1024 * 1024))  # 20 MB in about 20 kB
    assert len(bomb) < guard.DEFAULT_MAX_BYTES
    port = serve(lambda r: answer(r, bomb, headers={"Content-Encoding": "gzip"}))
    with pytest.raises(guard.TooLarge):
        get(guard.Policy(allow_private=True), f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize("get", CLIENTS)
def test_deeply_nested_json_is_a_clean_error(get, serve) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    port = serve(lambda r: answer(r, deep, headers={"Content-Type": "application/json"}))
    with pytest.raises(guard.TooDeep):
        get(guard.Policy(allow_private=True), f"http://127.0.0.1:{port}/")


def test_json_depth_counts_only_structure() -> None:
    limit = 5
    guard.check_json_depth(b'{"a": [[[{"b": "[[[[[[[[[[{{{{{{"}]]]}', limit)
    guard.check_json_depth(b'"[[[[[[[[[[[["', limit)
    guard.check_json_depth(b'{"a": "\\"[[[[[[[[[[[[["}', limit)
    guard.check_json_depth(b"[" * limit + b"]" * limit, limit)
    with pytest.raises(guard.TooDeep):
        guard.check_json_depth(b"[" * (limit + 1) + b"]" * (limit + 1), limit)
    with pytest.raises(guard.TooDeep):
        guard.check_json_depth(b'  {"a": {"b": {"c": {"d": {"e": {}}}}}}', limit)
    # brackets in strings cannot hide real depth...
    with pytest.raises(guard.TooDeep):
        guard.check_json_depth(b'[[[[[["]]]]]]"]]]]]]', limit)
    # ...nor can an escaped backslash that ends a string
    with pytest.raises(guard.TooDeep):
        guard.check_json_depth(b'{"a": "\\\\", "b": [[[[[]]]]]}', limit)
    guard.check_json_depth(b'{"a": "\\\\\\"[[[[[[[[", "b": [[[]]]}', limit)


def _drip(request: http.server.BaseHTTPRequestHandler, *, headers_first: bool) -> None:
    """Send an endless answer one byte at a time (for at most 60 s)."""
    try:
        if headers_first:
            request.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        else:
            request.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
        request.wfile.flush()
        end = time.monotonic() + 60
        while time.monotonic() < end:
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.05)
    except OSError:
        pass
    request.close_connection = True


@pytest.mark.parametrize("get", CLIENTS)
@pytest.mark.parametrize("headers_first", [True, False], ids=["slow-body", "slow-headers"])
def test_a_slow_drip_stops_at_the_deadline(get, serve, headers_first: bool) -> None:
    """Each byte arrives well within the read timeout; only the total deadline
    can stop this exchange (the server drips for a minute)."""
    port = serve(lambda r: _drip(r, headers_first=headers_first))
    policy = guard.Policy(allow_private=True, deadline=1.0)
    with pytest.raises(guard.DeadlineExceeded):
        get(policy, f"http://127.0.0.1:{port}/")


# -- the setting ---------------------------------------------------------------------------


def test_private_addresses_need_the_explicit_setting(monkeypatch) -> None:
    monkeypatch.setattr(guard, "_configured", None)
    get_settings.cache_clear()
    try:
        assert guard.default_policy().allow_private is False
        monkeypatch.setenv("HIRONDELLE_ALLOW_PRIVATE_ADDRESSES", "1")
        get_settings.cache_clear()
        assert guard.default_policy().allow_private is True
    finally:
        get_settings.cache_clear()


def test_allowed_private_addresses_reach_a_local_peer(serve) -> None:
    port = serve(lambda r: answer(r, b"{}", headers={"Content-Type": "application/json"}))
    for get in (httpx_get, requests_get):
        assert get(guard.Policy(allow_private=True), f"http://127.0.0.1:{port}/") == b"{}"
        with pytest.raises(guard.AddressRefused):
            get(guard.Policy(allow_private=False), f"https://127.0.0.1:{port}/")


@pytest.mark.parametrize("get", CLIENTS)
def test_each_checked_address_is_tried_in_turn(get, serve) -> None:
    """An unreachable first address (IPv6 on an IPv4-only host) falls back to the
    next one of the same checked answer, never to a new lookup."""
    port = serve(lambda r: answer(r, b"{}"))
    stubs = Stubs(answers={"dual.example": [["2606:4700::1111", PUBLIC]]}, local_port=port)

    def connect(ip: str, port_: int, timeout: float | None) -> socket.socket:
        if ip.startswith("2606:"):
            stubs.connections.append((ip, port_))
            raise ConnectionRefusedError("no IPv6 route here")
        return stubs.connect(ip, port_, timeout)

    policy = stubs.policy(allow_http=True, connector=connect)
    assert get(policy, f"http://dual.example:{port}/") == b"{}"
    assert stubs.connections == [("2606:4700::1111", port), (PUBLIC, port)]
    assert stubs.lookups == ["dual.example"]


@pytest.mark.parametrize("get", CLIENTS)
def test_https_to_the_pinned_address_keeps_the_name_for_tls(get, tmp_path) -> None:
    """HTTPS with everything strict: the connection goes to the checked
    address, while SNI, the certificate check and `Host` use the name."""
    authority = make_authority(str(tmp_path), "tls.example")
    names: list[str] = []
    hosts: list[str] = []

    def handle(request) -> None:
        hosts.append(request.headers["Host"])
        answer(request, b'{"tls": true}')

    port, stop = serve_tls(authority, handle, names)
    try:
        stubs = Stubs(answers={"tls.example": [[PUBLIC]]}, local_port=port)
        policy = stubs.policy(cafile=authority.cafile)
        assert json.loads(get(policy, f"https://tls.example:{port}/")) == {"tls": True}
        assert stubs.connections == [(PUBLIC, port)]
        assert names == ["tls.example"]
        assert hosts == [f"tls.example:{port}"]
        # A certificate for another name is refused, even at a checked address.
        stubs.answers["other.example"] = [[PUBLIC]]
        with pytest.raises((httpx.ConnectError, requests.exceptions.SSLError)):
            get(policy, f"https://other.example:{port}/")
    finally:
        stop()


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ax\n'),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)


@given(value=_JSON, limit=st.integers(min_value=0, max_value=12))
def test_json_depth_agrees_with_the_parser(value: object, limit: int) -> None:
    """Whatever strings hold (brackets, quotes, backslashes), the check refuses
    exactly what is nested deeper than the limit."""
    data = json.dumps(value).encode()
    if _depth(value) > limit and data[:1] in (b"[", b"{"):
        with pytest.raises(guard.TooDeep):
            guard.check_json_depth(data, limit)
    else:
        guard.check_json_depth(data, limit)


@pytest.mark.parametrize("get", CLIENTS)
def test_proxy_variables_are_ignored(get, serve, monkeypatch) -> None:
    """A proxy from the environment would be a connection to an unchecked address."""
    proxied: list[str] = []
    proxy = serve(lambda r: (proxied.append(r.path), answer(r, b'"proxy"')))
    port = serve(lambda r: answer(r, b'"direct"'))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert get(guard.Policy(allow_private=True), f"http://127.0.0.1:{port}/") == b'"direct"'
    assert proxied == []
