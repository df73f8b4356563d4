"""Switch each official to their full-name handle once it resolves to their DID.

A service-domain handle is one label of 3–18 characters; the full name lives on
the institution's own domain (`jean-dupont.deputes.example.fr`), served by
Hirondelle at `/.well-known/atproto-did` for that host, or by a DNS TXT record
the institution publishes (`handles_by_dns`). Per official, resumable and
idempotent:

1. check from outside that the handle answers the official's DID (HTTPS
   through the guard, or DNS); if not, say what to do and try again next run;
2. ask the PDS to switch (admin `updateAccountHandle`: it resolves the handle
   itself, then updates the PLC directory), then save it;
3. rewrite the verification record, which names the handle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hirondelle.institutions.models import Institution, Official, Server
from hirondelle.institutions.services import audit
from hirondelle.institutions.services import bluesky as bsky
from hirondelle.networks import guard
from hirondelle.networks.errors import NetworkError, NotFound
from hirondelle.networks.institution.handle_check import (
    TxtLookup,
    dns_did,
    system_txt_lookup,
    well_known_did,
)
from hirondelle.networks.institution.handles import dns_txt_record
from hirondelle.networks.institution.pds import PdsError

__all__ = ["RETRY_EVERY", "RETRY_FOR", "SwitchReport", "schedule", "switch_handles"]

#: the background task tries the waiting handles again this often, for this long
RETRY_EVERY = timedelta(hours=1)
RETRY_FOR = timedelta(days=14)


@dataclass
class SwitchReport:
    switched: list[str] = field(default_factory=list)
    already: int = 0
    waiting: dict[str, str] = field(default_factory=dict)
    verifications_rewritten: int = 0


def _not_yet(institution: Institution, official: Official, how: str) -> str:
    handle, did = official.second_handle, official.bluesky_did
    if institution.handles_by_dns:
        return (
            f"{handle} does not resolve to {did} yet ({how}). Publish this DNS record: "
            f"{dns_txt_record(handle, did)} — DNS can take up to a day to be seen "
            "everywhere; Hirondelle tries again on the next run."
        )
    return (
        f"{handle} does not resolve to {did} yet ({how}). Point {handle} (or a wildcard "
        f"*.{institution.handle_domain}) at this Hirondelle server with an HTTPS "
        f"certificate, and add {institution.handle_domain} to HIRONDELLE_ALLOWED_HOSTS; "
        "DNS can take hours to spread; Hirondelle tries again on the next run."
    )


def _outside_check(
    institution: Institution,
    official: Official,
    client: httpx.Client,
    txt_lookup: TxtLookup,
    scheme: str,
) -> str:
    """ "" when the handle resolves to the DID from outside, else what is wrong."""
    handle, did = official.second_handle, official.bluesky_did
    if institution.handles_by_dns:
        found = dns_did(handle, txt_lookup)
        where = f"DNS TXT _atproto.{handle}"
    else:
        from django.conf import settings
        from django.http.request import validate_host

        if not validate_host(handle, settings.ALLOWED_HOSTS):
            return (
                f"Hirondelle itself refuses requests for {handle}: add "
                f".{institution.handle_domain} to HIRONDELLE_ALLOWED_HOSTS, restart it, "
                "then run `hirondelle institution handles` again."
            )
        found = well_known_did(client, handle, scheme=scheme)
        where = f"https://{handle}/.well-known/atproto-did"
    if found == did:
        return ""
    return _not_yet(
        institution, official, f"{where} answers {found}" if found else f"{where}: no answer"
    )


def switch_handles(
    institution: Institution,
    *,
    user=None,
    transport: httpx.BaseTransport | None = None,
    policy: guard.Policy | None = None,
    txt_lookup: TxtLookup = system_txt_lookup,
    scheme: str = "https",
) -> SwitchReport:
    """Give every official whose full-name handle resolves that handle; say why not for others.

    `policy`, `txt_lookup` and `scheme` exist for tests (a resolver that sends the
    handle's host to a local server; no DNS server runs there)."""
    server = bsky._server(institution)
    report = SwitchReport()
    officials = list(
        institution.officials.exclude(second_handle="").exclude(bluesky_did="").order_by("pk")
    )
    changed: list[Official] = []
    client = guard.httpx_client(policy=policy, timeout=15.0, follow_redirects=False)
    pds = bsky.pds_client(server, transport=transport)
    try:
        for official in officials:
            if official.second_handle_at and official.bluesky_handle == official.second_handle:
                report.already += 1
                continue
            problem = _switch_one(institution, official, pds, client, txt_lookup, scheme, user)
            if problem:
                report.waiting[official.name] = problem
            else:
                report.switched.append(official.second_handle)
                changed.append(official)
        if changed:
            run = bsky._Run(institution, server, pds, bsky.ProvisionReport(), user, False)
            own = bsky._institution_account(run)
            bsky._verify(run, own, changed)
            report.verifications_rewritten = (
                run.report.verifications_rewritten + run.report.verifications_written
            )
    finally:
        pds.close()
        client.close()
    return report


def _switch_one(institution, official, pds, client, txt_lookup, scheme, user) -> str:
    handle = official.second_handle
    if pds.current_handle(official.bluesky_did) != handle:  # not done by an interrupted run
        problem = _outside_check(institution, official, client, txt_lookup, scheme)
        if not problem:
            problem = _ask_pds(institution, official, pds)
        if problem:
            if official.second_handle_problem != problem[:500]:
                official.second_handle_problem = problem[:500]
                official.save(update_fields=["second_handle_problem", "updated_at"])
            return problem
    official.bluesky_handle = handle
    official.second_handle_at = timezone.now()
    official.second_handle_problem = ""
    official.save(
        update_fields=["bluesky_handle", "second_handle_at", "second_handle_problem", "updated_at"]
    )
    audit.record(official, f"Bluesky handle switched to {handle}", user=user)
    return ""


def _ask_pds(institution: Institution, official: Official, pds) -> str:
    """Switch on the institution's PDS; "" on success, else what to do.

    The PDS resolves the handle itself before switching (its own DNS and HTTPS
    lookups, which may see an older DNS answer than ours)."""
    try:
        pds.account_info(official.bluesky_did)
    except NotFound:
        # Adopted, hosted elsewhere: only the account itself can change its handle.
        return (
            f"{official.name}'s account is not hosted on the institution's PDS: they "
            f"switch it themselves in the Bluesky app (Settings → Account → Handle → "
            f"I have my own domain → {official.second_handle})."
        )
    try:
        pds.update_handle(official.bluesky_did, official.second_handle)
    except PdsError as exc:
        if "did not resolve" in exc.message:
            return _not_yet(institution, official, "the PDS does not resolve it yet")
        return f"The PDS refused {official.second_handle}: {exc.message}"
    except NetworkError as exc:
        return f"The PDS could not be reached ({exc}); Hirondelle tries again on the next run."
    return ""


def schedule(institution: Institution, at: datetime | None = None) -> bool:
    """Queue the background retry for `at` (now by default), at most once per server."""
    from hirondelle.institutions import tasks

    at = at or timezone.now()
    stale = timezone.now() - RETRY_EVERY
    updated = (
        Server.objects.filter(institution=institution, kind=Server.Kind.PDS)
        .filter(
            Q(handles_wake_at__isnull=True)
            | Q(handles_wake_at__gt=at)
            | Q(handles_wake_at__lt=stale)
        )
        .update(handles_wake_at=at)
    )
    if updated:
        transaction.on_commit(
            lambda: tasks.switch_full_name_handles.using(run_after=at).enqueue(institution.pk)
        )
    return bool(updated)
