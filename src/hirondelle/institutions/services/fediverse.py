"""The fediverse side, on the institution's own GoToSocial or Mastodon server.

Per official, each step saved before the next: register (username from the
name, work e-mail, a random password, the server's invite code), admin
approval, then the profile: display name, a note, and a field pointing at
the institution's rel=me page, which lists every official and links back to
each profile, so Mastodon shows the field as verified. A real server only
accepts the new account's token once the official confirmed their e-mail
(that is their claim); until then the profile step waits for the next run.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import httpx

from hirondelle.institutions.models import Institution, Official, Server
from hirondelle.institutions.services import audit
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.networks.errors import AuthExpired, RateLimited, Refused
from hirondelle.networks.institution import handles
from hirondelle.networks.institution.fediverse import (
    MASTODON_SIGNUPS_PER_30MIN,
    FediverseServer,
    RegistrationRefused,
    signup_reason,
    tootctl_command,
)
from hirondelle.networks.institution.pds import random_password

__all__ = [
    "FediverseReport",
    "budget_warnings",
    "planned_calls",
    "provision",
    "server_client",
    "tootctl_script",
]

FIELD_NAME = "Officiel"


@dataclass
class FediverseReport:
    registered: int = 0
    approved: int = 0
    adopted: int = 0
    profiles: int = 0
    waiting: int = 0
    warnings: list[str] = field(default_factory=list)
    requests: Counter = field(default_factory=Counter)


def _server(institution: Institution) -> Server:
    server = institution.servers.filter(
        kind__in=[Server.Kind.GOTOSOCIAL, Server.Kind.MASTODON]
    ).first()
    if server is None:
        raise InstitutionError(
            f"{institution.slug} has no fediverse server: add it with `hirondelle institution "
            f"server {institution.slug} gotosocial URL DOMAIN --admin-token …`."
        )
    if not server.secret("admin_token"):
        raise InstitutionError("The server's admin token is missing (--admin-token).")
    return server


def server_client(server: Server, *, transport: httpx.BaseTransport | None = None):
    return FediverseServer(
        server.url,
        server.kind,
        admin_token=str(server.secret("admin_token")),
        app_token=str(server.secret("app_token")),
        transport=transport,
    )


def username_for(official: Official) -> str:
    """Mastodon usernames take letters, digits and underscores."""
    return handles.service_label(official.name).replace("-", "_")


def budget_warnings(institution: Institution) -> list[str]:
    server = _server(institution)
    todo = institution.officials.filter(
        fediverse_state=Official.Fediverse.PENDING, existing_fediverse=""
    ).count()
    if server.kind == Server.Kind.MASTODON and todo > MASTODON_SIGNUPS_PER_30MIN:
        hours = math.ceil(todo / MASTODON_SIGNUPS_PER_30MIN) / 2
        return [
            f"{todo} accounts to register: Mastodon accepts {MASTODON_SIGNUPS_PER_30MIN} sign-ups "
            f"every 30 minutes from one address (about {hours:g} hours). Faster: run the "
            "commands of `hirondelle institution tootctl` on the server, then run this again "
            "to adopt them."
        ]
    if server.kind == Server.Kind.GOTOSOCIAL and todo > 10:
        return [
            f"{todo} accounts to register: GoToSocial accepts 10 a day by default; set "
            "accounts-registration-daily-limit and accounts-registration-backlog-limit to 0 "
            "in its config.yaml during the roll-out."
        ]
    return []


def _registration_advice(server: Server, official: Official, exc: Exception) -> str:
    """What the operator does when the server will not register an official."""
    institution = official.institution
    head = f"{server.url} refused to register {official.name} ({official.email}): {exc}"
    F = Official.Fediverse
    left = institution.officials.filter(fediverse_state=F.PENDING, existing_fediverse="").count()
    again = (
        "then run `hirondelle institution provision "
        f"{institution.slug}` again (the officials already registered are kept)."
    )
    text = str(exc).lower()
    if isinstance(exc, RegistrationRefused):
        why = (
            "the invite code is wrong, expired or used up"
            if server.secret("invite_code")
            else "registrations are closed and no invite code is set"
        )
        return (
            f"{head}. On the Mastodon server {why}. Create an invite (Preferences › Invite "
            f"people) that never expires, with at least {left} uses, set it with "
            f"`hirondelle institution server {institution.slug} mastodon {server.url} "
            f"{server.domain} --invite-code CODE`, {again}"
        )
    if "registration is not open" in text:
        return (
            f"{head}. Set accounts-registration-open: true in GoToSocial's config.yaml for "
            f"the roll-out (new accounts still wait for approval), restart it, {again}"
        )
    if "sign-ups" in text or "backlog" in text:
        return (
            f"{head}. Set accounts-registration-daily-limit and "
            "accounts-registration-backlog-limit to 0 in GoToSocial's config.yaml for the "
            f"roll-out, restart it, {again}"
        )
    if "taken" in text or "not available" in text:
        return (
            f"{head}. The name or the e-mail is already used on the server by another "
            f"account: fix the roster row (e-mail) or free the name on the server, {again}"
        )
    return f"{head}. Fix this on the server, {again}"


def tootctl_script(institution: Institution) -> str:
    """Shell commands creating every remaining account from the Mastodon server itself."""
    lines = ["#!/bin/sh", "set -e", f"# {institution.name}: accounts to create"]
    for o in institution.officials.filter(
        fediverse_state=Official.Fediverse.PENDING, existing_fediverse=""
    ):
        lines.append(tootctl_command(username_for(o), o.email))
    return "\n".join(lines) + "\n"


def planned_calls(institution: Institution) -> list[str]:
    """The calls a run would make now, one line each (for --dry-run); no secret shown."""
    server = _server(institution)
    F = Official.Fediverse
    calls = []
    for o in institution.officials.order_by("pk"):
        if o.fediverse_state == F.PENDING and o.existing_fediverse:
            continue  # adopted: nothing to call
        username = (o.fediverse_address or f"{username_for(o)}@").split("@")[0]
        if o.fediverse_state == F.PENDING:
            invite = " invite_code" if server.secret("invite_code") else ""
            calls.append(
                f"POST /api/v1/accounts username={username} email={o.email} password{invite}"
            )
        if o.fediverse_state in (F.PENDING, F.REGISTERED):
            calls.append(f"GET /api/v1/admin/accounts username={username}")
            calls.append(f"POST /api/v1/admin/accounts/<id of {username}>/approve")
        if not o.relme_set:
            calls.append(
                f"PATCH /api/v1/accounts/update_credentials ({username}) display_name "
                f"note fields_attributes[0]={FIELD_NAME}: {institution.page_url or '(no page)'}"
            )
    return calls


def provision(
    institution: Institution, *, user=None, transport: httpx.BaseTransport | None = None
) -> FediverseReport:
    server = _server(institution)
    report = FediverseReport(warnings=budget_warnings(institution))
    host = server.domain
    with server_client(server, transport=transport) as fedi:
        try:
            for official in institution.officials.order_by("pk"):
                _one(fedi, server, host, institution, official, report, user)
        finally:
            report.requests = fedi.requests
    return report


def _one(fedi, server, host, institution, official, report, user) -> None:
    F = Official.Fediverse
    if official.fediverse_state == F.PENDING and official.existing_fediverse:
        user_part, _, domain = official.existing_fediverse.partition("@")
        official.fediverse_address = official.existing_fediverse
        official.fediverse_url = f"https://{domain}/@{user_part}"
        official.fediverse_state = F.ADOPTED
        official.save()
        report.adopted += 1
        audit.record(official, f"adopted fediverse account {official.fediverse_address}", user=user)
        return
    if official.fediverse_state == F.PENDING:
        if not (official.fediverse_secret or {}).get("password"):
            username = username_for(official)
            official.fediverse_address = f"{username}@{host}"
            official.fediverse_secret = {"password": random_password()}
            official.save()  # saved before the call: a crash resumes with the same values
        username = official.fediverse_address.split("@")[0]
        try:
            token = fedi.register(
                username=username,
                email=official.email,
                password=official.fediverse_secret["password"],
                invite_code=str(server.secret("invite_code")),
                reason=signup_reason(official.name, official.group, institution.name),
            )
        except RegistrationRefused as exc:
            raise InstitutionError(_registration_advice(server, official, exc)) from exc
        except RateLimited as exc:
            left = institution.officials.filter(
                fediverse_state=F.PENDING, existing_fediverse=""
            ).count()
            raise InstitutionError(
                f"{server.url} accepts no more sign-ups from this address for now "
                f"(Mastodon: {MASTODON_SIGNUPS_PER_30MIN} every 30 minutes); {left} officials "
                f"left, next {official.name} ({official.email}). Run provision again in 30 "
                "minutes, or create the rest on the server with the commands of "
                f"`hirondelle institution tootctl {institution.slug}`, then run provision "
                "again to approve them and point their profiles at the page."
            ) from exc
        except Refused as exc:
            existing = fedi.find_local(username)
            if existing is None or (existing.get("email") or "").lower() not in (
                "",
                official.email.lower(),
            ):
                raise InstitutionError(_registration_advice(server, official, exc)) from exc
            token = ""  # made by an interrupted run: approved below, token after the claim
            report.warnings.append(
                f"{official.fediverse_address} already existed on the server (made with "
                "tootctl, or by a run stopped before it kept the account's token): the "
                f"official sets the profile field ({FIELD_NAME}: {institution.page_url}) "
                "after confirming their e-mail."
            )
        official.fediverse_secret = {**official.fediverse_secret, "token": token}
        official.fediverse_state = F.REGISTERED
        official.save()
        report.registered += 1
        audit.record(official, f"registered {official.fediverse_address}", user=user)
    if official.fediverse_state == F.REGISTERED:
        username = official.fediverse_address.split("@")[0]
        try:
            account = fedi.find_local(username)
            if account is not None and not account.get("approved", False):
                fedi.approve(str(account["id"]))
        except AuthExpired as exc:
            raise InstitutionError(
                f"{server.url} did not let the admin token approve {official.name}'s "
                f"account ({exc}). Use the token of an account with the Admin role "
                f"(`hirondelle institution server {institution.slug} {server.kind} "
                f"{server.url} {server.domain} --admin-token …`), then run provision again."
            ) from exc
        if account is None:
            raise InstitutionError(f"{official.fediverse_address} is not on {server.url}.")
        official.fediverse_id = str(account["id"])
        url = (account.get("account") or {}).get("url") or f"https://{host}/@{username}"
        official.fediverse_url = url
        official.fediverse_state = F.APPROVED
        official.save()
        report.approved += 1
        audit.record(official, f"approved {official.fediverse_address}", user=user)
    if official.fediverse_state in (F.APPROVED, F.CLAIMED) and not official.relme_set:
        token = (official.fediverse_secret or {}).get("token", "")
        if not token or not institution.page_url:
            report.waiting += 1
            return
        try:
            fedi.update_profile(
                token,
                display_name=official.name,
                note=" · ".join(x for x in (official.group, institution.name) if x),
                fields=[(FIELD_NAME, institution.page_url)],
            )
        except AuthExpired:
            report.waiting += 1  # the e-mail is not confirmed yet: next run
            return
        official.relme_set = True
        official.fediverse_state = F.CLAIMED
        official.save()
        report.profiles += 1
        audit.record(official, "profile field set to the verification page", user=user)
