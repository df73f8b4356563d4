"""Mastodon servers to suggest to someone with no account yet.

Precedence: the institution's own server (``institution_server``) first,
then the portal's list (``recommended_servers``), else the list shipped in
``portal/data/servers.json`` for the page's language (chosen by hand from
joinmastodon.org's list, with its date). Nothing here reaches the network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hirondelle.config import get_settings

__all__ = ["Server", "shipped_list", "suggested_servers"]

DATA = Path(__file__).resolve().parent.parent / "data" / "servers.json"


@dataclass(frozen=True)
class Server:
    domain: str
    about: str = ""
    institution: bool = False

    @property
    def signup_url(self) -> str:
        return f"https://{self.domain}/auth/sign_up"


@cache
def shipped_list() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def _clean(domain: str) -> str:
    domain = domain.strip().lower()
    for prefix in ("https://", "http://"):
        domain = domain.removeprefix(prefix)
    return domain.split("/", 1)[0]


def suggested_servers(language: str) -> list[Server]:
    settings = get_settings()
    language = (language or "fr")[:2]
    out: list[Server] = []
    if settings.institution_server:
        out.append(Server(_clean(settings.institution_server), settings.institution_name, True))
    if settings.recommended_servers:
        out += [Server(_clean(d)) for d in settings.recommended_servers if d.strip()]
    else:
        data = shipped_list()["servers"]
        for row in data.get(language, data["en"]):
            about = row.get("about", {})
            out.append(Server(row["domain"], about.get(language) or about.get("en", "")))
    seen: set[str] = set()
    unique = []
    for server in out:
        if server.domain and server.domain not in seen:
            seen.add(server.domain)
            unique.append(server)
    return unique
