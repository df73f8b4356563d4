"""Layered fixtures: a person → an imported archive → directory links → a connected account."""

from __future__ import annotations

import pytest

from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.importing import import_archive
from tests.support.x_archive import sample_spec, write_archive


@pytest.fixture
def person(django_user_model):
    return django_user_model.objects.create(username="alice")


@pytest.fixture
def spec():
    return sample_spec(seed=7, n_posts=40, n_following=20, n_followers=10)


@pytest.fixture
def migration(person, spec, tmp_path):
    path = write_archive(tmp_path, spec)
    return import_archive(path, owner=person).migration


def link(x_id, network="mastodon", evidence="roster", *, consent=True, auto=True, n=None):
    n = n if n is not None else x_id
    if network == "mastodon":
        handle, uri = f"u{n}@remote.example", f"https://remote.example/users/u{n}"
    else:
        handle, uri = f"u{n}.test", f"did:plc:{str(n).rjust(24, 'a')[:24]}"
    made = assert_link(x_id, network, handle, uri, evidence=evidence, asserted_by="test")
    if consent:
        set_consent(x_id, findable=True, auto_followable=auto, auto_follow_arrivals=False)
    return made


@pytest.fixture
def mastodon_account(person):
    return ConnectedAccount.objects.create(
        user=person,
        network="mastodon",
        server="https://home.example",
        handle="alice@home.example",
        remote_id="https://home.example/users/alice",
        credentials={"access_token": "t"},
    )


@pytest.fixture
def bluesky_account(person):
    return ConnectedAccount.objects.create(
        user=person,
        network="bluesky",
        server="https://pds.example",
        handle="alice.test",
        remote_id="did:plc:aliceaaaaaaaaaaaaaaaaaaa",
        credentials={"app_password": "p"},
    )
