"""Read an institution's Bluesky records back the way citizens see them: through an AppView.

The PDS holding a record says nothing about what the app shows. So after
provisioning, verification and packs are read back from the AppView
(`app.bsky.actor.getProfiles`, `getStarterPack`, `getList`), polling with a
bound until it has indexed them, and what it shows is saved per official
(`appview_verification`) and per pack (`appview_members`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from hirondelle.config import get_settings
from hirondelle.institutions.models import Institution, Official, Pack, Server
from hirondelle.networks.institution.appview import AppViewClient, verification_of

__all__ = ["AppViewReport", "check_appview"]

TRUST_HOW = (
    "The AppView does not trust {issuer} as a verifier, so it shows none of its "
    "verifications. Bluesky's app trusts a short list of verifiers (a setting on its "
    "side, with no API): ask Bluesky (support, or moderation@blueskyweb.xyz) to make "
    "{handle} a trusted verifier; apps that let people choose their verifiers "
    "(deer.social, Eurosky's trust list) can add it themselves."
)


@dataclass
class AppViewReport:
    issuer_trusted: bool = False
    #: officials by the AppView's verification state: valid / invalid / none
    verification: dict[str, int] = field(default_factory=dict)
    #: officials whose verification is not what the records say it should be
    pending: list[str] = field(default_factory=list)
    packs_seen: int = 0
    packs_missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.pending and not self.packs_missing


def _expected(official: Official) -> str:
    return "valid" if official.bluesky_verified else "invalid"


def check_appview(
    institution: Institution,
    *,
    appview_url: str = "",
    timeout: float = 60.0,
    interval: float = 1.0,
    transport: httpx.BaseTransport | None = None,
) -> AppViewReport:
    """Poll the AppView (at most `timeout` seconds) until it shows every verification
    and pack as written; save what it shows; say what is still missing and why."""
    server = institution.server(Server.Kind.PDS)
    account = (server.secret("account", {}) if server else {}) or {}
    issuer = account.get("did", "")
    report = AppViewReport()
    if not issuer:
        report.warnings.append("The institution's own account does not exist yet: provision first.")
        return report
    officials = list(institution.officials.exclude(bluesky_did="").order_by("pk"))
    # the curated list has no starter-pack record: its items tell whether it was written
    packs = [
        p
        for p in Pack.objects.filter(institution=institution)
        if p.written or p.members.filter(written=True).exists()
    ]
    members = {
        p.pk: set(p.members.filter(written=True).values_list("official__bluesky_did", flat=True))
        for p in packs
    }
    deadline = time.monotonic() + timeout
    url = appview_url or get_settings().bluesky_appview_url
    with AppViewClient(url, transport=transport) as appview:
        while True:
            issuer_view = appview.profiles([issuer]).get(issuer, {})
            trusted = (issuer_view.get("verification") or {}).get("trustedVerifierStatus")
            report.issuer_trusted = trusted == "valid"
            views = appview.profiles(o.bluesky_did for o in officials)
            states: dict[str, str] = {}
            for official in officials:
                view = views.get(official.bluesky_did)
                states[official.bluesky_did] = (
                    verification_of(view, issuer).state if view else "none"
                )
            pending = [
                o.name
                for o in officials
                if report.issuer_trusted and states[o.bluesky_did] != _expected(o)
            ]
            missing: list[str] = []
            seen: dict[int, int] = {}
            for pack in packs:
                if pack.kind == Pack.Kind.STARTER:
                    view = appview.starter_pack(
                        f"at://{issuer}/app.bsky.graph.starterpack/{pack.pack_rkey}"
                    )
                    count = ((view or {}).get("list") or {}).get("listItemCount")
                    if view is None or count != len(members[pack.pk]):
                        missing.append(pack.name)
                        continue
                    seen[pack.pk] = count
                else:
                    dids = appview.list_members(
                        f"at://{issuer}/app.bsky.graph.list/{pack.list_rkey}"
                    )
                    if dids is None or set(dids) != members[pack.pk]:
                        missing.append(pack.name)
                        continue
                    seen[pack.pk] = len(dids)
            if (not pending and not missing) or time.monotonic() >= deadline:
                break
            time.sleep(interval)
    for official in officials:
        state = states[official.bluesky_did]
        report.verification[state] = report.verification.get(state, 0) + 1
        if official.appview_verification != state:
            official.appview_verification = state
            official.save(update_fields=["appview_verification", "updated_at"])
    for pack in packs:
        if pack.appview_members != seen.get(pack.pk):
            pack.appview_members = seen.get(pack.pk)
            pack.save(update_fields=["appview_members"])
    report.pending, report.packs_missing, report.packs_seen = pending, missing, len(seen)
    if not report.issuer_trusted:
        report.warnings.append(TRUST_HOW.format(issuer=issuer, handle=account.get("handle", "")))
    if pending:
        report.warnings.append(
            f"After {timeout:.0f} s the AppView still shows {len(pending)} verification(s) "
            f"otherwise than written (e.g. {pending[0]}): it may still be indexing; run "
            "`hirondelle institution verify` again later."
        )
    if missing:
        report.warnings.append(
            f"The AppView does not show {len(missing)} pack(s) in full yet "
            f"(e.g. {missing[0]!r}); run `hirondelle institution verify` again later."
        )
    return report
