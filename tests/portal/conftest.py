"""Fixtures for the portal: people, their archives, and a stand-in network.

Sign-in and runs use `FakeAdapter` (tests/support/fake_network.py), a test
double registered as the adapter factory: these tests are about the pages,
authorization and the upload, not about a network's API.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from hirondelle.migration.services.adapters import register_factory
from hirondelle.migration.services.importing import import_archive
from hirondelle.networks.base import Network, RemoteAccount
from hirondelle.networks.bluesky.oauth import Identity
from hirondelle.portal.services import signin as signin_service
from tests.support.browser import served_portal, shots  # noqa: F401 - fixtures
from tests.support.fake_network import FakeAdapter, FakeServer
from tests.support.x_archive import sample_spec, write_archive


class FakeBluesky(FakeAdapter):
    """The fake network, answering as the Bluesky account whose handle signs in."""

    network = Network.BLUESKY

    def __init__(self, server: FakeServer, handle: str) -> None:
        super().__init__(server, batch=200)
        self.handle = handle

    def whoami(self) -> RemoteAccount:
        return RemoteAccount(self.network, f"did:plc:{self.handle.split('.')[0]}", self.handle)


@dataclass
class FakeNetworks:
    server: FakeServer
    refuse_password: str = "wrong"


def _fake_identity(handle: str, server: str) -> Identity:
    """The fake network's accounts live on one PDS; no DNS, no PLC."""
    return Identity(did=f"did:plc:{handle.split('.')[0]}", handle=handle, pds="https://pds.test")


@pytest.fixture
def fake_networks(monkeypatch):
    """Every account, on either network, talks to one in-memory fake server."""
    monkeypatch.setattr(signin_service, "resolve_identity", _fake_identity)
    server = FakeServer()
    state = FakeNetworks(server)

    def bluesky(account):
        creds = account.credentials or {}
        if creds.get("app_password") == state.refuse_password:
            from hirondelle.networks.errors import AuthExpired

            class Refusing(FakeBluesky):
                def whoami(self):
                    raise AuthExpired("Invalid identifier or password")

            return Refusing(server, account.handle)
        return FakeBluesky(server, account.handle or creds.get("identifier", ""))

    register_factory("bluesky", bluesky)
    register_factory("mastodon", lambda account: FakeAdapter(server))
    yield state
    register_factory("bluesky", None)
    register_factory("mastodon", None)


def sign_in(client: Client, handle: str) -> None:
    response = client.post("/signin/bluesky/", {"handle": handle, "app_password": "app-pass-word"})
    assert response.status_code == 302, response.content


@pytest.fixture
def alice(fake_networks) -> Client:
    client = Client()
    sign_in(client, "alice.test")
    return client


@pytest.fixture
def bob(fake_networks) -> Client:
    client = Client()
    sign_in(client, "bob.test")
    return client


def user_of(client: Client):
    return get_user_model().objects.get(pk=client.session["_auth_user_id"])


@pytest.fixture
def archive_folder(tmp_path):
    spec = sample_spec(seed=3, n_posts=5, n_following=40, n_followers=20)
    return spec, write_archive(tmp_path / "archive", spec, zipped=False)


@pytest.fixture
def alice_migration(alice, archive_folder):
    _spec, folder = archive_folder
    return import_archive(folder, owner=user_of(alice)).migration
