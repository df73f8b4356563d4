"""The suite's own promise: no test asks a DNS server outside 127.0.0.0/8."""

from __future__ import annotations

import socket

import pytest


def test_unknown_names_fail_without_a_dns_query() -> None:
    assert hasattr(socket.getaddrinfo, "__wrapped__"), "conftest must wrap getaddrinfo"
    with pytest.raises(socket.gaierror, match="no DNS in the test suite"):
        socket.getaddrinfo("remote.example", 443)


def test_addresses_and_loopback_names_still_resolve() -> None:
    assert socket.getaddrinfo("127.0.0.1", 80)[0][4][0] == "127.0.0.1"
    addresses = {info[4][0] for info in socket.getaddrinfo("localhost", 80)}
    assert addresses <= {"127.0.0.1", "::1"}
