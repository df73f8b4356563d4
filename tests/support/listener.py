"""A throwaway HTTP listener on 127.0.0.1 that answers what a test scripts,
and stubs for the guard's resolver and connector.

For the guard's tests: a server that redirects, lies, drips or answers
something huge, where no real server would on demand. It is a real socket
on the loopback address; nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from hirondelle.networks import guard

__all__ = ["PUBLIC", "Handler", "Stubs", "answer", "serve"]

#: a public address; never contacted: the stub connector goes to 127.0.0.1
PUBLIC = "93.184.215.14"


class _Request(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    handle_with: Callable[[_Request], None]
    body: bytes = b""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        type(self).handle_with(self)

    do_GET = do_POST = _dispatch

    def log_message(self, *args: object) -> None:
        pass


Handler = Callable[[_Request], None]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], int]]:
    """`serve(handle)` starts a listener calling `handle(request)`; returns its port."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(handle: Handler) -> int:
        handler = type("Scripted", (_Request,), {"handle_with": staticmethod(handle)})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def answer(
    request: http.server.BaseHTTPRequestHandler,
    body: bytes,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    length: bool = True,
) -> None:
    """Send one answer; `length=False` ends it by closing the connection instead."""
    request.send_response(status)
    headers = {"Content-Type": "application/json", **(headers or {})}
    for name, value in headers.items():
        request.send_header(name, value)
    if length:
        request.send_header("Content-Length", str(len(body)))
    else:
        request.send_header("Connection", "close")
        request.close_connection = True
    request.end_headers()
    request.wfile.write(body)


@dataclass
class Stubs:
    """A stub resolver (name → answers, in turn) and a recording connector."""

    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    connections: list[tuple[str, int]] = field(default_factory=list)
    #: where connections really go (a listener on 127.0.0.1), or None: fail
    local_port: int | None = None

    def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        turns = self.answers.get(host)
        if not turns:
            raise socket.gaierror(f"no such name {host}")
        return turns.pop(0) if len(turns) > 1 else turns[0]

    def connect(self, ip: str, port: int, timeout: float | None) -> socket.socket:
        self.connections.append((ip, port))
        if self.local_port is None:
            pytest.fail(f"the guard let a connection to {ip}:{port} through")
        return socket.create_connection(("127.0.0.1", self.local_port), timeout=timeout)

    def policy(self, **changes: object) -> guard.Policy:
        base = guard.Policy(allow_private=False, resolver=self.resolve, connector=self.connect)
        return base.with_(**changes)


@dataclass
class Authority:
    """A certificate authority made for one test, and a certificate for a name."""

    cafile: str
    certfile: str
    keyfile: str


def make_authority(directory: str, name: str) -> Authority:
    """A CA and a server certificate for `name` (no network, no trustme)."""
    import datetime
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hirondelle test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder = Path(directory)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "cert.pem").write_bytes(cert.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Authority(str(folder / "ca.pem"), str(folder / "cert.pem"), str(folder / "key.pem"))


def serve_tls(authority: Authority, handle: Handler, names: list[str]) -> tuple[int, Callable]:
    """A listener on 127.0.0.1 speaking TLS with `authority`'s certificate;
    `names` receives the SNI name of each handshake. Returns (port, stop)."""
    import ssl

    handler = type("Scripted", (_Request,), {"handle_with": staticmethod(handle)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(authority.certfile, authority.keyfile)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return server.server_address[1], stop
