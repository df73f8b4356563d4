"""A roster of 600 on a real PDS with the reference AppView beside it (see conftest):
killed midway, resumed, run again; every record and starter pack read back from the
PDS, then as citizens see them, through the AppView."""

from __future__ import annotations

from collections import Counter

import pytest

from hirondelle.institutions.models import Official, Pack
from hirondelle.institutions.services import bluesky
from hirondelle.institutions.services.appview import check_appview
from hirondelle.institutions.services.roster import load_roster
from tests.institutions.test_bluesky_small import KillAfter, Killed, _repos
from tests.support.institution_roster import roster_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_six_hundred_officials(make_stack_institution, institution_stack, tag):
    institution_pds = institution_stack
    inst = make_stack_institution()
    load_roster(inst, roster_csv(600, email_tag=tag, big_group=200))
    warnings = bluesky.budget_warnings(inst)
    assert any("relay" in w and "Relay throttle reset request" in w for w in warnings)
    before = _repos(institution_pds)

    with pytest.raises(Killed):  # killed after the PDS made the 300th official's account
        bluesky.provision(inst, transport=KillAfter("com.atproto.server.createAccount", 301))
    first = bluesky.provision(inst)
    # 299 recorded before the kill, the 300th made but unrecorded (found again, not
    # made twice), 300 still to make
    assert first.created == 301
    again = bluesky.provision(inst)
    assert (again.created, again.profiles, again.verifications_written, again.pack_items) == (
        0,
        0,
        0,
        0,
    )
    made = _repos(institution_pds) - before
    assert len(made) == 601
    officials = list(Official.objects.filter(institution=inst))
    dids = {o.bluesky_did for o in officials}
    assert len(dids) == 600

    own = inst.server("pds").credentials["account"]["did"]
    verifications = institution_pds.records(own, "app.bsky.graph.verification")
    assert sorted(r["value"]["subject"] for r in verifications) == sorted(dids)

    lists = {r["uri"]: r["value"] for r in institution_pds.records(own, "app.bsky.graph.list")}
    listitems = institution_pds.records(own, "app.bsky.graph.listitem")
    items = Counter(r["value"]["list"] for r in listitems)
    packs = institution_pds.records(own, "app.bsky.graph.starterpack")
    # Groupe Alpha (200) in two packs, three groups of 133–134 in one each
    assert len(packs) == 5
    for pack in packs:
        assert 0 < items[pack["value"]["list"]] <= 150
        assert lists[pack["value"]["list"]]["purpose"] == "app.bsky.graph.defs#referencelist"
        assert len(pack["value"]["name"]) <= 50
    assert sum(items[p["value"]["list"]] for p in packs) == 600
    curated = [u for u, v in lists.items() if v["purpose"] == "app.bsky.graph.defs#curatelist"]
    assert len(curated) == 1
    assert items[curated[0]] == 600

    # As citizens see them: the AppView's profiles, starter packs and list.
    institution_stack.trust_verifier(own)
    seen = check_appview(inst, appview_url=institution_stack.appview, timeout=300)
    assert seen.complete, seen.warnings
    assert seen.verification == {"valid": 600}
    assert seen.packs_seen == 6
    by_kind = Counter()
    for pack in Pack.objects.filter(institution=inst):
        by_kind[pack.kind] += pack.appview_members
    assert by_kind == {"starter": 600, "curated": 600}
