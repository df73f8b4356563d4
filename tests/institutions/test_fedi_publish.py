"""What an institution publishes for its fediverse accounts, and what it keeps secret,
against `fedi_peer`, a MOCK of its Mastodon server (tests/support/fedi_server.py): the
static rel=me page checked by the port of Mastodon's rule, the importer CSV, the roster's
links at `roster` strength followed by citizens who followed the official on X, secrets
encrypted at rest and kept out of the audit log."""

from __future__ import annotations

import time

import httpx
import pytest
from click.testing import CliRunner
from django.contrib.admin.models import LogEntry
from django.db import connection

from hirondelle.cli import main
from hirondelle.identity.models import Evidence, Link
from hirondelle.identity.services.directory import set_consent
from hirondelle.institutions.models import Official
from hirondelle.institutions.services import fediverse
from hirondelle.institutions.services.roster import load_roster
from hirondelle.institutions.services.setup import add_institution, set_server
from hirondelle.migration.models import Direction, Edge
from hirondelle.migration.services import running
from hirondelle.migration.services.accounts import connect_account
from hirondelle.migration.services.arrivals import queue_arrivals
from hirondelle.migration.services.importing import import_archive
from hirondelle.networks.base import Network
from hirondelle.networks.institution import relme
from tests.support.fedi_server import ADMIN_TOKEN, USER_TOKEN
from tests.support.institution_roster import roster_csv
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db

PAGE = "https://www.senat.example/officiels.html"


@pytest.fixture
def institution(fedi_peer):
    inst = add_institution("senat-pub", "Sénat (test)", page_url=PAGE)
    set_server(
        inst,
        "mastodon",
        fedi_peer.base_url,
        "mock.local",  # the mock's own domain, so that its accounts resolve by address
        credentials={"admin_token": ADMIN_TOKEN, "invite_code": fedi_peer.invite(max_uses=9)},
    )
    load_roster(inst, roster_csv(3, email_tag="pub"))
    fediverse.provision(inst)
    for o in inst.officials.all():
        fedi_peer.confirm_email(o.email)
    assert fediverse.provision(inst).profiles == 3
    return inst


def test_the_static_page_verifies_every_profile_and_the_csv_lists_them(institution, tmp_path):
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["institution", "pages", institution.slug, str(site)])
    assert result.exit_code == 0, result.output
    page = (site / "officiels.html").read_bytes()
    assert b"<script" not in page
    assert len(page) < relme.MAX_BODY

    # the institution's web server, serving the file written above
    def website(request: httpx.Request) -> httpx.Response:
        if str(request.url) != PAGE:
            return httpx.Response(404)
        return httpx.Response(200, content=page, headers={"content-type": "text/html"})

    officials = list(institution.officials.all())
    for o in officials:
        assert relme.verify_link(PAGE, o.fediverse_url, transport=httpx.MockTransport(website))
    assert not relme.verify_link(
        PAGE, "https://mock.local/@someone_else", transport=httpx.MockTransport(website)
    )
    csv_lines = (site / f"{institution.slug}-following.csv").read_text().splitlines()
    assert sorted(line.split(",")[0] for line in csv_lines[1:]) == sorted(
        o.fediverse_address for o in officials
    )


def test_roster_links_are_followed_by_the_officials_x_followers(
    institution, fedi_peer, tmp_path, django_user_model
):
    official = institution.officials.order_by("pk").first()
    citizen = django_user_model.objects.create(username="citizen")
    migration = import_archive(
        write_archive(tmp_path, sample_spec(seed=21, n_posts=3)), owner=citizen
    ).migration
    Edge.objects.create(
        migration=migration,
        direction=Direction.FOLLOWING,
        x_account_id=official.x_id,
        generation=1,
    )
    set_consent(
        migration.x_account_id, findable=False, auto_followable=False, auto_follow_arrivals=True
    )
    account = connect_account(
        citizen, Network.MASTODON, fedi_peer.base_url, {"access_token": USER_TOKEN}
    )

    result = CliRunner().invoke(main, ["institution", "publish", institution.slug])
    assert "3 links added" in result.output
    link = Link.objects.get(x_account_id=official.x_id, network="mastodon")
    assert link.evidence == Evidence.ROSTER
    assert link.network_account.handle == official.fediverse_address

    assert queue_arrivals([official.x_id]) == [account]  # what the directory's signal runs
    running.run_until_idle([account], sleep=time.sleep)
    agent = fedi_peer.get("/api/v1/accounts/verify_credentials", USER_TOKEN)
    following = fedi_peer.get(f"/api/v1/accounts/{agent['id']}/following", USER_TOKEN)
    assert [a["acct"] for a in following] == [official.fediverse_address.split("@")[0]]
    assert queue_arrivals([official.x_id]) == [account]
    running.run_until_idle([account], sleep=time.sleep)
    assert len(fedi_peer.get(f"/api/v1/accounts/{agent['id']}/following", USER_TOKEN)) == 1


def test_admin_token_and_account_secrets_are_encrypted_and_never_logged(institution):
    server = institution.server("mastodon")
    invite = str(server.secret("invite_code"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM institutions_server WHERE id = %s", [server.pk])
        (raw_server,) = cursor.fetchone()
        cursor.execute(
            "SELECT fediverse_secret FROM institutions_official WHERE institution_id = %s",
            [institution.pk],
        )
        raw_officials = [row[0] for row in cursor.fetchall()]
    secrets = [ADMIN_TOKEN, invite]
    for o in Official.objects.filter(institution=institution):
        secrets += [o.fediverse_secret["token"], o.fediverse_secret["password"]]
    assert all(len(s) >= 8 for s in secrets)
    stored = " ".join([str(raw_server), *map(str, raw_officials)])
    assert not [s for s in secrets if s in stored]
    logged = " ".join(LogEntry.objects.values_list("change_message", flat=True))
    assert "registered" in logged
    assert "approved" in logged
    assert not [s for s in secrets if s in logged]
