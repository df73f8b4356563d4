"""The sign-in forms cannot make the portal reach its own network, and say
what failed in plain words, never what a server answered.

The refusals run under a strict guard policy whose resolver and connector
are stubs: a connection attempt fails the test, and no packet leaves this
machine. Where a server must answer, it is a listener on 127.0.0.1 reached
through the stub connector (or with private addresses allowed, as the suite
does for its peers).
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from hirondelle.config import get_settings
from hirondelle.migration.models import ConnectedAccount
from hirondelle.networks import guard
from hirondelle.networks.bluesky import oauth
from hirondelle.portal.models import MastodonApp
from tests.support.listener import PUBLIC, Stubs, answer
from tests.support.ports import free_port

pytestmark = pytest.mark.django_db

INTERNAL = [
    "127.0.0.1",
    "http://127.0.0.1:6379",
    "localhost:5432",
    "2130706433",
    "0x7f.1",
    "017700000001",
    "[::1]",
    "[::ffff:169.254.169.254]",
    "169.254.169.254",
    "https://169.254.169.254/latest/meta-data/",
    "10.0.0.1",
    "inside.example",  # a name that resolves inside
    "@me@metadata.example",
]

NOT_PUBLIC = "is not a public server address"


@pytest.fixture
def strict(monkeypatch) -> Stubs:
    """The guard as a portal runs it: private addresses refused."""
    stubs = Stubs(
        answers={
            "localhost": [["127.0.0.1", "::1"]],
            "inside.example": [["10.1.2.3"]],
            "metadata.example": [["169.254.169.254"]],
        }
    )
    monkeypatch.setattr(guard, "_configured", stubs.policy())
    return stubs


def _page(response) -> str:
    return response.content.decode()


def english() -> Client:
    return Client(headers={"accept-language": "en"})


@pytest.mark.parametrize("server", INTERNAL)
def test_the_mastodon_form_refuses_internal_addresses(strict: Stubs, server: str) -> None:
    response = english().post("/signin/mastodon/", {"server": server}, follow=True)
    assert response.status_code == 200
    assert NOT_PUBLIC in _page(response)
    assert strict.connections == []  # nothing was attempted
    assert not MastodonApp.objects.exists()  # and nothing stored


@pytest.mark.parametrize("server", ["http://10.0.0.1", "169.254.169.254", "inside.example"])
def test_the_bluesky_form_refuses_internal_addresses(strict: Stubs, server: str) -> None:
    response = english().post(
        "/signin/bluesky/",
        {"handle": "eve.example.com", "app_password": "secret-pass", "server": server},
        follow=True,
    )
    page = _page(response)
    assert "public" in page
    assert strict.connections == []
    assert not ConnectedAccount.objects.exists()


def test_a_did_document_naming_an_internal_pds_gets_no_password(
    monkeypatch, strict: Stubs, serve
) -> None:
    """The handle resolves (through the typed server) to a DID whose document
    names a PDS inside: the password is sent nowhere."""
    seen: list[str] = []
    did = "did:plc:eeeeeeeeeeeeeeeeeeeeeeee"

    def world(request) -> None:
        seen.append(request.path + " " + request.body.decode(errors="replace"))
        if "resolveHandle" in request.path:
            answer(request, json.dumps({"did": did}).encode())
        elif request.path == f"/{did}":
            document = {
                "id": did,
                "alsoKnownAs": ["at://eve.example.com"],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": "https://10.0.0.5",
                    }
                ],
            }
            answer(request, json.dumps(document).encode())
        else:
            answer(request, b"{}", status=404)

    port = serve(world)
    strict.local_port = port
    strict.answers.update({"resolver.example": [[PUBLIC]], "plc.example": [[PUBLIC]]})
    monkeypatch.setattr(guard, "_configured", strict.policy(allow_http=True))
    monkeypatch.setenv("HIRONDELLE_BLUESKY_PLC_URL", f"http://plc.example:{port}")
    get_settings.cache_clear()
    try:
        response = english().post(
            "/signin/bluesky/",
            {
                "handle": "eve.example.com",
                "app_password": "secret-pass",
                "server": f"http://resolver.example:{port}",
            },
            follow=True,
        )
    finally:
        get_settings.cache_clear()
    assert NOT_PUBLIC in _page(response)
    assert strict.connections == [(PUBLIC, port), (PUBLIC, port)]  # resolver, PLC: no PDS
    assert not any("secret-pass" in line for line in seen)
    assert not ConnectedAccount.objects.exists()


@pytest.mark.parametrize("allow_http", [False, True], ids=["https-only", "http-allowed"])
def test_a_did_web_on_localhost_is_refused(strict: Stubs, allow_http: bool) -> None:
    """`did:web:localhost` is read over plain HTTP: refused for the scheme, and
    for the address even where plain HTTP is allowed."""
    policy = strict.policy(allow_http=allow_http)
    resolver = oauth.Resolver(http=guard.httpx_client(policy=policy))
    with pytest.raises(oauth.OAuthError) as refused:
        resolver.did_document("did:web:localhost%3A2583")
    assert refused.value.reason == "address"
    assert strict.connections == []


BANNER = "SSH-2.0-OpenSSH_9.6 internal-db-7 redis_version:7.2.4"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (422, json.dumps({"error": BANNER}).encode()),
        (200, BANNER.encode()),
        (500, BANNER.encode()),
        (200, b"[" * 50_000 + b"]" * 50_000),  # deeply nested: a clean error, not a 500
    ],
    ids=["api-error", "not-json", "server-error", "deep-json"],
)
def test_what_a_server_answers_is_never_shown(serve, status: int, body: bytes) -> None:
    """With private addresses allowed (a local server), the answer still stays
    out of the page: only which step failed is said."""
    port = serve(lambda request: answer(request, body, status=status))
    response = english().post(
        "/signin/mastodon/", {"server": f"http://127.0.0.1:{port}"}, follow=True
    )
    page = _page(response)
    assert response.status_code == 200
    assert BANNER not in page
    assert "redis" not in page
    assert "Connection" not in page  # no library text (HTTPConnectionPool…)
    assert f"127.0.0.1:{port}" in page  # the server the person typed, named back
    assert not MastodonApp.objects.exists()


def test_an_unreachable_server_names_no_library() -> None:
    response = english().post(
        "/signin/mastodon/", {"server": f"http://127.0.0.1:{free_port()}"}, follow=True
    )
    page = _page(response)
    assert "could not be reached" in page
    assert "HTTPConnectionPool" not in page
    assert "Errno" not in page


def test_the_bluesky_resolver_answer_is_never_shown(serve) -> None:
    port = serve(lambda request: answer(request, BANNER.encode(), status=500))
    response = english().post(
        "/signin/bluesky/",
        {"handle": "eve.example.com", "app_password": "pw", "server": f"http://127.0.0.1:{port}"},
        follow=True,
    )
    page = _page(response)
    assert "could not be reached" in page
    assert BANNER not in page


def test_one_app_registration_per_server(mastodon_peer) -> None:
    base = mastodon_peer.base_url
    for spelling in (base, base + "/", base.upper().replace("HTTP://", "http://"), base.upper()):
        response = Client().post("/signin/mastodon/", {"server": spelling})
        assert response.status_code == 302
        assert response.url.startswith(base + "/oauth/authorize?")
    assert MastodonApp.objects.count() == 1


def test_probing_internal_addresses_is_rate_limited(strict: Stubs, monkeypatch) -> None:
    monkeypatch.setenv("HIRONDELLE_SIGNIN_RATE", "3/h")
    get_settings.cache_clear()
    try:
        client = Client(REMOTE_ADDR="192.0.2.20")
        answers = [
            client.post("/signin/mastodon/", {"server": f"10.0.0.{i}"}).status_code
            for i in range(1, 6)
        ]
    finally:
        get_settings.cache_clear()
    assert answers == [302, 302, 302, 429, 429]
    assert strict.connections == []


def test_the_refusal_is_said_in_french_too(strict: Stubs) -> None:
    client = Client(headers={"accept-language": "fr"})
    response = client.post("/signin/mastodon/", {"server": "169.254.169.254"}, follow=True)
    assert "n’est pas l’adresse d’un serveur public" in _page(response)
    assert strict.connections == []
