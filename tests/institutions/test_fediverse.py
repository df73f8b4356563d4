"""The fediverse side against mastodon-mock: a MOCK of Mastodon's REST API (no Mastodon
can be installed here), so registration, approval and profile fields are checked as
the API contract, not as Mastodon's own behaviour (it does not hold back tokens until
the e-mail is confirmed, nor keep new accounts pending)."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from hirondelle.institutions.models import Official
from hirondelle.institutions.services import fediverse, publish
from hirondelle.institutions.services.roster import load_roster
from hirondelle.institutions.services.setup import add_institution, set_server
from hirondelle.networks.institution import relme
from tests.support.institution_roster import roster_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def institution(mastodon_peer):
    inst = add_institution(
        "senat-test",
        "Sénat (test)",
        page_url="https://testserver/institutions/senat-test/officiels.html",
    )
    set_server(
        inst,
        "mastodon",
        mastodon_peer.base_url,
        "social.senat.example",
        credentials={"admin_token": "alice_token"},
    )
    load_roster(inst, roster_csv(4, email_tag="fedi", fediverse={3: "deja@mastodon.example"}))
    return inst


def test_register_approve_and_point_profiles_at_the_page(institution, mastodon_peer):
    report = fediverse.provision(institution)
    assert (report.registered, report.approved, report.adopted, report.profiles) == (3, 3, 1, 3)
    again = fediverse.provision(institution)
    assert (again.registered, again.approved, again.profiles) == (0, 0, 0)
    for o in Official.objects.filter(institution=institution).exclude(existing_fediverse__gt=""):
        username = o.fediverse_address.split("@")[0]
        account = mastodon_peer.get("/api/v1/accounts/lookup", acct=username)
        assert account["display_name"] == o.name[:30]
        assert [f["value"] for f in account["fields"]] == [institution.page_url]
        assert o.fediverse_state == "claimed"
        assert o.relme_set


def test_mastodon_signup_limit_is_announced_with_the_tootctl_way(institution):
    load_roster(
        institution, roster_csv(12, email_tag="fedi", fediverse={3: "deja@mastodon.example"})
    )
    [warning] = fediverse.budget_warnings(institution)
    assert "5 sign-ups every 30 minutes" in warning
    script = fediverse.tootctl_script(institution)
    assert script.count("bin/tootctl accounts create") == 11  # one has an address already
    assert "--confirmed --approve" in script


def test_relme_page_passes_the_ported_mastodon_check(institution, client):
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
    assert "3 registered, 3 approved, 3 profiles" in answer.content.decode()
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


def test_dry_run_lists_the_fediverse_calls_and_changes_nothing(institution, mastodon_peer):
    from click.testing import CliRunner

    from hirondelle.cli import main

    result = CliRunner().invoke(main, ["institution", "provision", "senat-test", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.count("POST /api/v1/accounts ") == 3
    assert result.output.count("/approve") == 3
    assert "password" in result.output
    assert not Official.objects.filter(institution=institution).exclude(fediverse_state="pending")
    report = fediverse.provision(institution)
    assert report.registered == 3  # the dry run registered nobody


def test_history_on_the_fediverse_is_unlisted_and_dated(
    institution, mastodon_peer, tmp_path, django_user_model
):
    import time

    from hirondelle.identity.models import x_id_from_db
    from hirondelle.institutions.services.history import plan_history
    from hirondelle.migration.services import running
    from hirondelle.migration.services.importing import import_archive
    from tests.support.x_archive import sample_spec, write_archive

    fediverse.provision(institution)
    official = Official.objects.filter(institution=institution, existing_fediverse="").first()
    person = django_user_model.objects.create(username="official")
    spec = sample_spec(seed=4, n_posts=12, account_id=str(x_id_from_db(official.x_id)))
    migration = import_archive(write_archive(tmp_path, spec), owner=person).migration
    summary = plan_history(official, migration, network="mastodon")
    assert 0 < summary.posts < len(spec.tweets)  # retweets and replies to others left out
    from hirondelle.migration.models import ConnectedAccount

    account = ConnectedAccount.objects.get(user=person, network="mastodon")
    running.run_until_idle([account], sleep=time.sleep)
    username = official.fediverse_address.split("@")[0]
    me = mastodon_peer.get("/api/v1/accounts/lookup", acct=username)["id"]
    statuses = mastodon_peer.get(f"/api/v1/accounts/{me}/statuses", limit=40)
    assert len(statuses) == summary.parts
    assert all(s["visibility"] == "unlisted" for s in statuses)
    assert all(s["reblog"] is None for s in statuses)


def test_gotosocial_history_is_sent_backdated(mastodon_peer, tmp_path, django_user_model):
    """On GoToSocial a past scheduled_at backdates the post; mastodon-mock (a mock) only
    shows that the request carries it, and that the post goes out public, without date line."""
    import time
    from datetime import UTC, datetime

    import requests

    from hirondelle.identity.models import x_id_from_db
    from hirondelle.institutions.services.history import plan_history
    from hirondelle.migration.models import ConnectedAccount
    from hirondelle.migration.services import running
    from hirondelle.migration.services.importing import import_archive
    from hirondelle.networks.base import OutgoingPost
    from hirondelle.networks.mastodon import MastodonAdapter
    from tests.support.mastodon_peer import Recorder
    from tests.support.x_archive import sample_spec, write_archive

    recorder = Recorder()
    with MastodonAdapter(
        mastodon_peer.base_url,
        "alice_token",
        backdate=True,
        session=recorder.attach(requests.Session()),
    ) as adapter:
        adapter.publish(
            OutgoingPost(
                text="Archive", key="k1", created_at=datetime(2019, 3, 4, 5, 6, tzinfo=UTC)
            )
        )
    [post] = [r for r in recorder.requests if r.path == "/api/v1/statuses"]
    assert dict(post.body)["scheduled_at"] == "2019-03-04T05:06:00+00:00"

    inst = add_institution("gts", "GTS (test)", page_url="https://www.example.fr/gts.html")
    set_server(
        inst,
        "gotosocial",
        mastodon_peer.base_url,
        "mock.local",
        credentials={"admin_token": "alice_token"},
    )
    load_roster(inst, roster_csv(1, email_tag="gts"))
    fediverse.provision(inst)
    official = Official.objects.get(institution=inst)
    person = django_user_model.objects.create(username="gts-official")
    spec = sample_spec(seed=6, n_posts=8, account_id=str(x_id_from_db(official.x_id)))
    migration = import_archive(write_archive(tmp_path, spec), owner=person).migration
    summary = plan_history(official, migration, network="mastodon")
    account = ConnectedAccount.objects.get(user=person, network="mastodon")
    assert account.credentials["backdate"] is True
    running.run_until_idle([account], sleep=time.sleep)
    username = official.fediverse_address.split("@")[0]
    me = mastodon_peer.get("/api/v1/accounts/lookup", acct=username)["id"]
    statuses = mastodon_peer.get(f"/api/v1/accounts/{me}/statuses", limit=40)
    assert len(statuses) == summary.parts
    assert all(s["visibility"] == "public" for s in statuses)
