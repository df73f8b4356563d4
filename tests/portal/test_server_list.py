"""joinmastodon.org's server list, fetched, checked, cached and refreshed.

A small HTTP server on 127.0.0.1 (tests/support/listener.py) answers in
joinmastodon's format (``GET /servers?language=xx``: a JSON array of
``{domain, version, description, languages, region, categories,
proxied_thumbnail, blurhash, total_users, last_week_users,
approval_required, language, category}``), and also garbage, oversized and
failing answers. It is an imitation of api.joinmastodon.org, not the real one.
"""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hirondelle.cli import main
from hirondelle.config import get_settings
from hirondelle.networks import joinmastodon
from hirondelle.networks.errors import InvalidResponse
from hirondelle.portal.models import ServerList
from hirondelle.portal.services import servers as service
from hirondelle.portal.tasks import refresh_server_list
from tests.support.listener import answer

pytestmark = pytest.mark.django_db


def row(domain: str, **changes) -> dict:
    """One server as joinmastodon.org describes it."""
    base = {
        "domain": domain,
        "version": "4.3.2",
        "description": f"A server called {domain}.",
        "languages": ["fr"],
        "region": "europe",
        "categories": ["general"],
        "proxied_thumbnail": f"https://proxy.joinmastodon.org/x/{domain}",
        "blurhash": "UeKUpFxuo~R%0nW;WCnhF6RjaJt757oJodS$",
        "total_users": 1000,
        "last_week_users": 100,
        "approval_required": False,
        "language": "fr",
        "category": "general",
    }
    return base | changes


GOOD = [
    row("petit.example.fr", last_week_users=50),
    row("grand.example.fr", last_week_users=9000),
    row("art.example.fr", category="art", last_week_users=99999),
    row("ferme.example.fr", approval_required=True, last_week_users=80000),
    row("english.example.org", languages=["en"], last_week_users=70000),
    row("moyen.example.fr", last_week_users=500, languages=["fr", "en", "not a code!"]),
]


class FakeList:
    """What the imitation answers next, and every request it saw."""

    def __init__(self) -> None:
        self.body: bytes = json.dumps(GOOD).encode()
        self.status = 200
        self.length = True
        self.requests: list[dict] = []

    def __call__(self, request) -> None:
        self.requests.append(parse_qs(urlsplit(request.path).query))
        answer(request, self.body, status=self.status, length=self.length)


@pytest.fixture
def fake_list(serve, monkeypatch):
    fake = FakeList()
    port = serve(fake)
    monkeypatch.setenv("HIRONDELLE_SERVERS_LIST_URL", f"http://127.0.0.1:{port}/servers")
    get_settings.cache_clear()
    yield fake
    get_settings.cache_clear()


def domains(language: str = "fr") -> list[str]:
    return [s.domain for s in service.suggested_servers(language)]


SHIPPED_FR = [r["domain"] for r in service.shipped_list()["servers"]["fr"]]


def test_a_good_list_is_fetched_checked_and_served_general_and_active_first(fake_list):
    (result,) = service.refresh_servers(["fr"])
    assert result.ok
    assert result.count == 4
    assert fake_list.requests == [{"language": ["fr"]}]
    # open sign-ups only, in French, general servers by activity, then the others
    assert domains("fr") == [
        "grand.example.fr",
        "moyen.example.fr",
        "petit.example.fr",
        "art.example.fr",
    ]
    stored = ServerList.objects.get(language="fr").servers
    moyen = next(s for s in stored if s["domain"] == "moyen.example.fr")
    assert moyen["languages"] == ["fr", "en"]  # the invalid code is dropped
    origin = service.list_origin("fr")
    assert origin.fetched
    assert origin.source == get_settings().servers_list_url
    # English has not been fetched: the shipped list, with its own date
    assert not service.list_origin("en").fetched


def test_the_page_shows_the_fetched_list_and_says_so(fake_list):
    service.refresh_servers(["fr"])
    page = Client(headers={"accept-language": "fr"}).get("/signin/").content.decode()
    assert "grand.example.fr" in page
    assert "https://grand.example.fr/auth/sign_up" in page
    assert "ferme.example.fr" not in page
    assert "mise à jour le" in page  # "updated on <date>", in French


@pytest.mark.parametrize(
    ("body", "length"),
    [
        (b"<html><body>Bad gateway</body></html>", True),
        (b'{"servers": []}', True),
        (b"[]", True),
        (b"[" * 5000 + b"]" * 5000, True),
        (json.dumps([1, "two", None, [row("nested.example.fr")]]).encode(), True),
        (
            json.dumps(
                [
                    row("127.0.0.1"),
                    row("localhost"),
                    row("evil..example.fr"),
                    row("-dash.example.fr"),
                    row("x" * 70 + ".example.fr"),
                    row("https://scheme.example.fr/"),
                    row("ok.example.local"),
                    row("<script>.example.fr"),
                    row("num.example.fr", total_users="1000"),
                    row("neg.example.fr", last_week_users=-1),
                    row("huge.example.fr", total_users=10**12),
                    row("bool.example.fr", last_week_users=True),
                    row("float.example.fr", total_users=1.5),
                    row("approval.example.fr", approval_required="no"),
                    row("langs.example.fr", languages="fr"),
                    row("nolang.example.fr", languages=["de"]),
                ]
            ).encode(),
            True,
        ),
        (b"[" + b",".join([json.dumps(row("big.example.fr")).encode()] * 20000) + b"]", True),
        (b"[" + b",".join([json.dumps(row("big.example.fr")).encode()] * 20000) + b"]", False),
    ],
    ids=[
        "html",
        "object",
        "empty",
        "deep",
        "not-servers",
        "every-field-wrong",
        "oversized",
        "oversized-no-length",
    ],
)
def test_a_hostile_answer_keeps_the_last_good_list(fake_list, body, length):
    service.refresh_servers(["fr"])
    good = domains("fr")
    fake_list.body, fake_list.length = body, length
    (result,) = service.refresh_servers(["fr"])
    assert not result.ok
    assert domains("fr") == good
    stored = ServerList.objects.get(language="fr")
    assert stored.error
    assert service.list_origin("fr").fetched


