"""On a laptop (no public address) the command line and the web page are one
person; on a portal (a public address) the command line names the person or
refuses, and each web sign-in keeps its own profile.

In-process: the command line through click's CliRunner, the page through
Django's test client, on the same test database. The networks are the fake
network of tests/support/fake_network.py (a test double: these tests are
about whose data it is, not about a network's API). The same, through a real
`hirondelle serve`, a subprocess command line and Chromium, is in
test_laptop_person_browser.py.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from django.contrib.auth import get_user_model
from django.test import Client

from hirondelle.cli import main
from hirondelle.config import get_settings
from hirondelle.migration.models import ConnectedAccount, Migration
from hirondelle.migration.services.importing import import_archive
from tests.portal.conftest import sign_in, user_of
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_mode(monkeypatch):
    monkeypatch.setenv("HIRONDELLE_PUBLIC_URL", "https://portal.example")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_an_archive_imported_on_the_command_line_is_on_the_page(fake_networks, tmp_path):
    spec = sample_spec(seed=7, n_posts=3, n_following=12, n_followers=5)
    archive = write_archive(tmp_path / "x", spec, zipped=True)
    result = cli("import", str(archive))
    assert result.exit_code == 0, result.output
    client = Client(headers={"accept-language": "en"})
    sign_in(client, "me.test")
    assert user_of(client).username == "local"
    home = client.get("/").content.decode()
    migration = Migration.objects.get()
    assert f"Your archive of @{migration.x_username} is read." in home
    assert client.get("/review/").status_code == 200


def test_what_the_page_uploads_and_connects_the_command_line_uses(fake_networks, tmp_path):
    client = Client(headers={"accept-language": "en"})
    sign_in(client, "me.test")
    spec = sample_spec(seed=8, n_posts=3, n_following=9, n_followers=4)
    folder = write_archive(tmp_path / "x", spec, zipped=False)
    # what the page's upload task does with the person's files
    import_archive(folder, owner=user_of(client))
    accounts = cli("accounts", "--json")
    assert accounts.exit_code == 0, accounts.output
    assert [row["handle"] for row in json.loads(accounts.output)] == ["me.test"]
    # the page's archive is the one the command line finds, named by its @username
    matched = cli("match", "--json", "--account", "@" + spec.account.username)
    assert matched.exit_code == 0, matched.output
    assert set(json.loads(matched.output)) >= {"following", "followers", "blocks", "mutes"}
    planned = cli("plan", "--json")
    assert planned.exit_code == 0, planned.output


def test_the_laptops_person_is_claimed_once_then_others_keep_their_own(fake_networks):
    first, second, again = Client(), Client(), Client()
    sign_in(first, "me.test")
    sign_in(second, "someone-else.test")
    sign_in(again, "me.test")
    assert user_of(first).username == "local"
    assert user_of(again).username == "local"
    assert user_of(second).username != "local"
    assert ConnectedAccount.objects.filter(user__username="local").count() == 1


def test_an_account_the_command_line_connected_signs_the_page_in_as_the_same_person(
    fake_networks,
):
    from hirondelle.identity.services.person import local_person
    from hirondelle.migration.services.accounts import connect_account
    from hirondelle.migration.services.adapters import adapter_for
    from hirondelle.networks.base import Network

    local = local_person()
    probe = ConnectedAccount(user=local, network=Network.BLUESKY, handle="me.test")
    connect_account(
        local,
        Network.BLUESKY,
        "https://pds.test",
        {"identifier": "me.test", "app_password": "p"},
        adapter=adapter_for(probe),
    )
    client = Client()
    sign_in(client, "me.test")
    assert user_of(client) == local
    assert get_user_model().objects.count() == 1


def test_a_sign_in_from_another_machine_never_claims_the_laptops_person(fake_networks):
    client = Client(REMOTE_ADDR="192.168.1.20")
    sign_in(client, "me.test")
    assert user_of(client).username != "local"


def test_a_portal_command_line_names_the_person_or_refuses(portal_mode, fake_networks, tmp_path):
    archive = write_archive(tmp_path / "x", sample_spec(seed=9, n_following=5), zipped=True)
    refused = cli("import", str(archive))
    assert refused.exit_code == 1
    assert "HIRONDELLE_PUBLIC_URL is set" in refused.output
    assert "--user" in refused.output
    assert not Migration.objects.exists()
    as_json = cli("accounts", "--json")
    assert json.loads(as_json.output)["exit_code"] == 1
    unknown = cli("--user", "nobody", "accounts")
    assert unknown.exit_code == 1
    assert "No one is called 'nobody' here" in unknown.output
    # a person of the portal, named: the command acts for them
    client = Client()
    sign_in(client, "marie.test")
    person = user_of(client)
    assert person.username != "local"  # on a portal, nobody becomes the operator
    done = cli("--user", person.username, "import", str(archive))
    assert done.exit_code == 0, done.output
    assert Migration.objects.get().owner == person
    listed = cli("--user", person.username, "accounts", "--json")
    assert [row["handle"] for row in json.loads(listed.output)] == ["marie.test"]
    mine = cli("--user", "local", "accounts", "--json")
    assert json.loads(mine.output) == []
