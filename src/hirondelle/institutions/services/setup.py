"""Declaring an institution and its servers, with their admin credentials encrypted."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction

from hirondelle.institutions.models import Institution, Server
from hirondelle.institutions.services import audit
from hirondelle.institutions.services.errors import InstitutionError

__all__ = ["add_institution", "set_server"]


def add_institution(
    slug: str, name: str, *, handle_domain: str = "", page_url: str = "", user=None
) -> Institution:
    if page_url and urlsplit(page_url).scheme != "https":
        raise InstitutionError(
            f"{page_url} must start with https://: Mastodon only verifies https links."
        )
    with transaction.atomic():
        institution, created = Institution.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "handle_domain": handle_domain.strip().lstrip(".").lower(),
                "page_url": page_url,
            },
        )
        audit.record(
            institution, "institution created" if created else "institution updated", user=user
        )
    return institution


def set_server(
    institution: Institution,
    kind: str,
    url: str,
    domain: str,
    *,
    credentials: dict | None = None,
    user=None,
) -> Server:
    """Add or update a server; credentials given are merged over the stored ones."""
    if kind not in Server.Kind.values:
        raise InstitutionError(
            f"Unknown server kind {kind!r}: use {', '.join(Server.Kind.values)}."
        )
    if urlsplit(url).scheme not in ("http", "https"):
        raise InstitutionError(f"{url} is not a server address (https://…).")
    domain = domain.strip().lower()
    if kind == Server.Kind.PDS and not domain.startswith("."):
        domain = "." + domain
    with transaction.atomic():
        server = Server.objects.filter(institution=institution, kind=kind).first()
        merged = dict(server.credentials or {}) if server else {}
        merged.update({k: v for k, v in (credentials or {}).items() if v})
        server, created = Server.objects.update_or_create(
            institution=institution,
            kind=kind,
            defaults={"url": url.rstrip("/"), "domain": domain, "credentials": merged},
        )
        names = ", ".join(sorted(k for k, v in (credentials or {}).items() if v)) or "none"
        audit.record(
            server,
            f"{kind} server {'added' if created else 'updated'} at {url}; credentials set: {names}",
            user=user,
        )
    return server
