"""Bluesky on the institution's own PDS: accounts, claims, verification records, packs.

One official at a time, each step saved before the next, so a run killed at
any moment resumes without creating anything twice:

1. the institution's own account (it signs the verification records);
2. per official: adopt an existing handle, or create an account (invite code,
   work e-mail, service-domain handle, a random password kept encrypted until
   the official claims the account, their recovery key) and write its profile;
3. one `app.bsky.graph.verification` record per official, written by the
   institution's account under a record key derived from the official's DID,
   rewritten when the handle or display name it names no longer matches;
4. starter packs (one per group, ≤150 people) and one curated list of everyone.

A dry run goes through the very same code with a PDS client that performs
reads and only records writes, inside a transaction that is rolled back: what
it prints is exactly what a real run would call.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from django.db import transaction

from hirondelle.institutions.models import Institution, Official, Pack, PackMember, Server
from hirondelle.institutions.services import audit
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.networks.bluesky.tid import tid_for
from hirondelle.networks.institution import handles
from hirondelle.networks.institution.pds import (
    APPLY_WRITES_MAX,
    CREATE_ACCOUNT_PER_5MIN,
    RELAY_NEW_HOST_ACCOUNTS,
    WRITE_POINTS_PER_HOUR,
    PdsClient,
    PdsError,
    Session,
    random_password,
)

__all__ = [
    "PACK_MAX",
    "ProvisionReport",
    "budget_warnings",
    "claim",
    "detect_claims",
    "invite",
    "pds_client",
    "provision",
    "refresh_verifications",
]

PACK_MAX = 150
VERIFICATION = "app.bsky.graph.verification"
LIST = "app.bsky.graph.list"
LISTITEM = "app.bsky.graph.listitem"
STARTERPACK = "app.bsky.graph.starterpack"
PROFILE = "app.bsky.actor.profile"
RAISE_HOW = (
    "ask Bluesky to raise it: open a 'Relay throttle reset request' issue at "
    "https://github.com/bluesky-social/pds/issues with your PDS hostname and the number "
    "of accounts (earlier requests: #359, #365, #374)"
)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class DryRunPds(PdsClient):
    """Reads go to the PDS; every write is recorded in `calls` and answered with a stand-in."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.calls: list[str] = []
        self._n = 0

    def _call(self, method, nsid, *, json=None, params=None, headers=None):  # type: ignore[override]
        if method == "GET" and "dryrun" in str(params or {}):
            return {"records": []}  # a repository the dry run only pretended to create
        if method == "GET":
            return super()._call(method, nsid, json=json, params=params, headers=headers)
        self.requests[nsid] += 1
        self._n += 1
        self.calls.append(f"POST {nsid} {_describe(nsid, json or {})}")
        if nsid == "com.atproto.server.createInviteCodes":
            return {
                "codes": [{"codes": [f"dry-run-{self._n}-{i}" for i in range(json["codeCount"])]}]
            }
        if nsid in ("com.atproto.server.createAccount", "com.atproto.server.createSession"):
            handle = (json or {}).get("handle") or (json or {}).get("identifier", "")
            did = handle if handle.startswith("did:") else f"did:plc:dryrun{self._n}"
            return {"did": did, "handle": handle, "accessJwt": "dry-run"}
        if nsid == "com.atproto.repo.applyWrites":
            return {
                "results": [
                    {"uri": f"at://{json['repo']}/{w['collection']}/{w.get('rkey', '')}"}
                    for w in json["writes"]
                ]
            }
        if nsid == "com.atproto.repo.putRecord":
            return {"uri": f"at://{json['repo']}/{json['collection']}/{json['rkey']}"}
        return {}


def _describe(nsid: str, body: dict) -> str:
    """One line per call, without any secret."""
    if nsid == "com.atproto.server.createAccount":
        extra = " recoveryKey" if body.get("recoveryKey") else ""
        return f"handle={body.get('handle')} email={body.get('email')} inviteCode password{extra}"
    if nsid == "com.atproto.server.createInviteCodes":
        return f"codeCount={body.get('codeCount')} useCount=1"
    if nsid == "com.atproto.repo.applyWrites":
        kinds = Counter(
            f"{w['$type'].rsplit('#', 1)[-1]} {w['collection']}" for w in body.get("writes", [])
        )
        return f"repo={body.get('repo')} " + ", ".join(f"{n}× {k}" for k, n in kinds.items())
    if nsid == "com.atproto.repo.putRecord":
        return f"repo={body.get('repo')} {body.get('collection')}/{body.get('rkey')}"
    if nsid == "com.atproto.server.createSession":
        return f"identifier={body.get('identifier')}"
    return " ".join(f"{k}={v}" for k, v in body.items() if "password" not in k.lower())


