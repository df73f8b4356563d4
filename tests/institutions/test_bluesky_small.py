"""Bluesky provisioning on a real PDS (see conftest): small rosters, every path."""

from __future__ import annotations

import httpx
import pytest

from hirondelle.institutions.models import Official
from hirondelle.institutions.services import bluesky
from hirondelle.institutions.services.roster import load_roster
from hirondelle.networks import guard
from hirondelle.networks.errors import AuthExpired
from hirondelle.networks.institution.pds import PdsClient
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


class Killed(BaseException):
    """The process dying: not an Exception, so nothing in the code under test catches it."""


class KillAfter(guard.GuardedTransport):
    """Forwards to the PDS (through the guard), then dies right after the PDS carried out
    the n-th matching call and before its answer reaches Hirondelle: the worst moment."""

    def __init__(self, nsid: str, n: int) -> None:
        super().__init__(guard.default_policy())
        self.nsid, self.n, self.seen = nsid, n, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith(self.nsid):
            self.seen += 1
            if self.seen == self.n:
                response.read()
                raise Killed
        return response


def test_killed_midway_resumes_and_creates_nothing_twice(make_institution, institution_pds, tag):
    inst = make_institution()
    load_roster(inst, roster_csv(20, email_tag=tag))
    before = _repos(institution_pds)
    # Killed right after the PDS created the 8th official's account (the institution's own is 1st).
    with pytest.raises(Killed):
        bluesky.provision(inst, transport=KillAfter("com.atproto.server.createAccount", 9))
    assert Official.objects.filter(institution=inst, bluesky_state="creating").count() == 1
    # …and once more in the middle of the verification batch.
    with pytest.raises(Killed):
        bluesky.provision(inst, transport=KillAfter("com.atproto.repo.applyWrites", 1))
    report = bluesky.provision(inst)
    assert report.created == 0  # everything was made by the interrupted runs
    made = _repos(institution_pds) - before
    assert len(made) == 21
    officials = list(Official.objects.filter(institution=inst))
    assert {o.bluesky_did for o in officials} | {
        inst.server("pds").credentials["account"]["did"]
    } == made
    with PdsClient(institution_pds.pds) as pds:
        for o in officials:
            assert pds.resolve_handle(o.bluesky_handle) == o.bluesky_did
    own = inst.server("pds").credentials["account"]["did"]
    subjects = [
        r["value"]["subject"]
        for r in institution_pds.records(own, "app.bsky.graph.verification")
        if r["value"]["subject"] in {o.bluesky_did for o in officials}
    ]
    assert sorted(subjects) == sorted(o.bluesky_did for o in officials)  # one each, no duplicate


def test_claim_through_the_real_reset_email(make_institution, institution_pds, smtp, tag):
    inst = make_institution()
    load_roster(inst, roster_csv(2, email_tag=tag))
    bluesky.provision(inst)
    assert bluesky.invite(inst) == 2
    official = Official.objects.filter(institution=inst).first()
    assert official.bluesky_state == "invited"
    old_password = official.secret["password"]
    message = smtp.wait_for(official.email)
    code = smtp.reset_code(message)
    bluesky.claim(official, code, "my own passphrase 123")
    official.refresh_from_db()
    assert official.bluesky_state == "claimed"
    assert official.secret is None
    with PdsClient(institution_pds.pds, bypass_key="bypass-key-for-tests") as pds:
        assert pds.create_session(official.bluesky_handle, "my own passphrase 123").did == (
            official.bluesky_did
        )
        with pytest.raises(AuthExpired, match="Invalid identifier or password"):
            pds.create_session(official.bluesky_handle, old_password)
    other = Official.objects.filter(institution=inst).exclude(pk=official.pk).get()
    from hirondelle.institutions.services.errors import InstitutionError

    with pytest.raises(InstitutionError, match="code was not accepted"):
        bluesky.claim(other, "AAAAA-BBBBB", "another passphrase")

    # The other one claims in the Bluesky app, with the code from the same e-mail.
    assert bluesky.detect_claims(inst) == 0
    with PdsClient(institution_pds.pds, bypass_key="bypass-key-for-tests") as pds:
        pds.reset_password(smtp.reset_code(smtp.wait_for(other.email)), "chosen in the app")
    assert bluesky.detect_claims(inst) == 1
    other.refresh_from_db()
    assert other.bluesky_state == "claimed"
    assert other.secret is None


def test_dry_run_lists_every_call_and_changes_nothing(make_institution, institution_pds, tag):
    inst = make_institution()
    load_roster(inst, roster_csv(5, email_tag=tag))
    before = _repos(institution_pds)
    report = bluesky.provision(inst, dry_run=True)
    assert _repos(institution_pds) == before
    assert Official.objects.filter(institution=inst, bluesky_state="pending").count() == 5
    creates = [c for c in report.calls if "createAccount" in c]
    assert len(creates) == 6  # the institution's account and five officials
    assert all("password" in c and "pw" not in c.split("password", 1)[1][:3] for c in creates)
    assert sum("putRecord" in c and "app.bsky.actor.profile" in c for c in report.calls) == 5
    assert any("5× create app.bsky.graph.verification" in c for c in report.calls)
    # the real run then makes exactly those calls
    real = bluesky.provision(inst)
    assert real.created == 5
    assert real.requests["com.atproto.server.createAccount"] == 6


def test_verification_rewritten_when_the_display_name_changes(
    make_institution, institution_pds, tag
):
    inst = make_institution()
    load_roster(inst, roster_csv(3, email_tag=tag))
    bluesky.provision(inst)
    official = Official.objects.filter(institution=inst).first()
    with PdsClient(institution_pds.pds, bypass_key="bypass-key-for-tests") as pds:
        session = pds.create_session(official.bluesky_did, official.secret["password"])
        pds.put_record(
            session,
            "app.bsky.actor.profile",
            "self",
            {"$type": "app.bsky.actor.profile", "displayName": "Nouveau Nom"},
            new=False,
        )
    report = bluesky.refresh_verifications(inst)
    assert report.verifications_rewritten == 1
    own = inst.server("pds").credentials["account"]["did"]
    values = {
        r["value"]["subject"]: r["value"]
        for r in institution_pds.records(own, "app.bsky.graph.verification")
    }
    assert values[official.bluesky_did]["displayName"] == "Nouveau Nom"
    assert bluesky.refresh_verifications(inst).verifications_rewritten == 0


def test_adopts_an_existing_account_without_moving_it(make_institution, institution_pds, tag):
    inst = make_institution()
    with PdsClient(
        institution_pds.pds,
        admin_password=institution_pds.admin_password,
        bypass_key="bypass-key-for-tests",
    ) as pds:
        existing = pds.create_account(
            email=f"already.{tag}@example.org",
            handle=f"deja{tag}.social.example.fr",
            password="their own password",
            invite_code=pds.create_invite_codes(1)[0],
        )
    load_roster(inst, roster_csv(2, email_tag=tag, existing_bluesky={0: existing.handle}))
    report = bluesky.provision(inst)
    assert (report.adopted, report.created) == (1, 1)
    adopted = Official.objects.get(institution=inst, existing_bluesky=existing.handle)
    assert adopted.bluesky_state == "adopted"
    assert adopted.bluesky_did == existing.did
    assert adopted.second_handle.endswith(f".{tag}.deputes.example.fr")
    assert adopted.secret is None  # Hirondelle never held their password
