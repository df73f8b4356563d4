"""Handles an institution can give its people on its own PDS.

A PDS gives handles under its service domains (`PDS_SERVICE_HANDLE_DOMAINS`,
e.g. `.social.example.fr`): one label of 3 to 18 characters, letters, digits
and hyphens, not starting or ending with a hyphen (atproto
packages/pds/src/handle/index.ts). Long names get a short label there, and
the full name can be a second handle on the institution's own domain,
resolved by DNS TXT `_atproto.<handle>` or `https://<handle>/.well-known/atproto-did`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = [
    "MAX_LABEL",
    "MIN_LABEL",
    "RESERVED",
    "dns_txt_record",
    "full_name_label",
    "service_label",
    "slug_words",
]

MIN_LABEL = 3
MAX_LABEL = 18
#: a few labels the PDS reserves (the full list is in @atproto/pds handle/reserved.ts)
RESERVED = frozenset(
    {"admin", "administrator", "api", "app", "bsky", "help", "root", "support", "www", "mail"}
)
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def slug_words(name: str) -> list[str]:
    """The ASCII words of a name: 'Élisabeth Borne-Dupré' -> ['elisabeth', 'borne', 'dupre']."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return [w for w in re.split(r"[^a-z0-9]+", ascii_name) if w]


def _ok(label: str) -> bool:
    return (
        MIN_LABEL <= len(label) <= MAX_LABEL and bool(_LABEL.match(label)) and label not in RESERVED
    )


def service_label(name: str, taken: Callable[[str], bool] = lambda _l: False) -> str:
    """A free label of 3–18 characters for `name`: full name, then shortened forms.

    'Jean Dupont' -> 'jean-dupont'; 'Marie-Thérèse de La Rochefoucauld' ->
    'mt-larochefoucauld'… ; a number is added when every form is taken.
    """
    words = slug_words(name) or ["agent"]
    first, rest, last = words[0], words[1:], words[-1]
    initials = "".join(w[0] for w in words[:-1])
    forms = [
        "-".join(words),  # jean-dupont
        "".join(words),  # jeandupont
        f"{first}-{last}" if rest else first,  # marie-montbel
        f"{initials}-{last}" if rest else first,  # mtdlr-montbel
        f"{initials}{last}" if rest else first,  # mtdlrmontbel
        first[0] + "".join(rest) if rest else first,  # mtheresedelarochefoucauld…
    ]
    seen: list[str] = []
    for form in forms:
        label = form[:MAX_LABEL].strip("-")
        if len(label) < MIN_LABEL:
            label = (label + "-org")[:MAX_LABEL]
        if label not in seen:
            seen.append(label)
    for label in seen:
        if _ok(label) and not taken(label):
            return label
    base = seen[-1][: MAX_LABEL - 3].strip("-")
    for n in range(2, 1000):
        label = f"{base}{n}"
        if _ok(label) and not taken(label):
            return label
    raise ValueError(f"no free handle for {name!r}")


def full_name_label(name: str) -> str:
    """The whole name as one DNS label (≤63 chars), for a handle on the institution's domain."""
    label = "-".join(slug_words(name))[:63].strip("-")
    if not label:
        raise ValueError(f"{name!r} has no letters or digits to make a handle from")
    return label


def dns_txt_record(handle: str, did: str) -> str:
    """The DNS TXT record that makes `handle` resolve to `did` (zone-file syntax)."""
    return f'_atproto.{handle}. 3600 IN TXT "did={did}"'