def pds_client(server: Server, *, dry_run: bool = False, transport=None) -> PdsClient:
    cls = DryRunPds if dry_run else PdsClient
    return cls(
        server.url,
        admin_password=str(server.secret("admin_password")),
        bypass_key=str(server.secret("bypass_key")),
        transport=transport,
    )


@dataclass
class ProvisionReport:
    created: int = 0
    adopted: int = 0
    profiles: int = 0
    verifications_written: int = 0
    verifications_rewritten: int = 0
    pack_items: int = 0
    packs: int = 0
    warnings: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    requests: Counter = field(default_factory=Counter)
    points: Counter = field(default_factory=Counter)

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())


def _server(institution: Institution) -> Server:
    server = institution.server(Server.Kind.PDS)
    if server is None:
        raise InstitutionError(
            f"{institution.slug} has no PDS: add it with "
            f"`hirondelle institution server {institution.slug} pds URL .HANDLE-DOMAIN "
            "--admin-password …`."
        )
    if not server.secret("admin_password"):
        raise InstitutionError(
            "The PDS admin password is missing (PDS_ADMIN_PASSWORD in the PDS's pds.env)."
        )
    return server


def budget_warnings(institution: Institution) -> list[str]:
    """What the run will cost against the PDS's and the relay's limits, said before it starts."""
    server = _server(institution)
    officials = list(institution.officials.all())
    to_create = [o for o in officials if not o.bluesky_did and not o.existing_bluesky]
    on_bluesky = [o for o in officials if o.bluesky_did or o.existing_bluesky]
    hosted = len([o for o in officials if o.bluesky_did and not o.existing_bluesky]) + len(
        to_create
    )
    warnings = []
    bypass = bool(server.secret("bypass_key"))
    if len(to_create) > CREATE_ACCOUNT_PER_5MIN and not bypass:
        minutes = 5 * math.ceil(len(to_create) / CREATE_ACCOUNT_PER_5MIN)
        warnings.append(
            f"{len(to_create)} accounts to create: the PDS allows {CREATE_ACCOUNT_PER_5MIN} "
            f"every 5 minutes from one address, so about {minutes} minutes. Set "
            "PDS_RATE_LIMIT_BYPASS_KEY on the PDS and give it to Hirondelle (--bypass-key) "
            "to lift it; the run can also be stopped and resumed."
        )
    groups = Counter(o.group for o in on_bluesky + to_create)
    n = len(on_bluesky) + len(to_create)
    packs = sum(math.ceil(c / PACK_MAX) for c in groups.values()) + 1
    points = 3 * n + 3 * 2 * n + 3 * 2 * packs
    if points > WRITE_POINTS_PER_HOUR and not bypass:
        hours = math.ceil(points / WRITE_POINTS_PER_HOUR)
        warnings.append(
            f"The institution's account will write about {points:,} points of records "
            f"(verifications, {packs} packs and lists); the PDS allows "
            f"{WRITE_POINTS_PER_HOUR:,} an hour per account: about {hours} hours, resumed "
            "automatically run after run, or set PDS_RATE_LIMIT_BYPASS_KEY."
        )
    from hirondelle.institutions.services.invites import invite_warning, to_invite

    slow = invite_warning(institution, len(to_create) + to_invite(institution).count())
    if slow:
        warnings.append(slow)
    if hosted + 1 > RELAY_NEW_HOST_ACCOUNTS:
        warnings.append(
            f"{hosted + 1} accounts will live on this PDS: the Bluesky relay carries only "
            f"{RELAY_NEW_HOST_ACCOUNTS} active accounts from a new PDS, the others stay "
            f"invisible in the app until the limit is raised; {RAISE_HOW}."
        )
    return warnings


# -- the run -------------------------------------------------------------------------


