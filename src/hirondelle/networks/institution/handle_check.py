"""Does a full-name handle resolve to its official's DID yet, as the network will check it?

atproto resolves a handle by DNS TXT `_atproto.<handle>` ("did=…") or by
`https://<handle>/.well-known/atproto-did`. Both are read here from outside,
like any resolver: the HTTPS one through the outgoing-request guard, the DNS
one with dnspython (or a lookup given by the caller).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from hirondelle.networks import guard

__all__ = ["dns_did", "system_txt_lookup", "well_known_did"]

TxtLookup = Callable[[str], list[str]]


def well_known_did(client: httpx.Client, handle: str, *, scheme: str = "https") -> str:
    """The DID `https://<handle>/.well-known/atproto-did` answers, or "" (with no error)."""
    try:
        response = client.get(f"{scheme}://{handle}/.well-known/atproto-did")
    except (httpx.HTTPError, guard.GuardError):
        return ""
    text = response.text.strip() if response.status_code == 200 else ""
    return text if text.startswith("did:") and "\n" not in text and len(text) < 2048 else ""


def system_txt_lookup(name: str) -> list[str]:
    """The TXT strings of `name` from the system's DNS resolvers ([] when none)."""
    import dns.exception
    import dns.resolver

    try:
        answers = dns.resolver.resolve(name, "TXT", lifetime=5.0)
    except (dns.exception.DNSException, OSError):
        return []
    return [b"".join(a.strings).decode(errors="replace") for a in answers]


def dns_did(handle: str, lookup: TxtLookup = system_txt_lookup) -> str:
    """The DID in `_atproto.<handle>`'s TXT record, or ""."""
    for text in lookup(f"_atproto.{handle}"):
        if text.startswith("did="):
            return text[4:].strip()
    return ""