def test_every_field_wrong_means_no_server_at_all():
    bad = json.dumps([row("127.0.0.1"), row("num.example.fr", total_users="1")]).encode()
    with pytest.raises(InvalidResponse):
        joinmastodon.parse_servers(bad, "fr")


def test_text_is_plain_visible_and_short():
    description = (
        "<p>Bienvenue&nbsp;!</p><script>alert(1)</script>\u202eevil\u200b " + "très long " * 100
    )
    (server,) = joinmastodon.parse_servers(
        json.dumps([row("Texte.Example.FR.", description=description)]).encode(), "fr"
    )
    assert server.domain == "texte.example.fr"
    assert "<" not in server.description
    assert ">" not in server.description
    assert "\u202e" not in server.description
    assert "\u200b" not in server.description
    assert server.description.startswith("Bienvenue ! alert(1) evil très long")
    assert len(server.description) <= joinmastodon.DESCRIPTION_CHARS
    assert server.description.endswith("…")


def test_a_failing_server_and_no_list_ever_fetched_serve_the_shipped_list(fake_list):
    fake_list.status = 503
    (result,) = service.refresh_servers(["fr"])
    assert "503" in result.error
    assert domains("fr") == SHIPPED_FR
    assert not service.list_origin("fr").fetched


def test_an_unreachable_list_serves_the_shipped_one(monkeypatch):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HIRONDELLE_SERVERS_LIST_URL", f"http://127.0.0.1:{port}/servers")
    get_settings.cache_clear()
    (result,) = service.refresh_servers(["fr"])
    assert not result.ok
    assert domains("fr") == SHIPPED_FR


def test_an_empty_address_turns_the_list_off(fake_list, monkeypatch):
    service.refresh_servers(["fr"])
    monkeypatch.setenv("HIRONDELLE_SERVERS_LIST_URL", "")
    get_settings.cache_clear()
    assert domains("fr") == SHIPPED_FR  # the cached list is not used either
    assert service.request_refresh("fr") is False
    result = CliRunner().invoke(main, ["servers", "refresh"])
    assert result.exit_code == 1
    assert "turned off" in result.output
    assert len(fake_list.requests) == 1


def test_pages_never_wait_they_queue_one_refresh_when_stale(
    fake_list, django_capture_on_commit_callbacks
):
    client = Client(headers={"accept-language": "fr"})
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get("/signin/").content.decode()
    assert fake_list.requests == []  # the page did not fetch
    assert "piaille.fr" in page  # it showed the shipped list at once
    (task,) = DBTaskResult.objects.all()
    assert task.task_path.endswith("refresh_server_list")
    assert task.args_kwargs["args"] == [["fr"]]
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/signin/")
    assert DBTaskResult.objects.count() == 1  # one request, not one per page
    # the worker runs it
    assert refresh_server_list.call(["fr"]) == {"fr": 4}
    with django_capture_on_commit_callbacks(execute=True):
        assert "grand.example.fr" in client.get("/signin/").content.decode()
    assert DBTaskResult.objects.count() == 1  # fresh: nothing queued


def test_the_list_is_fetched_again_once_older_than_its_ttl(fake_list, monkeypatch):
    monkeypatch.setenv("HIRONDELLE_SERVERS_LIST_TTL_HOURS", "6")
    get_settings.cache_clear()
    service.refresh_servers(["fr"])
    now = timezone.now()
    assert not service.request_refresh("fr", now=now + timedelta(hours=5))
    assert service.request_refresh("fr", now=now + timedelta(hours=7))
    # asked, not yet answered: no second request right away
    assert not service.request_refresh("fr", now=now + timedelta(hours=7, minutes=1))
    # the answer never came (a killed worker): asked again later
    assert service.request_refresh("fr", now=now + timedelta(hours=8))


def test_a_portal_list_is_never_fetched(fake_list, monkeypatch):
    monkeypatch.setenv("HIRONDELLE_RECOMMENDED_SERVERS", '["one.example"]')
    get_settings.cache_clear()
    assert service.request_refresh("fr") is False
    assert domains("fr") == ["one.example"]


def test_the_command_line_refreshes_and_shows(fake_list):
    result = CliRunner().invoke(main, ["servers", "refresh", "--json"])
    assert result.exit_code == 0, result.output
    data = {r["language"]: r for r in json.loads(result.output)}
    assert data["fr"]["ok"]
    assert data["fr"]["count"] == 4
    assert data["en"]["ok"]
    assert data["en"]["count"] == 2
    shown = CliRunner().invoke(main, ["servers", "show", "--language", "en", "--json"])
    assert json.loads(shown.output)["servers"][0]["domain"] == "english.example.org"
    fake_list.body = b"garbage"
    failed = CliRunner().invoke(main, ["servers", "refresh", "--language", "fr"])
    assert failed.exit_code == 1
    assert "the last good list stays" in failed.output
    wrong = CliRunner().invoke(main, ["servers", "refresh", "--language", "de"])
    assert wrong.exit_code == 1
    assert "No page is written in de" in wrong.output
