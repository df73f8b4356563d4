"""`hirondelle institution …` end to end on the real PDS (see conftest), then the
pages and the directory the commands fill."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.test import override_settings

from hirondelle.cli import main
from hirondelle.identity.models import Evidence, Link
from hirondelle.institutions.models import Institution, Official
from tests.institutions.conftest import BYPASS_KEY, HANDLE_DOMAIN
from tests.support.institution_roster import roster_csv

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"

    def invoke(*args: str, ok: bool = True):
        result = CliRunner().invoke(main, ["institution", *args])
        assert (result.exit_code == 0) is ok, result.output
        return result

    return invoke


def test_the_commands_in_order(run, institution_pds, tmp_path, tag, client):
    slug = f"cli-{tag}"
    run(
        "add",
        slug,
        "Conseil (test)",
        "--handle-domain",
        f"{tag}.conseil.example.fr",
        "--page-url",
        f"https://www.example.fr/{tag}/officiels.html",
    )
    run(
        "server",
        slug,
        "pds",
        institution_pds.pds,
        HANDLE_DOMAIN,
        "--admin-password",
        institution_pds.admin_password,
        "--bypass-key",
        BYPASS_KEY,
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("name,x_id,email\nJean,abc,not-an-address\n", encoding="utf-8")
    out = run("roster", slug, str(bad), ok=False).output
    assert "line 2" in out
    assert "x_id 'abc'" in out
    assert "not an address" in out
    good = tmp_path / "roster.csv"
    good.write_text(roster_csv(6, email_tag=tag), encoding="utf-8")
    assert "6 officials" in run("roster", slug, str(good), "--check").output
    assert not Official.objects.filter(institution__slug=slug).exists()
    run("roster", slug, str(good))

    dry = run("provision", slug, "--dry-run").output
    assert dry.count("POST com.atproto.server.createAccount") == 7
    assert "writes would be made" in dry
    assert not Official.objects.filter(institution__slug=slug).exclude(bluesky_did="").exists()

    out = run("provision", slug).output
    assert "Bluesky: 6 created" in out
    assert "Bluesky: 0 created" in run("provision", slug).output
    status = run("status", slug).output
    assert "created 6" in status
    assert "2 re" not in run("verify", slug).output

    site = tmp_path / "site"
    run("pages", slug, str(site))
    dns = (site / "atproto-dns.txt").read_text().splitlines()
    assert len(dns) == 6
    assert all(line.startswith("_atproto.") and '"did=did:plc:' in line for line in dns)

    out = run("publish", slug).output
    assert "6 links added" in out
    inst = Institution.objects.get(slug=slug)
    for o in inst.officials.all():
        link = Link.objects.get(x_account_id=o.x_id, network="bluesky")
        assert link.evidence == Evidence.ROSTER
        assert link.network_account.handle == o.bluesky_handle

    # The full-name handle answers on the institution's domain, through Hirondelle.
    o = inst.officials.first()
    with override_settings(ALLOWED_HOSTS=["*"]):
        answer = client.get("/.well-known/atproto-did", HTTP_HOST=o.second_handle)
        assert answer.content.decode() == o.bluesky_did
        assert client.get("/.well-known/atproto-did", HTTP_HOST="nobody.example").status_code == 404

    # The public page, in French and in English.
    page = client.get(f"/institutions/{slug}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert o.name in page
    assert o.bluesky_handle in page
    assert "0 sur 6" in page
    page_en = client.get(f"/institutions/{slug}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "0 of 6 officials have arrived" in page_en
