"""Mastodon servers to suggest to someone with no account yet.

Precedence: the institution's own server (``institution_server``) first,
then the portal's list (``recommended_servers``); else joinmastodon.org's
list for the page's language, as last fetched (`ServerList`, refreshed in
the background every ``servers_list_ttl_hours`` from ``servers_list_url``);
else the list shipped in ``portal/data/servers.json`` (chosen by hand from
joinmastodon.org's list, with its date).

Pages only read the database: when the list is stale they queue a refresh
(`hirondelle.portal.tasks.refresh_server_list`) and show what they have.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hirondelle.config import get_settings
from hirondelle.networks import joinmastodon
from hirondelle.networks.errors import NetworkError
from hirondelle.portal.models import ServerList

log = logging.getLogger(__name__)

__all__ = [
    "ListOrigin",
    "RefreshResult",
    "Server",
    "list_origin",
    "page_languages",
    "refresh_servers",
    "request_refresh",
    "shipped_list",
    "suggested_servers",
]

DATA = Path(__file__).resolve().parent.parent / "data" / "servers.json"
#: a failed fetch is not tried again by pages before this long
RETRY_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class Server:
    domain: str
    about: str = ""
    institution: bool = False

    @property
    def signup_url(self) -> str:
        return f"https://{self.domain}/auth/sign_up"


@dataclass(frozen=True)
class ListOrigin:
    """Where the joinmastodon part of the suggestions comes from, and when."""

    checked: date
    source: str
    fetched: bool  # True: fetched by this site; False: shipped with Hirondelle


@dataclass(frozen=True)
class RefreshResult:
    language: str
    count: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@cache
def shipped_list() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def page_languages() -> list[str]:
    """The languages pages are written in: one list per language."""
    return [code for code, _name in django_settings.LANGUAGES]


def _clean(domain: str) -> str:
    domain = domain.strip().lower()
    for prefix in ("https://", "http://"):
        domain = domain.removeprefix(prefix)
    return domain.split("/", 1)[0]


def _ttl() -> timedelta:
    return timedelta(hours=get_settings().servers_list_ttl_hours)


def _fetched(language: str) -> ServerList | None:
    """The last good fetched list for `language`, whatever its age."""
    if not get_settings().servers_list_url:
        return None
    row = ServerList.objects.filter(language=language, fetched_at__isnull=False).first()
    if row is None or not isinstance(row.servers, list) or not row.servers:
        return None
    return row


def _from_cache(row: ServerList) -> list[Server]:
    out = []
    for item in row.servers:
        # Checked when fetched; checked again here, since a database can be edited.
        domain = joinmastodon.valid_domain(item.get("domain") if isinstance(item, dict) else None)
        if domain:
            out.append(Server(domain, joinmastodon.clean_text(item.get("description"))))
    return out


def suggested_servers(language: str) -> list[Server]:
    settings = get_settings()
    language = (language or "fr")[:2]
    out: list[Server] = []
    if settings.institution_server:
        out.append(Server(_clean(settings.institution_server), settings.institution_name, True))
    if settings.recommended_servers:
        out += [Server(_clean(d)) for d in settings.recommended_servers if d.strip()]
    else:
        row = _fetched(language)
        listed = _from_cache(row) if row is not None else []
        if listed:
            out += listed
        else:
            data = shipped_list()["servers"]
            for item in data.get(language, data["en"]):
                about = item.get("about", {})
                out.append(Server(item["domain"], about.get(language) or about.get("en", "")))
    seen: set[str] = set()
    unique = []
    for server in out:
        if server.domain and server.domain not in seen:
            seen.add(server.domain)
            unique.append(server)
    return unique


def list_origin(language: str) -> ListOrigin:
    """Where the suggested list for `language` comes from (for the page's note)."""
    row = _fetched((language or "fr")[:2])
    if row is not None and row.fetched_at is not None and _from_cache(row):
        return ListOrigin(timezone.localdate(row.fetched_at), row.source, True)
    data = shipped_list()
    return ListOrigin(date.fromisoformat(data["checked"]), data["source"], False)


def refresh_servers(languages: list[str] | None = None) -> list[RefreshResult]:
    """Fetch the list for each language now (the task and the CLI call this).

    A failure keeps the last good list and records why; it never raises for
    what the remote side did."""
    url = get_settings().servers_list_url
    results = []
    for language in languages or page_languages():
        if not url:
            results.append(RefreshResult(language, error="no list address is set"))
            continue
        now = timezone.now()
        try:
            servers = joinmastodon.fetch_servers(url, language)
        except NetworkError as exc:
            log.info("server list for %s not refreshed: %s", language, exc)
            ServerList.objects.update_or_create(
                language=language,
                defaults={"attempted_at": now, "error": str(exc)[:500]},
            )
            results.append(RefreshResult(language, error=str(exc)))
            continue
        ServerList.objects.update_or_create(
            language=language,
            defaults={
                "servers": [s.as_dict() for s in servers],
                "source": url[:500],
                "fetched_at": now,
                "attempted_at": now,
                "error": "",
            },
        )
        results.append(RefreshResult(language, count=len(servers)))
    return results


def request_refresh(language: str, *, now: datetime | None = None) -> bool:
    """Queue a background refresh when `language`'s list is stale; never waits.

    At most one request per language per `RETRY_AFTER` (the claim is one
    conditional UPDATE, so concurrent pages queue one task)."""
    settings = get_settings()
    if not settings.servers_list_url or settings.recommended_servers:
        return False
    language = (language or "fr")[:2]
    if language not in page_languages():
        return False
    now = now or timezone.now()
    row = ServerList.objects.filter(language=language).first()
    if row is None:
        row, _ = ServerList.objects.get_or_create(language=language)
    stale = row.fetched_at is None or row.fetched_at < now - _ttl()
    if not stale or (row.attempted_at is not None and row.attempted_at >= now - RETRY_AFTER):
        return False  # a read only: most pages write nothing
    claimed = (
        ServerList.objects.filter(language=language)
        .filter(Q(fetched_at__isnull=True) | Q(fetched_at__lt=now - _ttl()))
        .filter(Q(attempted_at__isnull=True) | Q(attempted_at__lt=now - RETRY_AFTER))
        .update(attempted_at=now)
    )
    if not claimed:
        return False
    from hirondelle.portal.tasks import refresh_server_list

    transaction.on_commit(lambda: refresh_server_list.enqueue([language]))
    return True