@dataclass
class _Run:
    institution: Institution
    server: Server
    pds: PdsClient
    report: ProvisionReport
    user: Any
    dry_run: bool
    sessions: dict[str, Session] = field(default_factory=dict)
    invites: list[str] = field(default_factory=list)

    def invite_code(self, wanted: int) -> str:
        if not self.invites:
            self.invites = self.pds.create_invite_codes(max(1, min(wanted, 100)))
        return self.invites.pop()

    def log(self, obj, message: str) -> None:
        audit.record(obj, message, user=self.user)


def provision(
    institution: Institution,
    *,
    dry_run: bool = False,
    user=None,
    transport: httpx.BaseTransport | None = None,
    packs: bool = True,
) -> ProvisionReport:
    """Adopt or create every official's account, verify them, build the packs; resumable."""
    server = _server(institution)
    pds = pds_client(server, dry_run=dry_run, transport=transport)
    report = ProvisionReport(warnings=budget_warnings(institution))
    run = _Run(institution, server, pds, report, user, dry_run)
    try:
        if dry_run:
            with transaction.atomic():
                _steps(run, packs)
                transaction.set_rollback(True)
            report.calls = list(pds.calls)  # type: ignore[attr-defined]
        else:
            _steps(run, packs)
    finally:
        report.requests = pds.requests
        report.points = pds.points
        pds.close()
    return report


def _steps(run: _Run, packs: bool) -> None:
    own = _institution_account(run)
    officials = list(run.institution.officials.order_by("pk"))
    to_create = sum(1 for o in officials if o.bluesky_state == Official.Bluesky.PENDING)
    for official in officials:
        _official(run, official, to_create)
    _verify(run, own, officials)
    if packs:
        _packs(run, own, officials)


def _institution_account(run: _Run) -> Session:
    """The institution's own account on its PDS: created once, its password kept encrypted."""
    account = dict(run.server.secret("account", {}) or {})
    domain = run.server.domain
    if not account.get("password"):
        label = handles.service_label(run.institution.slug)
        account = {
            "handle": label + domain,
            "email": f"{label}@{domain.lstrip('.')}",
            "password": random_password(),
        }
        run.server.credentials = {**run.server.credentials, "account": account}
        run.server.save(update_fields=["credentials"])
    if not account.get("did"):
        email = account.get("email") or f"bluesky@{domain.lstrip('.')}"
        try:
            session = run.pds.create_account(
                email=email,
                handle=account["handle"],
                password=account["password"],
                invite_code=run.invite_code(1),
            )
        except PdsError as exc:
            did = run.pds.resolve_handle(account["handle"])
            info = run.pds.account_info(did) if did else {}
            if (info.get("email") or "").lower() != email.lower():
                raise InstitutionError(
                    f"The institution's account {account['handle']} cannot be created "
                    f"({exc.message}): give its handle and password to "
                    "`hirondelle institution server … --account-handle … --account-password …`."
                ) from exc
            session = run.pds.create_session(did, account["password"])
        account["did"] = session.did
        run.server.credentials = {**run.server.credentials, "account": account}
        run.server.save(update_fields=["credentials"])
        run.log(run.server, f"institution account {account['handle']} is {session.did}")
        return session
    return run.pds.create_session(account["did"], account["password"])


def _taken(run: _Run, label: str) -> bool:
    handle = label + run.server.domain
    if Official.objects.filter(institution=run.institution, bluesky_handle=handle).exists():
        return True
    account = run.server.secret("account", {}) or {}
    return handle == account.get("handle") or run.pds.resolve_handle(handle) is not None


