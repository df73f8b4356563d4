"""Bluesky provisioning on a real PDS (see conftest): small rosters, every path."""

from __future__ import annotations

import httpx
import pytest

from hirondelle.institutions.models import Official
from hirondelle.institutions.services import bluesky
from hirondelle.institutions.services.roster import load_roster
from tests.support.institution_roster import roster_csv

pytestmark = pytest.mark.django_db(transaction=True)


def _repos(peer) -> set[str]:
    dids, cursor = set(), None
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{peer.pds}/xrpc/com.atproto.sync.listRepos", params=params).json()
        dids |= {r["did"] for r in page["repos"]}
        cursor = page.get("cursor")
        if not cursor or not page["repos"]:
            return dids


def test_provision_small_roster_then_rerun_creates_nothing(make_institution, institution_pds, tag):
    inst = make_institution()
    load_roster(inst, roster_csv(12, email_tag=tag))
    before = _repos(institution_pds)
    report = bluesky.provision(inst)
    assert report.created == 12
    assert report.profiles == 12
    assert report.verifications_written == 12
    after = _repos(institution_pds)
    assert len(after - before) == 13  # twelve officials and the institution's own account

    again = bluesky.provision(inst)
    assert (again.created, again.profiles, again.verifications_written) == (0, 0, 0)
    assert again.pack_items == 0
    assert _repos(institution_pds) == after

    own = inst.server("pds").credentials["account"]["did"]
    records = institution_pds.records(own, "app.bsky.graph.verification")
    by_subject = {r["value"]["subject"]: r["value"] for r in records}
    for official in Official.objects.filter(institution=inst):
        assert official.bluesky_handle.endswith(".social.example.fr")
        label = official.bluesky_handle.removesuffix(".social.example.fr")
        assert 3 <= len(label) <= 18
        assert "." not in label
        value = by_subject[official.bluesky_did]
        assert value["handle"] == official.bluesky_handle
        assert value["displayName"] == official.name
        profile = institution_pds.records(official.bluesky_did, "app.bsky.actor.profile")
        assert profile[0]["value"]["displayName"] == official.name
