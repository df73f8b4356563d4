"""The fediverse side, end to end against `fedi_peer`: a MOCK of an institution's own
Mastodon or GoToSocial server (mastodon-mock with routes imitating invite codes, admin
approval, unconfirmed e-mails and GoToSocial's backdating; see tests/support/fedi_server.py
for what is imitated from which source file). Neither engine can run here."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.institutions.models import Official
from hirondelle.institutions.services import fediverse, publish
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.institutions.services.roster import load_roster
from hirondelle.institutions.services.setup import add_institution, set_server
from hirondelle.networks.institution import relme
from hirondelle.networks.institution.fediverse import FediverseServer
from tests.support.fedi_server import ADMIN_TOKEN, USER_TOKEN
from tests.support.institution_roster import roster_csv

pytestmark = pytest.mark.django_db


def make(peer, *, kind="mastodon", invite="", admin_token=ADMIN_TOKEN, n=4, slug="senat-test"):
    inst = add_institution(
        slug,
        "Sénat (test)",
        page_url=f"https://testserver/institutions/{slug}/officiels.html",
    )
    set_server(
        inst,
        kind,
        peer.base_url,
        "social.senat.example",
        credentials={"admin_token": admin_token, "invite_code": invite},
    )
    load_roster(inst, roster_csv(n, email_tag="fedi", fediverse={3: "deja@mastodon.example"}))
    return inst


def new_officials(inst):
    return list(inst.officials.filter(existing_fediverse="").order_by("pk"))


def provision_cli(slug: str):
    return CliRunner().invoke(main, ["institution", "provision", slug, "--network", "fediverse"])


def approvals(report) -> int:
    return sum(n for call, n in report.requests.items() if call.endswith("/approve"))


@pytest.fixture
def institution(fedi_peer):
    """Mastodon, registrations closed, an invite code with uses to spare."""
    return make(fedi_peer, invite=fedi_peer.invite(max_uses=10))


def test_invite_registers_then_the_claim_opens_the_profile(institution, fedi_peer):
    report = fediverse.provision(institution)
    assert (report.registered, report.approved, report.adopted) == (3, 3, 1)
    # a valid invite approves at sign-up (user/approval.rb): nothing to approve
    assert approvals(report) == 0
    assert (report.profiles, report.waiting) == (0, 3)  # e-mails not confirmed yet
    accounts = fedi_peer.admin_accounts()
    emails = sorted(o.email for o in new_officials(institution))
    assert sorted(a["email"] for a in accounts) == emails
    assert all(a["approved"] and not a["confirmed"] for a in accounts)
    assert fedi_peer.invite_uses(institution.server("mastodon").secret("invite_code")) == 3

    first, second, third = new_officials(institution)
    refused = fedi_peer.call(
        "GET", "/api/v1/accounts/verify_credentials", first.fediverse_secret["token"]
    )
    assert refused.status_code == 403
    assert "confirmed e-mail" in refused.json()["error"]

    fedi_peer.confirm_email(first.email)  # the official claims: follows the e-mail's link
    fedi_peer.confirm_email(second.email)
    again = fediverse.provision(institution)
    assert (again.registered, again.approved, again.profiles, again.waiting) == (0, 0, 2, 1)
    fedi_peer.confirm_email(third.email)
    last = fediverse.provision(institution)
    assert (last.registered, last.profiles, last.waiting) == (0, 1, 0)
    assert fediverse.provision(institution).requests["POST /api/v1/accounts"] == 0
    for o in new_officials(institution):
        account = fedi_peer.get("/api/v1/accounts/lookup", acct=o.fediverse_address.split("@")[0])
        assert account["display_name"] == o.name[:30]
        assert [f["value"] for f in account["fields"]] == [institution.page_url]
        assert (o.fediverse_state, o.relme_set) == ("claimed", True)
    assert len(fedi_peer.admin_accounts()) == 3


@pytest.mark.parametrize("case", ["wrong", "expired", "used up", "none"])
def test_a_bad_invite_code_names_the_official_and_what_to_do(fedi_peer, case):
    code = {
        "wrong": "nope1234",
        "expired": fedi_peer.invite(expires_in=-60),
        "used up": fedi_peer.invite(max_uses=2),
        "none": "",
    }[case]
    inst = make(fedi_peer, invite=code)
    result = provision_cli(inst.slug)
    assert result.exit_code == 1
    stuck = new_officials(inst)[2 if case == "used up" else 0]
    assert stuck.name in result.output
    assert stuck.email in result.output
    assert "--invite-code" in result.output
    assert "Invite people" in result.output
    expected = "no invite code is set" if case == "none" else "wrong, expired or used up"
    assert expected in result.output
    registered = 2 if case == "used up" else 0
    assert len(fedi_peer.admin_accounts()) == registered

    # the operator makes a new invite and runs again: the rest is registered, nothing twice
    fresh = fedi_peer.invite(max_uses=5)
    set_server(
        inst,
        "mastodon",
        fedi_peer.base_url,
        "social.senat.example",
        credentials={"invite_code": fresh},
    )
    result = provision_cli(inst.slug)
    assert result.exit_code == 0, result.output
    assert f"Fediverse: {3 - registered} registered" in result.output
    assert len(fedi_peer.admin_accounts()) == 3
    assert fedi_peer.invite_uses(fresh) == 3 - registered


def test_approval_mode_keeps_accounts_pending_until_an_admin_approves(fedi_peer):
    fedi_peer.configure(registrations_mode="approved")
    inst = make(fedi_peer, admin_token=USER_TOKEN)  # a token without the Admin role
    with pytest.raises(InstitutionError, match="Admin role"):
        fediverse.provision(inst)
    [pending] = fedi_peer.admin_accounts()
    assert not pending["approved"]
    first = new_officials(inst)[0]
    assert first.fediverse_state == "registered"
    status = CliRunner().invoke(main, ["institution", "status", inst.slug])
    assert "1 awaiting the server admin's approval" in status.output
    assert "awaiting approval" in status.output

    # even once the e-mail is confirmed, a pending account can neither log in nor post
    fedi_peer.confirm_email(first.email)
    token = first.fediverse_secret["token"]
    post = fedi_peer.call("POST", "/api/v1/statuses", token, data={"status": "Bonjour"})
    assert post.status_code == 403
    assert "pending approval" in post.json()["error"]

    set_server(
        inst,
        "mastodon",
        fedi_peer.base_url,
        "social.senat.example",
        credentials={"admin_token": ADMIN_TOKEN},
    )
    report = fediverse.provision(inst)
    assert (report.registered, report.approved, approvals(report)) == (2, 3, 3)
    assert all(a["approved"] for a in fedi_peer.admin_accounts())
    assert fedi_peer.call("POST", "/api/v1/statuses", token, data={"status": "Ok"}).ok
    status = CliRunner().invoke(main, ["institution", "status", inst.slug])
    assert "Fediverse approval: 3 approved, 0 awaiting the server admin's approval" in (
        status.output
    )
    assert "2 awaiting the official's e-mail confirmation" in status.output
    assert "approved, awaiting e-mail confirmation" in status.output


def test_a_run_killed_midway_resumes_and_makes_nothing_twice(fedi_peer, monkeypatch):
    """Killed between the server's answer and our save, at sign-up and at approval."""
    fedi_peer.configure(registrations_mode="approved")
    inst = make(fedi_peer, n=5)
    real_register, real_approve = FediverseServer.register, FediverseServer.approve
    calls = {"register": 0, "approve": 0}

    def register_then_die(self, **kwargs):
        token = real_register(self, **kwargs)
        calls["register"] += 1
        if calls["register"] == 2:
            raise KeyboardInterrupt
        return token

    def approve_then_die(self, account_id):
        real_approve(self, account_id)
        calls["approve"] += 1
        if calls["approve"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(FediverseServer, "register", register_then_die)
    monkeypatch.setattr(FediverseServer, "approve", approve_then_die)
    with pytest.raises(KeyboardInterrupt):
        fediverse.provision(inst)  # first official approved on the server, not saved
    with pytest.raises(KeyboardInterrupt):
        fediverse.provision(inst)  # second official registered on the server, not saved
    monkeypatch.undo()

    result = provision_cli(inst.slug)
    assert result.exit_code == 0, result.output
    accounts = fedi_peer.admin_accounts()
    assert len(accounts) == 4
    assert sorted(a["email"] for a in accounts) == sorted(o.email for o in new_officials(inst))
    assert all(a["approved"] for a in accounts)  # Mastodon refuses a second approval: none made
    assert {o.fediverse_state for o in new_officials(inst)} == {"approved"}
    second = new_officials(inst)[1]
    assert second.fediverse_secret["token"] == ""  # lost with the killed run, and said so:
    assert f"{second.fediverse_address} already existed on the server" in result.output
    again = provision_cli(inst.slug)
    assert "0 registered, 0 approved" in again.output


def test_gotosocial_registration_needs_it_open_and_a_reason_then_approval(fedi_peer):
    fedi_peer.reset(engine="gotosocial", registration_open=False)
    inst = make(fedi_peer, kind="gotosocial", n=3)
    app_token = fedi_peer.app_token()  # GoToSocial registers with a user's token only
    refused = fedi_peer.call("POST", "/api/v1/accounts", app_token, data={"username": "x"})
    assert refused.status_code == 401
    set_server(
        inst,
        "gotosocial",
        fedi_peer.base_url,
        "social.senat.example",
        credentials={"app_token": app_token},
    )
    result = provision_cli(inst.slug)
    assert result.exit_code == 1
    assert new_officials(inst)[0].name in result.output
    assert "accounts-registration-open: true" in result.output
    assert fedi_peer.admin_accounts() == []

    fedi_peer.configure(registration_open=True, daily_limit=1)
    result = provision_cli(inst.slug)
    assert result.exit_code == 1
    assert "accounts-registration-daily-limit" in result.output
    assert new_officials(inst)[1].name in result.output

    fedi_peer.configure(daily_limit=0)
    report = fediverse.provision(inst)
    assert (report.registered, report.approved, approvals(report)) == (2, 2, 2)
    accounts = fedi_peer.admin_accounts()
    assert len(accounts) == 3
    assert all(a["approved"] for a in accounts)
    # GoToSocial wants a reason of at least 40 characters: the sign-up says who and why
    assert all(len(a["invite_request"]) >= 40 for a in accounts)
    assert all("Sénat (test)" in a["invite_request"] for a in accounts)
    token = new_officials(inst)[0].fediverse_secret["token"]
    assert fedi_peer.call("GET", "/api/v1/accounts/verify_credentials", token).status_code == 401


def test_relme_page_passes_the_ported_mastodon_check(institution, fedi_peer, client):
    fediverse.provision(institution)

    # Mastodon fetches the page over https; here Django itself serves it to the check.
    def from_django(request: httpx.Request) -> httpx.Response:
        answer = client.get(request.url.path)
        return httpx.Response(
            answer.status_code,
            content=answer.content,
            headers={"content-type": answer["content-type"]},
        )

    assert publish.verify_relme(institution, transport=httpx.MockTransport(from_django)) == 4
    page = client.get("/institutions/senat-test/officiels.html")
    assert page.status_code == 200
    assert "<script" not in page.content.decode()
    assert len(page.content) < relme.MAX_BODY


def test_importer_csv_lists_every_address_and_defuses_formulas(institution):
    fediverse.provision(institution)
    o = Official.objects.filter(institution=institution).first()
    o.fediverse_address = '=HYPERLINK("http://evil")@x.example'
    o.save()
    rows = list(csv.reader(io.StringIO(publish.importer_csv(institution))))
    assert rows[0] == ["Account address", "Show boosts", "Notify on new posts", "Languages"]
    assert len(rows) == 5
    assert all(not r[0].startswith(("=", "+", "-", "@")) for r in rows[1:])
    assert any(r[0].startswith("'=") for r in rows[1:])


def test_operator_action_in_the_admin_calls_the_service_and_is_audited(institution, client):
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.create_superuser("operator", "op@example.fr", "pw")
    client.force_login(operator)
    answer = client.post(
        "/admin/institutions/institution/",
        {"action": "provision_fediverse", "_selected_action": [institution.pk]},
        follow=True,
    )
    assert answer.status_code == 200
    assert "3 registered, 3 approved, 0 profiles" in answer.content.decode()
    assert (
        LogEntry.objects.filter(user=operator, change_message__startswith="registered").count() == 3
    )
    assert client.get("/admin/institutions/official/").status_code == 200
    assert (
        "credentials"
        not in client.get(
            f"/admin/institutions/institution/{institution.pk}/change/"
        ).content.decode()
    )


def test_dry_run_lists_the_fediverse_calls_and_changes_nothing(institution, fedi_peer):
    result = CliRunner().invoke(main, ["institution", "provision", "senat-test", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.count("POST /api/v1/accounts ") == 3
    assert result.output.count("/approve") == 3
    assert "password" in result.output
    assert not Official.objects.filter(institution=institution).exclude(fediverse_state="pending")
    assert fedi_peer.admin_accounts() == []
    report = fediverse.provision(institution)
    assert report.registered == 3  # the dry run registered nobody


def test_mastodon_signup_limit_stops_with_the_way_on(fedi_peer):
    """rack_attack.rb: 5 sign-ups per 30 minutes per address; tootctl makes the rest."""
    inst = make(fedi_peer, invite=fedi_peer.invite(max_uses=10), n=8)
    result = provision_cli(inst.slug)
    assert result.exit_code == 1
    sixth = new_officials(inst)[5]
    assert f"next {sixth.name} ({sixth.email})" in result.output
    assert "2 officials left" in result.output
    assert f"hirondelle institution tootctl {inst.slug}" in result.output
    assert len(fedi_peer.admin_accounts()) == 5
    assert {o.fediverse_state for o in new_officials(inst)[:5]} == {"approved"}


def test_mastodon_signup_limit_is_announced_with_the_tootctl_way(institution):
    load_roster(
        institution, roster_csv(12, email_tag="fedi", fediverse={3: "deja@mastodon.example"})
    )
    [warning] = fediverse.budget_warnings(institution)
    assert "5 sign-ups every 30 minutes" in warning
    script = fediverse.tootctl_script(institution)
    assert script.count("bin/tootctl accounts create") == 11  # one has an address already
    assert "--confirmed --approve" in script
