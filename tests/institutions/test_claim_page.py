"""An official claims their account on the portal, with the PDS's real reset e-mail
(real PDS and SMTP catcher, see conftest): through Django's test client here, and in
Debian's Chromium at 390 px in French and English, axe-clean, in the browser test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from hirondelle.config import get_settings
from hirondelle.institutions import tasks
from hirondelle.institutions.models import Official
from hirondelle.institutions.services import bluesky
from hirondelle.institutions.services.roster import load_roster
from hirondelle.networks.errors import AuthExpired
from hirondelle.networks.institution.pds import PdsClient
from tests.institutions.conftest import BYPASS_KEY, HANDLE_DOMAIN
from tests.support.browser import serve_portal, stop_portal
from tests.support.institution_roster import roster_csv

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "une phrase à moi 4821"


def _run_queued_tasks() -> int:
    """What the background worker does with the claim codes asked for (the test's
    worker); how many e-mails it had the PDS send."""
    sent = 0
    for row in DBTaskResult.objects.filter(task_path__endswith="send_claim_code"):
        done = tasks.send_claim_code.call(*json.loads(json.dumps(row.args_kwargs))["args"])
        row.delete()
        sent += done["sent"]
    return sent


@pytest.mark.django_db(transaction=True)
def test_claim_on_the_portal_with_the_real_code(make_institution, institution_pds, smtp, tag):
    inst = make_institution()
    load_roster(inst, roster_csv(3, email_tag=tag))
    bluesky.provision(inst)
    official, other, third = Official.objects.filter(institution=inst).order_by("pk")
    hirondelle_password = official.secret["password"]
    start = f"/institutions/{inst.slug}/claim/"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    # An address not on the roster: the same answer, and nothing is sent.
    stranger = client.post(start, {"email": f"nobody.{tag}@example.org"})
    on_roster = Client(HTTP_ACCEPT_LANGUAGE="en").post(start, {"email": official.email.upper()})
    assert stranger.status_code == on_roster.status_code == 302
    assert stranger.url == on_roster.url == f"/institutions/{inst.slug}/claim/code/"
    said = client.get(stranger.url).content.decode()
    assert "If nobody." in said
    assert "has sent it an e-mail with a code" in said
    assert _run_queued_tasks() == 1  # only the roster address queued an e-mail

    # The official: the real e-mail, then a wrong code, then the right one.
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post(start, {"email": official.email})
    assert _run_queued_tasks() == 0  # asked again within 5 minutes: no second e-mail
    code = smtp.reset_code(smtp.wait_for(official.email))
    page = f"/institutions/{inst.slug}/claim/code/"
    wrong = client.post(page, {"code": "AAAAA-BBBBB", "password": PASSWORD, "password2": PASSWORD})
    assert wrong.status_code == 400
    assert "was not accepted" in wrong.content.decode()
    typo = client.post(page, {"code": code, "password": PASSWORD, "password2": PASSWORD + "x"})
    assert "two passwords are different" in typo.content.decode()
    done = client.post(page, {"code": code, "password": PASSWORD, "password2": PASSWORD})
    assert done.status_code == 302
    shown = client.get(done.url).content.decode()
    official.refresh_from_db()
    assert official.bluesky_state == "claimed"
    assert official.secret is None
    assert f"@{official.bluesky_handle}" in shown
    assert institution_pds.pds.removeprefix("http://") in shown  # the hosting provider
    with PdsClient(institution_pds.pds, bypass_key=BYPASS_KEY) as pds:
        assert pds.create_session(official.bluesky_handle, PASSWORD).did == official.bluesky_did
        with pytest.raises(AuthExpired):
            pds.create_session(official.bluesky_handle, hirondelle_password)

    # A valid code of one account typed with another official's address claims nothing
    # for the latter: the new password must open *their* account.
    thief = Client(HTTP_ACCEPT_LANGUAGE="en")
    thief.post(start, {"email": other.email})
    _run_queued_tasks()
    other_code = smtp.reset_code(smtp.wait_for(other.email))
    session = thief.session
    session["claim_email"] = third.email
    session.save()
    refused = thief.post(page, {"code": other_code, "password": "x" * 12, "password2": "x" * 12})
    assert refused.status_code == 400
    assert "was not accepted" in refused.content.decode()
    third.refresh_from_db()
    assert third.bluesky_state in ("created", "invited")
    assert third.secret


@pytest.mark.django_db(transaction=True)
def test_the_claim_doors_are_rate_limited(make_institution, monkeypatch, tag):
    inst = make_institution()
    monkeypatch.setenv("HIRONDELLE_SIGNIN_RATE", "3/h")
    get_settings.cache_clear()
    try:
        client = Client(REMOTE_ADDR="192.0.2.30", HTTP_ACCEPT_LANGUAGE="fr")
        answers = [
            client.post(f"/institutions/{inst.slug}/claim/", {"email": f"a{i}@x.example"})
            for i in range(4)
        ]
    finally:
        get_settings.cache_clear()
    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    assert "Trop de tentatives" in answers[-1].content.decode()


SEED = """
from hirondelle.institutions.services import bluesky
from hirondelle.institutions.services.roster import load_roster
from hirondelle.institutions.services.setup import add_institution, set_server
from tests.support.institution_roster import roster_csv
inst = add_institution("{slug}", "Assemblée de démonstration",
                       handle_domain="{tag}.deputes.example.fr")
