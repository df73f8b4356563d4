"""Officials switched to their full-name handle once it resolves, against the real PDS
and AppView (see conftest).

Hirondelle itself serves `/.well-known/atproto-did` (a WSGI server on 127.0.0.1
running the project's Django app). In production DNS points the handle's host
at it: here no DNS runs, so the guard's resolver is given a stub sending every
name to that local server, and the PDS's and AppView's resolvers fetch the
same URL with the handle as Host header (start.mjs `handle_host`)."""

from __future__ import annotations

import socket
import socketserver
import threading
from datetime import timedelta
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest

from hirondelle.institutions.models import Official
from hirondelle.institutions.services import bluesky
from hirondelle.institutions.services.full_name_handles import switch_handles
from hirondelle.institutions.services.roster import load_roster
from hirondelle.networks import guard
from hirondelle.networks.institution.pds import PdsClient
from tests.institutions.test_bluesky_small import Killed
from tests.support.institution_roster import roster_csv

pytestmark = pytest.mark.django_db(transaction=True)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _Threaded(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture
def hirondelle_server(settings):
    """The project's Django app on 127.0.0.1 (it answers the handles' well-known)."""
    from django.core.wsgi import get_wsgi_application

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".deputes.example.fr", "127.0.0.1"]
    server = make_server("127.0.0.1", 0, get_wsgi_application(), _Threaded, _Quiet)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _policy(port: int) -> guard.Policy:
    """Every name resolves to 127.0.0.1 and every connection goes to `port` (DNS stand-in)."""

    def connect(ip: str, _port: int, timeout: float | None) -> socket.socket:
        return socket.create_connection(("127.0.0.1", port), timeout=timeout)

    return guard.Policy(allow_private=True, resolver=lambda h, p: ["127.0.0.1"], connector=connect)