def _official(run: _Run, official: Official, to_create: int) -> None:
    inst = run.institution
    if official.bluesky_state == Official.Bluesky.PENDING and official.existing_bluesky:
        did = run.pds.resolve_handle(official.existing_bluesky)
        if did is None:
            run.report.warnings.append(
                f"{official.name}: {official.existing_bluesky} does not resolve; left to do."
            )
            return
        official.bluesky_did = did
        official.bluesky_handle = official.existing_bluesky
        if inst.handle_domain:
            official.second_handle = (
                f"{handles.full_name_label(official.name)}.{inst.handle_domain}"
            )
        official.bluesky_state = Official.Bluesky.ADOPTED
        official.save()
        run.report.adopted += 1
        run.log(official, f"adopted Bluesky account {official.bluesky_handle} ({did})")
        return
    if official.bluesky_state == Official.Bluesky.PENDING:
        label = handles.service_label(official.name, lambda lab: _taken(run, lab))
        official.bluesky_handle = label + run.server.domain
        if inst.handle_domain:
            official.second_handle = (
                f"{handles.full_name_label(official.name)}.{inst.handle_domain}"
            )
        official.invite_code = run.invite_code(to_create)
        official.secret = {"password": random_password()}
        official.bluesky_state = Official.Bluesky.CREATING
        official.save()  # saved before the call: a crash after it resumes with the same values
    if official.bluesky_state == Official.Bluesky.CREATING:
        _create(run, official)
    if (
        official.bluesky_state in (Official.Bluesky.CREATED, Official.Bluesky.INVITED)
        and not official.profile_written
    ):
        session = run.sessions.get(official.bluesky_did) or run.pds.create_session(
            official.bluesky_did, official.secret["password"]
        )
        record = {
            "$type": PROFILE,
            "displayName": official.name[:64],
            "description": " · ".join(x for x in (official.group, inst.name) if x)[:256],
        }
        run.pds.put_record(session, PROFILE, "self", record)
        official.profile_written = True
        official.save(update_fields=["profile_written", "updated_at"])
        run.report.profiles += 1
        run.log(official, "Bluesky profile written")


def _create(run: _Run, official: Official) -> None:
    password = official.secret["password"]
    try:
        session = run.pds.create_account(
            email=official.email,
            handle=official.bluesky_handle,
            password=password,
            invite_code=official.invite_code,
            recovery_key=official.recovery_key,
        )
    except PdsError as exc:
        # Resuming after a crash: the account may exist already, made by our own call.
        did = run.pds.resolve_handle(official.bluesky_handle)
        if did is None:
            if exc.error == "InvalidInviteCode":
                official.invite_code = run.invite_code(1)
                official.save(update_fields=["invite_code", "updated_at"])
            raise InstitutionError(f"{official.name}: {exc.message}") from exc
        info = run.pds.account_info(did)
        if (info.get("email") or "").lower() != official.email.lower():
            official.bluesky_state = Official.Bluesky.PENDING
            official.bluesky_handle = ""
            official.save()
            run.report.warnings.append(
                f"{official.name}: the handle was taken by someone else; a new one is chosen "
                "on the next run."
            )
            return
        session = run.pds.create_session(did, password)
    run.sessions[session.did] = session
    official.bluesky_did = session.did
    official.bluesky_state = Official.Bluesky.CREATED
    official.save(update_fields=["bluesky_did", "bluesky_state", "updated_at"])
    run.report.created += 1
    run.log(official, f"Bluesky account {official.bluesky_handle} created ({session.did})")


# -- verification records ----------------------------------------------------------


def _verification_record(official: Official) -> dict:
    return {
        "$type": VERIFICATION,
        "subject": official.bluesky_did,
        "handle": official.bluesky_handle,
        "displayName": official.name[:64],
        "createdAt": _now(),
    }


def _existing_rkeys(run: _Run, own: Session, collection: str) -> set[str]:
    return {r["uri"].rsplit("/", 1)[-1] for r in run.pds.list_records(own.did, collection)}


def _write_batches(run: _Run, own: Session, writes: list[tuple[dict, Any]]) -> None:
    """Apply (write, on_done) pairs 200 at a time; each batch is saved before the next."""
    for start in range(0, len(writes), APPLY_WRITES_MAX):
        batch = writes[start : start + APPLY_WRITES_MAX]
        run.pds.apply_writes(own, [w for w, _ in batch])
        with transaction.atomic():
            for _, done in batch:
                done()


def _verify(run: _Run, own: Session, officials: list[Official]) -> None:
    existing = _existing_rkeys(run, own, VERIFICATION)
    writes: list[tuple[dict, Any]] = []
    for official in officials:
        if not official.bluesky_did:
            continue
        rkey = tid_for(official.bluesky_did, namespace="verification")
        if rkey in existing and official.verification_rkey and official.bluesky_verified:
            continue
        kind = "update" if rkey in existing else "create"
        write = {
            "$type": f"com.atproto.repo.applyWrites#{kind}",
            "collection": VERIFICATION,
            "rkey": rkey,
            "value": _verification_record(official),
        }

        def done(o=official, rkey=rkey, kind=kind):
            o.verification_rkey = rkey
            o.verified_handle = o.bluesky_handle
            o.verified_name = o.name
            o.save(update_fields=["verification_rkey", "verified_handle", "verified_name"])
            if kind == "create":
                run.report.verifications_written += 1
            else:
                run.report.verifications_rewritten += 1
            run.log(o, f"verification record {kind}d for {o.bluesky_handle}")

        writes.append((write, done))
    _write_batches(run, own, writes)


