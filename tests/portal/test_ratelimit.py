"""Sign-ins and uploads are limited per client address, with a clear answer."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from hirondelle.config import get_settings
from hirondelle.portal.services.ratelimit import Rate, check, client_address, parse_rates
from tests.support.ports import free_port


@pytest.fixture
def rates(monkeypatch):
    def set_rates(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"HIRONDELLE_{name.upper()}", value)
        get_settings.cache_clear()

    yield set_rates
    get_settings.cache_clear()


def test_parse_rates_reads_several_and_names_a_bad_one():
    assert parse_rates("10/m, 60/h") == [Rate(10, 60), Rate(60, 3600)]
    assert parse_rates("") == []
    with pytest.raises(ValueError, match="'10 per minute' is not a rate"):
        parse_rates("10 per minute")


def test_check_counts_per_window_and_says_how_long_to_wait():
    rates = [Rate(2, 60)]
    start = 6_000_000.0  # the start of a minute
    assert check("t", "a", rates, now=start) == 0
    assert check("t", "a", rates, now=start + 1) == 0
    assert check("t", "a", rates, now=start + 10) == pytest.approx(50)
    assert check("t", "b", rates, now=start + 10) == 0  # another address
    assert check("u", "a", rates, now=start + 10) == 0  # another scope
    assert check("t", "a", rates, now=start + 60) == 0  # the next window


def test_the_strictest_rate_decides():
    rates = [Rate(100, 60), Rate(3, 3600)]
    start = 36_000_000.0
    for i in range(3):
        assert check("t", "a", rates, now=start + i) == 0
    assert check("t", "a", rates, now=start + 3) == pytest.approx(3597)


def _request(rf, remote: str, forwarded: str = ""):
    request = rf.get("/")
    request.META["REMOTE_ADDR"] = remote
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_client_address_trusts_forwarded_only_behind_configured_proxies(rf, rates):
    request = _request(rf, "10.0.0.1", "6.6.6.6, 203.0.113.7")
    assert client_address(request) == "10.0.0.1"
    rates(trusted_proxies="1")
    # the proxy appended the address it saw; what comes before can be forged
    assert client_address(request) == "203.0.113.7"
    assert client_address(_request(rf, "10.0.0.1")) == "10.0.0.1"


def test_ipv6_counts_by_64(rf):
    one = client_address(_request(rf, "2001:db8:1:2:aaaa::1"))
    two = client_address(_request(rf, "2001:db8:1:2:bbbb::2"))
    other = client_address(_request(rf, "2001:db8:1:3::1"))
    assert one == two == "2001:db8:1:2::/64"
    assert other != one
    assert client_address(_request(rf, "::ffff:192.0.2.1")) == "192.0.2.1"


@pytest.mark.django_db
def test_too_many_sign_ins_from_one_address_answer_429_in_french(rates, fake_networks):
    rates(signin_rate="3/h")
    client = Client(REMOTE_ADDR="192.0.2.10", HTTP_ACCEPT_LANGUAGE="fr")
    url = reverse("portal:signin_bluesky")
    form = {"handle": "ana.test", "app_password": "wrong"}
    for _ in range(3):
        assert client.post(url, form).status_code == 302  # refused by the network, counted
    limited = client.post(url, form)
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 3600
    assert "Trop de tentatives" in limited.content.decode()
    # another address is not affected
    other = Client(REMOTE_ADDR="192.0.2.11").post(url, form)
    assert other.status_code == 302


@pytest.mark.django_db
def test_too_many_uploads_answer_429_in_json(rates, alice):
    rates(upload_rate="2/h")
    url = reverse("portal:upload_new")
    body = {"files": {"data/account.js": 10}, "republish": False}
    answers = [
        alice.post(url, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        for _ in range(3)
    ]
    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert answers[2].status_code == 429
    assert "Too many attempts" in answers[2].json()["error"]


@pytest.fixture
def redis_url():
    """A real redis-server on 127.0.0.1 (scripts/bootstrap installs it)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: scripts/bootstrap installs it (apt redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


def test_a_shared_redis_cache_counts_across_web_processes(redis_url):
    """Two cache clients stand for two web processes: the count is one."""
    settings = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    with override_settings(CACHES={"default": settings, "other": settings}):
        rates = [Rate(3, 3600)]
        now = 72_000_000.0
        assert check("signin", "a", rates, now=now) == 0
        assert check("signin", "a", rates, now=now) == 0
        other = caches["other"]
        assert other.get(f"ratelimit:signin:3600:{int(now // 3600)}:a") == 2
        other.incr(f"ratelimit:signin:3600:{int(now // 3600)}:a")  # the other process's attempt
        assert check("signin", "a", rates, now=now) > 0


@pytest.mark.django_db(transaction=True)
def test_the_database_cache_a_portal_uses_by_default_counts_for_every_process():
    """Without Redis a portal counts in a table: any web process sees the count."""
    from django.core.management import call_command

    table = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "rl_test"}
    with override_settings(CACHES={"default": table, "other": table}):
        call_command("createcachetable")
        rates = [Rate(2, 60)]
        now = 90_000_000.0
        assert check("upload", "a", rates, now=now) == 0
        assert check("upload", "a", rates, now=now) == 0
        assert caches["other"].get(f"ratelimit:upload:60:{int(now // 60)}:a") == 2
        assert check("upload", "a", rates, now=now) > 0


def test_every_sign_in_and_upload_door_is_limited():
    """A new way in must not be a way around the limits."""
    from hirondelle.portal import views

    doors = {
        views.signin_mastodon: "signin",
        views.signin_bluesky: "signin",
        views.signin_bluesky_oauth: "signin",
        views.x_signin_start: "signin",
        views.upload_new: "upload",
    }
    for view, scope in doors.items():
        wrapped, scopes = view, []
        while wrapped is not None:
            scopes.append(getattr(wrapped, "rate_limit_scope", None))
            wrapped = getattr(wrapped, "__wrapped__", None)
        assert scope in scopes, view.__name__


def test_the_default_limits_are_valid_and_not_off():
    settings = get_settings()
    assert parse_rates(settings.signin_rate)
    assert parse_rates(settings.upload_rate)