class Counting(guard.GuardedTransport):
    """Forwards to the PDS; counts the calls per XRPC method; can die after the n-th `kill`."""

    def __init__(self, kill: str = "", n: int = 0) -> None:
        super().__init__(guard.default_policy())
        self.kill, self.n, self.calls = kill, n, {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        nsid = request.url.path.rsplit("/", 1)[-1]
        self.calls[nsid] = self.calls.get(nsid, 0) + 1
        if nsid == self.kill and self.calls[nsid] == self.n:
            response.read()
            raise Killed
        return response


def _profile(peer, did: str) -> dict:
    return httpx.get(
        f"{peer.appview}/xrpc/app.bsky.actor.getProfile", params={"actor": did}, timeout=30
    ).json()


def test_switch_to_the_full_name_handle_when_it_resolves(
    make_stack_institution, institution_stack, hirondelle_server, tag
):
    peer = institution_stack
    inst = make_stack_institution()
    load_roster(inst, roster_csv(3, email_tag=tag))
    bluesky.provision(inst, packs=False)
    own = inst.server("pds").credentials["account"]["did"]
    peer.trust_verifier(own)
    officials = list(Official.objects.filter(institution=inst).order_by("pk"))
    assert all(o.second_handle.endswith(f".{tag}.deputes.example.fr") for o in officials)

    # Nobody answers for the domain yet: nothing switched, and each says what to do.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = closed.getsockname()[1]
    waiting = switch_handles(inst, policy=_policy(nowhere), scheme="http")
    assert waiting.switched == []
    assert len(waiting.waiting) == 3
    reason = waiting.waiting[officials[0].name]
    assert officials[0].second_handle in reason
    assert "HIRONDELLE_ALLOWED_HOSTS" in reason
    officials[0].refresh_from_db()
    assert officials[0].second_handle_problem
    assert officials[0].bluesky_handle.endswith(".social.example.fr")

    # Hirondelle answers now; the network resolves through it. Killed right after the PDS
    # switched the first official and before Hirondelle heard it.
    port = int(hirondelle_server.rsplit(":", 1)[1])
    peer.handle_host(f".{tag}.deputes.example.fr", hirondelle_server)
    with pytest.raises(Killed):
        switch_handles(
            inst,
            policy=_policy(port),
            scheme="http",
            transport=Counting("com.atproto.admin.updateAccountHandle", 1),
        )
    first = Official.objects.get(pk=officials[0].pk)
    assert first.second_handle_at is None  # Hirondelle did not hear it…
    peer.sync()
    view = _profile(peer, first.bluesky_did)
    assert view["handle"] == first.second_handle  # …but the network did,
    assert view["verification"]["verifiedStatus"] == "invalid"  # and the record is now stale

    counting = Counting()
    report = switch_handles(inst, policy=_policy(port), scheme="http", transport=counting)
    assert sorted(report.switched) == sorted(o.second_handle for o in officials)
    assert counting.calls["com.atproto.admin.updateAccountHandle"] == 2  # not the first again
    assert report.verifications_rewritten == 3
    with PdsClient(peer.pds) as pds:
        for o in Official.objects.filter(institution=inst):
            assert o.bluesky_handle == o.second_handle
            assert o.second_handle_at
            assert o.second_handle_problem == ""
            assert o.bluesky_verified
            assert pds.resolve_handle(o.second_handle) == o.bluesky_did
    peer.sync()
    for o in officials:
        view = _profile(peer, o.bluesky_did)
        assert view["handle"] == o.second_handle
        assert view["verification"]["verifiedStatus"] == "valid"

    again = switch_handles(inst, policy=_policy(port), scheme="http", transport=Counting())
    assert (again.switched, again.already, again.waiting) == ([], 3, {})


def test_dns_mode_prints_the_record_to_publish(make_stack_institution, tag):
    inst = make_stack_institution()
    inst.handles_by_dns = True
    inst.save()
    load_roster(inst, roster_csv(1, email_tag=tag))
    bluesky.provision(inst, packs=False)
    official = Official.objects.get(institution=inst)
    asked: list[str] = []

    def no_record(name: str) -> list[str]:  # a stand-in for DNS: no server runs here
        asked.append(name)
        return ['"v=spf1 -all"']

    report = switch_handles(inst, txt_lookup=no_record)
    assert asked == [f"_atproto.{official.second_handle}"]
    reason = report.waiting[official.name]
    assert f'_atproto.{official.second_handle}. 3600 IN TXT "did={official.bluesky_did}"' in reason
    assert "DNS can take" in reason


def test_the_commands_say_what_waits_and_what_the_appview_shows(
    make_stack_institution, institution_stack, hirondelle_server, tag, settings, tmp_path
):
    from click.testing import CliRunner

    from hirondelle.cli import main

    settings.DATA_DIR = tmp_path / "data"
    peer = institution_stack
    inst = make_stack_institution()
    load_roster(inst, roster_csv(2, email_tag=tag))
    bluesky.provision(inst)

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["institution", *args])
        assert result.exit_code == 0, result.output
        return result.output

    def no_dns(host: str, port: int) -> list[str]:  # nothing may leave the machine
        raise OSError(f"no DNS in tests ({host})")

    suite = guard.default_policy()
    guard.configure(suite.with_(resolver=no_dns))
    try:
        out = run("handles", inst.slug)
    finally:
        guard.configure(suite)
    assert "0 switched now, 0 already, 2 waiting" in out
    assert "tried again every hour in the background" in out
    from django_tasks_db.models import DBTaskResult

    retry = DBTaskResult.objects.get(task_path__endswith="switch_full_name_handles")
    assert retry.run_after == inst.server("pds").handles_wake_at
    assert "does not resolve" in out
    assert "HIRONDELLE_ALLOWED_HOSTS" in out
    status = run("status", inst.slug)
    assert "Full-name handles: 0 in use, 2 waiting" in status
    assert "Claim e-mails: 0 sent, 2 to send." in status
    assert f".{tag}.deputes.example.fr: " in status  # the reason, per official

    peer.handle_host(f".{tag}.deputes.example.fr", hirondelle_server)
    port = int(hirondelle_server.rsplit(":", 1)[1])
    assert len(switch_handles(inst, policy=_policy(port), scheme="http").switched) == 2
    peer.trust_verifier(inst.server("pds").credentials["account"]["did"])
    out = run("verify", inst.slug, "--appview", peer.appview, "--appview-wait", "60")
    assert "as the AppView shows it: valid 2; 3 packs and lists in full." in out
    status = run("status", inst.slug)
    assert "Full-name handles: 2 in use, 0 waiting" in status
    assert "As the AppView shows it: valid 2" in status


def test_a_domain_hirondelle_refuses_is_named_before_any_request(make_stack_institution, tag):
    inst = make_stack_institution()
    load_roster(inst, roster_csv(1, email_tag=tag))
    bluesky.provision(inst, packs=False)
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        raise OSError("no DNS in tests")

    policy = guard.default_policy().with_(resolver=resolver)
    report = switch_handles(inst, policy=policy)
    (reason,) = report.waiting.values()
    assert "Hirondelle itself refuses requests" in reason
    assert f".{tag}.deputes.example.fr to HIRONDELLE_ALLOWED_HOSTS" in reason
    assert asked == []

    # The background retry: nothing resolved, so it comes back in an hour (and no request
    # left the machine: Hirondelle's own refusal is found first).
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from hirondelle.institutions import tasks

    before = timezone.now()
    assert tasks.switch_full_name_handles.call(inst.pk) == {"switched": 0, "waiting": 1}
    wake = inst.server("pds").handles_wake_at
    assert wake - before >= timedelta(minutes=59)
    queued = DBTaskResult.objects.get(task_path__endswith="switch_full_name_handles")
    assert queued.run_after == wake
