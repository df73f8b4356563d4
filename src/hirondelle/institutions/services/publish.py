"""What an institution publishes: the rel=me page, the importer CSV, the directory's links."""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from hirondelle.identity.models import Consent, Evidence
from hirondelle.identity.services.directory import LinkRow, MergeStats, merge_links
from hirondelle.identity.services.errors import InvalidLink
from hirondelle.institutions.models import Institution, Official
from hirondelle.institutions.services import audit
from hirondelle.networks.institution import relme

__all__ = ["importer_csv", "publish_links", "relme_entries", "relme_page", "verify_relme"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def relme_entries(institution: Institution) -> list[relme.RelMeEntry]:
    return [
        relme.RelMeEntry(
            name=o.name,
            group=o.group,
            profile_url=o.fediverse_url,
            address=f"@{o.fediverse_address}",
            bluesky_handle=o.bluesky_handle if o.bluesky_did else "",
        )
        for o in institution.officials.exclude(fediverse_url="").order_by("name", "pk")
    ]


def relme_page(institution: Institution) -> str:
    """The static page (served by Hirondelle, or copied to the institution's site)."""
    return relme.render_page(
        f"{institution.name} : comptes officiels",
        f"Les adresses officielles des membres de {institution.name}. "
        "Chaque lien ci-dessous est vérifié par le serveur qui l'héberge (rel=me).",
        relme_entries(institution),
    )


def verify_relme(institution: Institution, *, transport=None, user=None) -> int:
    """Run Mastodon's own check for each official; returns how many pass."""
    passed = 0
    for o in institution.officials.exclude(fediverse_url=""):
        ok = relme.verify_link(institution.page_url, o.fediverse_url, transport=transport)
        if ok != o.relme_verified:
            o.relme_verified = ok
            o.save(update_fields=["relme_verified", "updated_at"])
        passed += ok
    audit.record(institution, f"rel=me page checked: {passed} profiles verified", user=user)
    return passed


def _cell(value: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula: quote it."""
    return "'" + value if value.startswith(_FORMULA) else value


def importer_csv(institution: Institution) -> str:
    """Mastodon's "following" import file: every official's fediverse address."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Account address", "Show boosts", "Notify on new posts", "Languages"])
    for address in (
        institution.officials.exclude(fediverse_address="")
        .order_by("name", "pk")
        .values_list("fediverse_address", flat=True)
    ):
        writer.writerow([_cell(address.removeprefix("@")), "true", "false", ""])
    return out.getvalue()


def publish_links(institution: Institution, *, user=None) -> MergeStats:
    """Every official's new addresses into the directory at `roster` strength, followable."""
    rows = []
    now = timezone.now()
    asserted_by = f"roster: {institution.name}"
    for o in institution.officials.all():
        pairs = []
        if o.bluesky_did:
            pairs.append(("bluesky", o.bluesky_handle, o.bluesky_did))
        if o.fediverse_address and o.fediverse_state in (
            Official.Fediverse.APPROVED,
            Official.Fediverse.CLAIMED,
            Official.Fediverse.ADOPTED,
        ):
            pairs.append(("mastodon", o.fediverse_address, ""))
        for network, handle, uri in pairs:
            try:
                rows.append(
                    LinkRow.make(
                        o.x_id_value,
                        network,
                        handle,
                        uri,
                        evidence=Evidence.ROSTER,
                        asserted_by=asserted_by,
                        asserted_at=now,
                        x_username=o.x_username,
                        consent=(True, True, False),
                    )
                )
            except InvalidLink:
                continue
    stats = merge_links(rows, consent_source=Consent.Source.ROSTER)
    institution.officials.filter(
        pk__in=[o.pk for o in institution.officials.all() if o.bluesky_did or o.fediverse_address]
    ).update(links_published=True)
    audit.record(
        institution,
        f"directory: {stats.created} links added, {stats.strengthened} strengthened",
        user=user,
    )
    return stats
