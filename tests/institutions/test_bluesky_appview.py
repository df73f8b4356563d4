"""What citizens see: verifications and packs read back through the reference AppView
(@atproto/bsky in @atproto/dev-env 0.6.7, beside the institution's PDS), not the PDS.

The AppView hides verifications from issuers it does not trust; trusting one is a
database column at Bluesky with no API, set here by start.mjs as dev-env's own
mock does (`trust_verifier`)."""

from __future__ import annotations

import httpx
import pytest

from hirondelle.institutions.models import Official, Pack
from hirondelle.institutions.services import bluesky
from hirondelle.institutions.services.appview import check_appview
from hirondelle.institutions.services.roster import load_roster
from hirondelle.networks.institution.pds import PdsClient
from tests.institutions.conftest import BYPASS_KEY
from tests.support.institution_roster import roster_csv

pytestmark = pytest.mark.django_db(transaction=True)


def _xrpc(peer, nsid: str, **params) -> dict:
    response = httpx.get(f"{peer.appview}/xrpc/{nsid}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _rename(peer, official: Official, name: str) -> None:
    """The official changes their display name in the app."""
    with PdsClient(peer.pds, bypass_key=BYPASS_KEY) as pds:
        session = pds.create_session(official.bluesky_did, official.secret["password"])
        profile = pds.get_record(official.bluesky_did, "app.bsky.actor.profile", "self")
        record = {**profile["value"], "displayName": name}
        pds.put_record(session, "app.bsky.actor.profile", "self", record, new=False)


def test_verifications_and_packs_as_the_appview_shows_them(
    make_stack_institution, institution_stack, tag
):
    peer = institution_stack
    inst = make_stack_institution()
    load_roster(inst, roster_csv(7, email_tag=tag, big_group=3))
    bluesky.provision(inst)
    own = inst.server("pds").credentials["account"]
    officials = list(Official.objects.filter(institution=inst).order_by("pk"))

    # Not trusted yet: the AppView shows no verification at all, and the report says why.
    untrusted = check_appview(inst, appview_url=peer.appview, timeout=30)
    assert not untrusted.issuer_trusted
    assert untrusted.verification == {"none": 7}
    assert any("does not trust" in w and own["handle"] in w for w in untrusted.warnings)

    peer.trust_verifier(own["did"])
    report = check_appview(inst, appview_url=peer.appview, timeout=60)
    assert report.issuer_trusted
    assert report.complete, report.warnings
    assert report.verification == {"valid": 7}
    packs = list(Pack.objects.filter(institution=inst))
    assert report.packs_seen == len(packs) == 5  # four groups and the list of everyone
    for o in Official.objects.filter(institution=inst):
        assert o.appview_verification == "valid"

    # The same, read without Hirondelle's client: the app's own calls.
    profile = _xrpc(peer, "app.bsky.actor.getProfile", actor=officials[0].bluesky_did)
    assert profile["verification"]["verifiedStatus"] == "valid"
    (mine,) = [v for v in profile["verification"]["verifications"] if v["issuer"] == own["did"]]
    assert mine["isValid"] is True
    for pack in packs:
        dids = {m.official.bluesky_did for m in pack.members.select_related("official")}
        if pack.kind == Pack.Kind.STARTER:
            view = _xrpc(
                peer,
                "app.bsky.graph.getStarterPack",
                starterPack=f"at://{own['did']}/app.bsky.graph.starterpack/{pack.pack_rkey}",
            )["starterPack"]
            assert view["record"]["name"] == pack.name
            assert view["list"]["listItemCount"] == len(dids)
        got = _xrpc(
            peer,
            "app.bsky.graph.getList",
            list=f"at://{own['did']}/app.bsky.graph.list/{pack.list_rkey}",
            limit=100,
        )
        assert {i["subject"]["did"] for i in got["items"]} == dids
    assert sum(p.appview_members for p in packs if p.kind == Pack.Kind.STARTER) == 7


def test_a_stale_verification_shows_invalid_until_rewritten(
    make_stack_institution, institution_stack, tag
):
    peer = institution_stack
    inst = make_stack_institution()
    load_roster(inst, roster_csv(3, email_tag=tag))
    bluesky.provision(inst, packs=False)
    own = inst.server("pds").credentials["account"]["did"]
    peer.trust_verifier(own)
    official = Official.objects.filter(institution=inst).first()

    _rename(peer, official, "Nom Tout Neuf")
    peer.sync()
    view = _xrpc(peer, "app.bsky.actor.getProfile", actor=official.bluesky_did)
    assert view["displayName"] == "Nom Tout Neuf"
    assert view["verification"]["verifiedStatus"] == "invalid"  # the record names the old name

    assert bluesky.refresh_verifications(inst).verifications_rewritten == 1
    report = check_appview(inst, appview_url=peer.appview, timeout=60)
    assert report.complete, report.warnings
    assert report.verification == {"valid": 3}
    view = _xrpc(peer, "app.bsky.actor.getProfile", actor=official.bluesky_did)
    assert view["verification"]["verifiedStatus"] == "valid"
    (mine,) = [v for v in view["verification"]["verifications"] if v["issuer"] == own]
    assert mine["isValid"] is True