def refresh_verifications(
    institution: Institution, *, user=None, transport: httpx.BaseTransport | None = None
) -> ProvisionReport:
    """Read each official's current handle and display name; rewrite records that no longer match.

    The AppView ignores a verification whose handle or display name differs
    from the account's current ones, so this runs after any change (and on a schedule).
    """
    server = _server(institution)
    pds = pds_client(server, transport=transport)
    report = ProvisionReport()
    run = _Run(institution, server, pds, report, user, False)
    try:
        own = _institution_account(run)
        officials = [o for o in institution.officials.order_by("pk") if o.bluesky_did]
        for official in officials:
            repo = pds._call(
                "GET", "com.atproto.repo.describeRepo", params={"repo": official.bluesky_did}
            )
            profile = pds.get_record(official.bluesky_did, PROFILE, "self")
            name = ((profile or {}).get("value") or {}).get("displayName") or official.name
            if repo.get("handle") != official.bluesky_handle or name != official.name:
                official.bluesky_handle = repo.get("handle") or official.bluesky_handle
                official.name = name
                official.save(update_fields=["bluesky_handle", "name", "updated_at"])
        _verify(run, own, officials)
    finally:
        report.requests, report.points = pds.requests, pds.points
        pds.close()
    return report


# -- starter packs and the curated list -------------------------------------------


def _packs(run: _Run, own: Session, officials: list[Official]) -> None:
    inst = run.institution
    members = [o for o in officials if o.bluesky_did]
    by_group: dict[str, list[Official]] = {}
    for o in members:
        by_group.setdefault(o.group, []).append(o)
    wanted: list[tuple[Pack, list[Official]]] = []
    for group, people in sorted(by_group.items()):
        parts = math.ceil(len(people) / PACK_MAX)
        for part in range(1, parts + 1):
            chunk = people[(part - 1) * PACK_MAX : part * PACK_MAX]
            title = group or inst.name
            name = title if parts == 1 else f"{title} ({part}/{parts})"
            wanted.append((_pack(inst, Pack.Kind.STARTER, group, part, name), chunk))
    wanted.append((_pack(inst, Pack.Kind.CURATED, "", 1, inst.name), members))
    lists = _existing_rkeys(run, own, LIST)
    items = _existing_rkeys(run, own, LISTITEM)
    starters = _existing_rkeys(run, own, STARTERPACK)
    writes: list[tuple[dict, Any]] = []
    for pack, people in wanted:
        list_uri = f"at://{own.did}/{LIST}/{pack.list_rkey}"
        if pack.list_rkey not in lists:
            purpose = "referencelist" if pack.kind == Pack.Kind.STARTER else "curatelist"
            writes.append(
                (
                    {
                        "$type": "com.atproto.repo.applyWrites#create",
                        "collection": LIST,
                        "rkey": pack.list_rkey,
                        "value": {
                            "$type": LIST,
                            "purpose": f"app.bsky.graph.defs#{purpose}",
                            "name": _graphemes(pack.name, 64),
                            "description": inst.name,
                            "createdAt": _now(),
                        },
                    },
                    lambda: None,
                )
            )
        for official in people:
            member, _ = PackMember.objects.get_or_create(
                pack=pack,
                official=official,
                defaults={
                    "rkey": tid_for(
                        f"{pack.list_rkey}/{official.bluesky_did}", namespace="listitem"
                    )
                },
            )
            if member.rkey in items:
                continue
            writes.append(
                (
                    {
                        "$type": "com.atproto.repo.applyWrites#create",
                        "collection": LISTITEM,
                        "rkey": member.rkey,
                        "value": {
                            "$type": LISTITEM,
                            "subject": official.bluesky_did,
                            "list": list_uri,
                            "createdAt": _now(),
                        },
                    },
                    lambda m=member: _count_item(run, m),
                )
            )
        if pack.kind == Pack.Kind.STARTER and pack.pack_rkey not in starters:
            writes.append(
                (
                    {
                        "$type": "com.atproto.repo.applyWrites#create",
                        "collection": STARTERPACK,
                        "rkey": pack.pack_rkey,
                        "value": {
                            "$type": STARTERPACK,
                            "name": _graphemes(pack.name, 50),
                            "description": inst.name,
                            "list": list_uri,
                            "createdAt": _now(),
                        },
                    },
                    lambda p=pack: _count_pack(run, p),
                )
            )
    _write_batches(run, own, writes)


