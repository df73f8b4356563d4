"""joinmastodon.org's public server list, read as the hostile answer it may be.

``GET https://api.joinmastodon.org/servers?language=fr`` answers a JSON array
of servers, each ``{"domain", "version", "description", "languages",
"region", "categories", "proxied_thumbnail", "blurhash", "total_users",
"last_week_users", "approval_required", "language", "category"}``. The list
feeds the "make an account" help: a page shows a few domains and their
descriptions, so every field is checked (domain syntax, numbers, lengths,
language codes), text is stripped of markup and invisible characters, and a
server that fails a check is left out. An answer with nothing usable is an
error, so the caller keeps its last good list.

The request goes through the guard (public HTTPS only, size and deadline
caps). Pure: no Django.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from hirondelle.networks import guard
from hirondelle.networks.errors import InvalidResponse, NetworkError, Unavailable

__all__ = [
    "MAX_ANSWER_BYTES",
    "ListedServer",
    "clean_text",
    "fetch_servers",
    "parse_servers",
    "valid_domain",
]

#: The real answer for one language is a few hundred kB; more is not a list.
MAX_ANSWER_BYTES = 2 * 1024 * 1024
#: Entries read from an answer; the rest is ignored.
MAX_ENTRIES = 2000
#: Servers kept per language (the page shows a short list).
KEEP = 6
DESCRIPTION_CHARS = 200
DEADLINE = 20.0
MAX_USERS = 100_000_000

_DOMAIN = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")
_CATEGORY = re.compile(r"^[a-z0-9_-]{1,32}$")
_TAG = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"\s+")
#: names that are not servers anyone can sign up on
_RESERVED_TLDS = frozenset(
    {"local", "localhost", "internal", "invalid", "test", "example", "onion"}
)


@dataclass(frozen=True)
class ListedServer:
    """One server of the list, every field checked."""

    domain: str
    description: str
    languages: tuple[str, ...]
    total_users: int
    last_week_users: int
    approval_required: bool
    category: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "description": self.description,
            "languages": list(self.languages),
            "total_users": self.total_users,
            "last_week_users": self.last_week_users,
            "approval_required": self.approval_required,
            "category": self.category,
        }


def valid_domain(value: object) -> str | None:
    """The domain, lower-cased, if it is a plain public host name; else None."""
    if not isinstance(value, str) or len(value) > 253:
        return None
    domain = value.strip().lower().rstrip(".")
    if not _DOMAIN.match(domain) or guard.parse_ip(domain) is not None:
        return None
    if domain.rsplit(".", 1)[-1] in _RESERVED_TLDS:
        return None
    return domain


def clean_text(value: object, limit: int = DESCRIPTION_CHARS) -> str:
    """Plain, visible text: no markup, no control or invisible characters
    (bidirectional overrides, zero-width), whitespace collapsed, cut at `limit`."""
    if not isinstance(value, str):
        return ""
    text = html.unescape(_TAG.sub(" ", value[: limit * 20]))
    text = "".join(
        " " if unicodedata.category(c) in ("Zl", "Zp") or c in "\t\n\r" else c
        for c in text
        if unicodedata.category(c) not in ("Cc", "Cf", "Co", "Cs", "Cn") or c in "\t\n\r"
    )
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
        text = cut.rstrip(" ,;:.") + "…"
    return text


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_USERS else None


def _entry(row: object) -> ListedServer | None:
    if not isinstance(row, dict):
        return None
    domain = valid_domain(row.get("domain"))
    total = _count(row.get("total_users"))
    week = _count(row.get("last_week_users"))
    approval = row.get("approval_required")
    languages = row.get("languages")
    if domain is None or total is None or week is None or not isinstance(approval, bool):
        return None
    if not isinstance(languages, list) or len(languages) > 50:
        return None
    codes = tuple(
        dict.fromkeys(c.lower() for c in languages if isinstance(c, str) and _LANGUAGE.match(c))
    )
    category = row.get("category")
    category = category if isinstance(category, str) and _CATEGORY.match(category) else ""
    return ListedServer(
        domain=domain,
        description=clean_text(row.get("description")),
        languages=codes[:20],
        total_users=total,
        last_week_users=week,
        approval_required=approval,
        category=category,
    )


def parse_servers(data: bytes, language: str, *, keep: int = KEEP) -> list[ListedServer]:
    """The best few servers of an answer for `language`: open to sign-ups,
    speaking the language, general ones first, then the most active.

    Raises InvalidResponse when the answer is not such a list or holds no
    usable server."""
    if len(data) > MAX_ANSWER_BYTES:
        raise InvalidResponse("The server list is larger than any real list.")
    try:
        guard.check_json_depth(data, 8)
        rows = json.loads(data)
    except (ValueError, UnicodeDecodeError, guard.TooDeep) as exc:
        raise InvalidResponse("The server list is not readable JSON.") from exc
    if not isinstance(rows, list):
        raise InvalidResponse("The server list is not a list.")
    language = language.lower()
    found: dict[str, ListedServer] = {}
    for row in rows[:MAX_ENTRIES]:
        server = _entry(row)
        if server is None or server.approval_required or server.domain in found:
            continue
        if language not in server.languages:
            continue
        found[server.domain] = server
    if not found:
        raise InvalidResponse("The server list holds no usable server for this language.")
    ranked = sorted(found.values(), key=lambda s: (s.category != "general", -s.last_week_users))
    return ranked[:keep]


def fetch_servers(
    url: str, language: str, *, policy: guard.Policy | None = None
) -> list[ListedServer]:
    """Ask the list at `url` for `language`'s servers, through the guard.

    Raises NetworkError (Unavailable, InvalidResponse, the guard's refusals)."""
    if not _LANGUAGE.match(language):
        raise ValueError(f"not a language code: {language!r}")
    policy = (policy or guard.default_policy()).with_(
        max_bytes=MAX_ANSWER_BYTES, max_depth=8, deadline=DEADLINE
    )
    try:
        with guard.httpx_client(policy=policy, follow_redirects=True) as client:
            response = client.get(
                url, params={"language": language}, headers={"Accept": "application/json"}
            )
    except NetworkError:
        raise
    except Exception as exc:  # httpx's connection and protocol errors
        import httpx

        if isinstance(exc, httpx.HTTPError):
            raise Unavailable("The server list could not be reached.") from exc
        raise
    if response.status_code != 200:
        raise Unavailable(
            f"The server list answered HTTP {response.status_code}.", status=response.status_code
        )
    return parse_servers(response.content, language)
