""" "Follow all of them" through the portal, on mastodon-mock (a MOCK of Mastodon's
API: the follows are real HTTP calls to it, made by the ordinary plan runner)."""

from __future__ import annotations

import time

import pytest

from hirondelle.institutions.models import RosterFollow
from hirondelle.institutions.services import fediverse
from hirondelle.institutions.services.roster import load_roster
from hirondelle.institutions.services.setup import add_institution, set_server
from hirondelle.migration.models import PlanItem
from hirondelle.migration.services import running
from hirondelle.migration.services.accounts import connect_account
from hirondelle.networks.base import Network
from tests.support.institution_roster import roster_csv

pytestmark = pytest.mark.django_db


def test_follow_all_once_in_the_background(mastodon_peer, client, django_user_model):
    inst = add_institution("mairie", "Mairie (test)", page_url="https://www.example.fr/o.html")
    set_server(
        inst,
        "mastodon",
        mastodon_peer.base_url,
        "mock.local",
        credentials={"admin_token": "alice_token"},
    )
    load_roster(inst, roster_csv(5, email_tag="follow"))
    fediverse.provision(inst)

    page = client.get("/institutions/mairie/follow/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in with your Mastodon or Bluesky account" in page.content.decode()

    citizen = django_user_model.objects.create(username="citizen")
    account = connect_account(
        citizen, Network.MASTODON, mastodon_peer.base_url, {"access_token": "alice_token"}
    )
    client.force_login(citizen)
    answer = client.post(
        "/institutions/mairie/follow/",
        {"account": [account.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "5 follows queued" in answer.content.decode()
    again = client.post(
        "/institutions/mairie/follow/",
        {"account": [account.pk]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "0 follows queued" in again.content.decode()
    assert RosterFollow.objects.get(institution=inst, user=citizen).queued == 5

    running.run_until_idle([account], sleep=time.sleep)
    assert PlanItem.objects.filter(account=account, kind="follow", state="done").count() == 5
    me = mastodon_peer.get("/api/v1/accounts/verify_credentials")["id"]
    following = mastodon_peer.get(f"/api/v1/accounts/{me}/following", limit=80)
    followed = {a["username"] for a in following}
    for o in inst.officials.all():
        assert o.fediverse_address.split("@")[0] in followed