def _count_item(run: _Run, member: PackMember) -> None:
    member.written = True
    member.save(update_fields=["written"])
    run.report.pack_items += 1


def _count_pack(run: _Run, pack: Pack) -> None:
    pack.written = True
    pack.save(update_fields=["written"])
    run.report.packs += 1
    run.log(run.institution, f"starter pack {pack.name!r} written")


def _pack(inst: Institution, kind: str, group: str, part: int, name: str) -> Pack:
    key = f"{inst.slug}/{kind}/{group}/{part}"
    pack, _ = Pack.objects.get_or_create(
        institution=inst,
        kind=kind,
        group=group,
        part=part,
        defaults={
            "name": name,
            "list_rkey": tid_for(key, namespace="list"),
            "pack_rkey": tid_for(key, namespace="starterpack") if kind == Pack.Kind.STARTER else "",
        },
    )
    return pack


def _graphemes(text: str, limit: int) -> str:
    """At most `limit` graphemes (the lexicon's maxGraphemes), cut on a cluster boundary."""
    import regex

    clusters = regex.findall(r"\X", text)
    return "".join(clusters[:limit])


# -- claims ------------------------------------------------------------------------


def invite(institution: Institution, *, user=None, transport=None) -> int:
    """Ask the PDS to e-mail each new account's owner a code: their invitation to claim it.

    Sends what the PDS's limit allows now (all of them with the bypass key) and
    returns how many; the rest are queued for the background sender, at the
    PDS's pace.
    """
    from hirondelle.institutions.services import invites

    result = invites.send_due(institution, user=user, transport=transport)
    if result.next_at is not None:
        invites.schedule(institution, result.next_at)
    return result.sent


def claim(official: Official, code: str, new_password: str, *, transport=None) -> None:
    """The official sets their own password with the code the PDS e-mailed them (their consent)."""
    if official.bluesky_state not in (Official.Bluesky.INVITED, Official.Bluesky.CREATED):
        raise InstitutionError("This account is not waiting to be claimed.")
    if len(new_password) < 8:
        raise InstitutionError("Choose a password of at least 8 characters.")
    pds = pds_client(_server(official.institution), transport=transport)
    try:
        pds.reset_password(code, new_password)
    except PdsError as exc:
        raise InstitutionError(
            "The code was not accepted: it may have expired (15 minutes). Ask for a new e-mail."
        ) from exc
    finally:
        pds.close()
    official.bluesky_state = Official.Bluesky.CLAIMED
    official.secret = None  # the password Hirondelle chose is gone for good
    official.save(update_fields=["bluesky_state", "secret", "updated_at"])
    audit.record(official, "Bluesky account claimed by its owner")


def detect_claims(institution: Institution, *, user=None, transport=None) -> int:
    """Notice the officials who set their own password in the Bluesky app (the reset code).

    The password Hirondelle chose then no longer opens the account: the
    official holds it alone, so Hirondelle forgets its copy.
    """
    from hirondelle.networks.errors import AuthExpired

    server = _server(institution)
    found = 0
    with pds_client(server, transport=transport) as pds:
        for official in institution.officials.filter(bluesky_state=Official.Bluesky.INVITED):
            password = (official.secret or {}).get("password")
            if not password:
                continue
            try:
                pds.create_session(official.bluesky_did, password)
            except AuthExpired:
                official.bluesky_state = Official.Bluesky.CLAIMED
                official.secret = None
                official.save(update_fields=["bluesky_state", "secret", "updated_at"])
                audit.record(
                    official, "Bluesky account claimed by its owner (in the app)", user=user
                )
                found += 1
    return found