set_server(inst, "pds", "{pds}", "{domain}",
           credentials={{"admin_password": "{admin}", "bypass_key": "{bypass}"}})
load_roster(inst, roster_csv(2, email_tag="{tag}"))
bluesky.provision(inst)
for o in inst.officials.order_by("pk"):
    print(o.email, o.bluesky_handle)
"""


def _check(page, lang: str, name: str) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.lang") == lang, name
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} ({lang}): {overflow}px wider than 390 px"
    result = page.evaluate("async () => await axe.run(document)")
    violations = [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}" for v in result["violations"]
    ]
    assert not violations, f"{name} ({lang}): {violations}"


@pytest.mark.slow
def test_claim_in_the_browser_in_both_languages(browser, tmp_path, institution_pds, smtp):
    assert AXE.exists(), "axe-core is missing: run scripts/bootstrap"
    portal = serve_portal(tmp_path / "portal-data", extra_env={"PYTHONPATH": str(ROOT)})
    try:
        seeded = portal.python(
            SEED.format(
                slug="demo-claim",
                tag="claimui",
                pds=institution_pds.pds,
                domain=HANDLE_DOMAIN,
                admin=institution_pds.admin_password,
                bypass=BYPASS_KEY,
            )
        )
        people = [line.split() for line in seeded.strip().splitlines()[-2:]]
        texts = {
            "fr": ("Votre compte est à vous", "n’a pas été accepté", "Faire de ce compte le mien"),
            "en": ("Your account is yours", "was not accepted", "Make this account mine"),
        }
        for (email, handle), lang in zip(people, ("fr", "en"), strict=True):
            done_title, refused, button = texts[lang]
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale=lang)
            context.add_init_script(path=str(AXE))
            page = context.new_page()
            page.goto(f"{portal.url}/institutions/demo-claim/claim/")
            _check(page, lang, "claim-email")
            page.fill("#email", email)
            page.press("#email", "Enter")
            page.wait_for_url("**/claim/code/")
            _check(page, lang, "claim-code")
            code = smtp.reset_code(smtp.wait_for(email, timeout=60))  # sent by the worker
            page.fill("#code", "AAAAA-BBBBB")
            page.fill("#password", PASSWORD)
            page.fill("#password2", PASSWORD)
            page.get_by_role("button", name=button).click()
            page.wait_for_selector("[role=alert]")
            assert refused in page.inner_text("[role=alert]")
            _check(page, lang, "claim-refused")
            page.fill("#code", code)
            page.fill("#password", PASSWORD)
            page.fill("#password2", PASSWORD)
            page.get_by_role("button", name=button).click()
            page.wait_for_url("**/claim/done/")
            _check(page, lang, "claim-done")
            assert done_title in page.inner_text("h1")
            assert f"@{handle}" in page.inner_text("main")
            context.close()
            with PdsClient(institution_pds.pds, bypass_key=BYPASS_KEY) as pds:
                assert pds.create_session(handle, PASSWORD).handle == handle
        states = portal.python(
            "from hirondelle.institutions.models import Official\n"
            "print(sorted(Official.objects.values_list('bluesky_state', flat=True)))"
        )
        assert states.strip() == "['claimed', 'claimed']"
    finally:
        stop_portal(portal)
    # The password never reached Hirondelle's database or its log.
    for path in (tmp_path / "portal-data").rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
