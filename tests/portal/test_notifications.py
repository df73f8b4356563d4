"""Arrival notices: opt-in on the "since then" page, delivered by the person's
own Mastodon account (or the operator's notifier) as a direct status.

Delivery runs against the suite's `mastodon-mock` server (an imitation of
Mastodon's API: it stores direct statuses and mentions, honours
`Idempotency-Key`, and skips notifications for one's own mention, like
Mastodon). The preference form runs through Django's test client.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from hirondelle.config import get_settings
from hirondelle.migration.models import ConnectedAccount, PlanItem
from hirondelle.migration.services.accounts import connect_account
from hirondelle.migration.services.adapters import adapter_for
from hirondelle.migration.services.erasure import erase_person
from hirondelle.migration.services.importing import import_archive
from hirondelle.networks.base import Network
from hirondelle.portal.models import ArrivalNotice, NoticeEntry, NotificationPreference
from hirondelle.portal.services.notifications import (
    people_to_notify,
    process_person,
    render_notice,
    save_preference,
    send_notice,
)
from hirondelle.portal.tasks import schedule_notices
from tests.migration.conftest import link
from tests.portal.conftest import user_of
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db


# --- fixtures -----------------------------------------------------------------


@pytest.fixture
def spec():
    return sample_spec(seed=11, n_posts=2, n_following=40, n_followers=10)


@pytest.fixture
def person(django_user_model, spec, tmp_path):
    user = django_user_model.objects.create(username="mastodon:alice")
    import_archive(write_archive(tmp_path, spec), owner=user)
    return user


@pytest.fixture
def own_account(person, mastodon_peer):
    """alice's real account on the mock server."""
    return connect_account(
        person, Network.MASTODON, mastodon_peer.base_url, {"access_token": "alice_token"}
    )


def _opt_in(person, account, frequency="immediate", language="en", since=None):
    pref = save_preference(
        person, enabled=True, account=account, frequency=frequency, language=language
    )
    pref.since = since or timezone.now() - timedelta(hours=1)
    pref.save(update_fields=["since"])
    return pref


def _later(minutes: float):
    return lambda: timezone.now() + timedelta(minutes=minutes)


def _alice_statuses(peer) -> list[dict]:
    me = peer.get("/api/v1/accounts/verify_credentials")
    return peer.get(f"/api/v1/accounts/{me['id']}/statuses", limit=40)


# --- delivery -------------------------------------------------------------------


def test_an_arrival_makes_exactly_one_private_notice(person, own_account, spec, mastodon_peer):
    _opt_in(person, own_account)
    newcomer = spec.following[0]
    link(newcomer)
    PlanItem.objects.create(  # Hirondelle follows this one for alice
        account=own_account,
        kind="follow",
        origin="arrival",
        x_id=str(newcomer),
        key="k1",
        next_attempt_at=timezone.now(),
    )
    other = spec.followers[0]
    link(other, "bluesky")

    # Gathered at once, sent after the short grouping window.
    assert process_person(person.pk) is not None
    assert _alice_statuses(mastodon_peer) == []
    process_person(person.pk, now=_later(5))
    process_person(person.pk, now=_later(6))  # the task runs twice: nothing more

    statuses = _alice_statuses(mastodon_peer)
    assert len(statuses) == 1
    status = statuses[0]
    assert status["visibility"] == "direct"
    text = status["content"]
    assert f"u{newcomer}@remote.example (followed for you)" in text
    assert f"u{other}.test (not followed)" in text
    assert "2 people of your X network arrived" in text
    notice = ArrivalNotice.objects.get()
    assert notice.state == ArrivalNotice.State.SENT
    assert notice.remote_id == str(status["id"])
    assert NoticeEntry.objects.filter(notice=notice).count() == 2


def test_killed_after_the_post_was_accepted_sends_nothing_twice(
    person, own_account, spec, mastodon_peer
):
    _opt_in(person, own_account)
    link(spec.following[1])

    class Killed(Exception):
        pass

    def dies_after_posting(account):
        adapter = adapter_for(account)
        real = adapter.publish

        def publish(post):
            real(post)  # the server accepted it…
            raise Killed  # …and the worker died before recording it

        adapter.publish = publish
        return adapter

    process_person(person.pk)
    notice = ArrivalNotice.objects.get()
    with pytest.raises(Killed):
        send_notice(notice.pk, now=_later(5), adapter_factory=dies_after_posting)
    notice.refresh_from_db()
    assert notice.state == ArrivalNotice.State.SENDING
    assert notice.remote_id == ""
    assert len(_alice_statuses(mastodon_peer)) == 1

    # Another worker before the lock expires leaves it alone…
    assert send_notice(notice.pk, now=_later(5.5)) == "not_due"
    # …and after it, finds the same post through the idempotency key.
    assert send_notice(notice.pk, now=_later(30)) == "sent"
    statuses = _alice_statuses(mastodon_peer)
    assert len(statuses) == 1
    notice.refresh_from_db()
    assert notice.remote_id == str(statuses[0]["id"])


def test_a_daily_digest_groups_arrivals(person, own_account, spec, mastodon_peer):
    since = timezone.now() - timedelta(hours=1)
    _opt_in(person, own_account, frequency="daily", since=since)
    link(spec.following[2])
    wake = process_person(person.pk)
    assert wake == since + timedelta(days=1)
    link(spec.following[3])
    process_person(person.pk, now=_later(60 * 5))
    assert _alice_statuses(mastodon_peer) == []
    process_person(person.pk, now=lambda: since + timedelta(days=1, minutes=1))

    statuses = _alice_statuses(mastodon_peer)
    assert len(statuses) == 1
    assert f"u{spec.following[2]}@remote.example" in statuses[0]["content"]
    assert f"u{spec.following[3]}@remote.example" in statuses[0]["content"]
    assert ArrivalNotice.objects.get().entries.count() == 2

    # The next arrival waits for the next day's digest.
    link(spec.following[4])
    wake = process_person(person.pk, now=lambda: since + timedelta(days=1, minutes=2))
    assert wake == since + timedelta(days=2)
    assert len(_alice_statuses(mastodon_peer)) == 1


def test_opting_out_stops_notices(person, own_account, spec, mastodon_peer):
    _opt_in(person, own_account)
    link(spec.following[5])
    process_person(person.pk)
    save_preference(
        person, enabled=False, account=own_account, frequency="immediate", language="en"
    )
    assert process_person(person.pk, now=_later(10)) is None
    assert _alice_statuses(mastodon_peer) == []
    assert ArrivalNotice.objects.get().state == ArrivalNotice.State.CANCELLED
    link(spec.following[6])
    process_person(person.pk, now=_later(20))
    assert ArrivalNotice.objects.count() == 1
    assert people_to_notify([spec.following[6]]) == []


def test_the_message_speaks_the_persons_language(person, own_account, spec, mastodon_peer):
    _opt_in(person, own_account, language="fr")
    link(spec.following[7])
    process_person(person.pk)
    process_person(person.pk, now=_later(5))
    text = _alice_statuses(mastodon_peer)[0]["content"]
    assert "personne de votre réseau X est arrivée" in text
    assert "arrived" not in text


def test_a_spent_budget_means_later_not_failed(person, own_account, spec, mastodon_peer):
    _opt_in(person, own_account)
    link(spec.following[8])
    own_account.budget = {
        "posts": {"limit": 300, "period": 10800, "used": 300, "reset_at": time.time() + 3600}
    }
    own_account.save()
    process_person(person.pk)
    notice = ArrivalNotice.objects.get()
    assert send_notice(notice.pk, now=_later(5)) == "retry"
    notice.refresh_from_db()
    assert notice.state == ArrivalNotice.State.SENDING
    assert notice.attempts == 0
    assert notice.locked_until > timezone.now() + timedelta(minutes=30)
    assert _alice_statuses(mastodon_peer) == []

    ConnectedAccount.objects.filter(pk=own_account.pk).update(budget={})
    assert send_notice(notice.pk, now=_later(90)) == "sent"
    assert len(_alice_statuses(mastodon_peer)) == 1


def test_the_operator_notifier_sends_a_real_notification(
    person, own_account, spec, mastodon_peer, monkeypatch
):
    operator = get_user_model().objects.create(username="local")
    bob = connect_account(
        operator, Network.MASTODON, mastodon_peer.base_url, {"access_token": "bob_token"}
    )
    monkeypatch.setenv("HIRONDELLE_NOTIFIER_MASTODON", bob.handle)
    get_settings.cache_clear()
    try:
        _opt_in(person, own_account)
        link(spec.following[9])
        process_person(person.pk)
        process_person(person.pk, now=_later(5))
    finally:
        get_settings.cache_clear()

    assert _alice_statuses(mastodon_peer) == []
    mentions = mastodon_peer.get("/api/v1/notifications", types=["mention"])
    assert len(mentions) == 1
    status = mentions[0]["status"]
    assert status["visibility"] == "direct"
    assert mentions[0]["account"]["acct"] == "bob"
    assert [m["acct"] for m in status["mentions"]] == ["alice"]
    assert ArrivalNotice.objects.get().sender == bob.handle


def test_a_notifier_handle_on_someone_elses_profile_is_ignored(
    person, own_account, spec, mastodon_peer, monkeypatch
):
    stranger = get_user_model().objects.create(username="mastodon:bob")
    bob = connect_account(
        stranger, Network.MASTODON, mastodon_peer.base_url, {"access_token": "bob_token"}
    )
    monkeypatch.setenv("HIRONDELLE_NOTIFIER_MASTODON", bob.handle)
    get_settings.cache_clear()
    try:
        _opt_in(person, own_account)
        link(spec.following[10])
        process_person(person.pk)
        process_person(person.pk, now=_later(5))
    finally:
        get_settings.cache_clear()
    assert len(_alice_statuses(mastodon_peer)) == 1
    assert ArrivalNotice.objects.get().sender == own_account.handle


def test_a_long_list_is_cut_with_a_count_and_a_link(person, own_account, spec, monkeypatch):
    monkeypatch.setenv("HIRONDELLE_PUBLIC_URL", "https://portal.example")
    get_settings.cache_clear()
    try:
        pref = _opt_in(person, own_account)
        for x_id in spec.following[:30]:
            link(x_id)
        process_person(person.pk)
        notice = ArrivalNotice.objects.get()
        text = render_notice(notice, language="en", mention="@alice", limit=500)
    finally:
        get_settings.cache_clear()
    assert len(text) <= 500
    assert text.startswith("@alice Hirondelle: 30 people of your X network arrived.")
    shown = text.count("@remote.example (")
    assert 0 < shown < 30
    assert f"…and {30 - shown} more." in text
    assert text.endswith("https://portal.example/later/")
    assert pref.language == "en"


def test_erasing_the_person_erases_their_notices(person, own_account, spec):
    _opt_in(person, own_account)
    link(spec.following[11])
    process_person(person.pk)
    assert NoticeEntry.objects.exists()
    erase_person(person)
    assert not NotificationPreference.objects.exists()
    assert not ArrivalNotice.objects.exists()
    assert not NoticeEntry.objects.exists()


def test_an_arrival_wakes_only_opted_in_people(person, own_account, spec):
    x_id = spec.following[12]
    assert people_to_notify([x_id]) == []
    _opt_in(person, own_account)
    assert people_to_notify([x_id]) == [person.pk]
    assert schedule_notices(person.pk)
    assert not schedule_notices(person.pk)  # one wake-up queued at a time


# --- the preference form ------------------------------------------------------


def _mastodon_account_for(user, name="alice") -> ConnectedAccount:
    return ConnectedAccount.objects.create(
        user=user,
        network="mastodon",
        server="https://home.example",
        handle=f"{name}@home.example",
        remote_id=f"https://home.example/users/{name}",
        credentials={"access_token": "t"},
    )


def test_notices_are_off_by_default(alice, alice_migration):
    _mastodon_account_for(user_of(alice))
    page = alice.get("/later/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="notice-form"' in html
    assert 'name="enabled" checked' not in html
    assert not NotificationPreference.objects.exists()


def test_bluesky_only_people_are_told_why(alice, alice_migration):
    html = alice.get("/later/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="notice-form"' not in html
    assert "notices need a Mastodon account" in html


def test_opting_in_needs_the_csrf_token(alice, alice_migration):
    user = user_of(alice)
    account = _mastodon_account_for(user)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    data = {"enabled": "on", "account": account.pk, "frequency": "weekly"}
    assert strict.post("/later/", data).status_code == 403
    assert not NotificationPreference.objects.exists()

    strict.get("/later/")
    token = strict.cookies[settings.CSRF_COOKIE_NAME].value
    strict.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = strict.post("/later/", {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=user)
    assert (pref.enabled, pref.account_id, pref.frequency, pref.language) == (
        True,
        account.pk,
        "weekly",
        "en",
    )
    assert 'name="enabled" checked' in strict.get("/later/").content.decode()


def test_another_persons_account_cannot_be_chosen(alice, bob, alice_migration):
    alices = _mastodon_account_for(user_of(alice))
    _mastodon_account_for(user_of(bob), name="bob")
    response = bob.post(
        "/later/", {"enabled": "on", "account": alices.pk, "frequency": "immediate"}
    )
    assert response.status_code == 200  # the form again, with its error
    assert not NotificationPreference.objects.exists()


def test_opting_in_without_a_mastodon_account_is_refused(alice, alice_migration):
    response = alice.post(
        "/later/", {"enabled": "on", "frequency": "immediate"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert not NotificationPreference.objects.filter(enabled=True).exists()


def test_opting_out_from_the_page(alice, alice_migration):
    user = user_of(alice)
    account = _mastodon_account_for(user)
    alice.post("/later/", {"enabled": "on", "account": account.pk, "frequency": "daily"})
    assert NotificationPreference.objects.get(user=user).enabled
    alice.post("/later/", {"account": account.pk, "frequency": "daily"})
    assert not NotificationPreference.objects.get(user=user).enabled


def test_a_directory_change_leads_to_a_notice_through_the_tasks(
    person, own_account, spec, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from hirondelle.portal.tasks import notice_arrivals, notify_person

    _opt_in(person, own_account)
    x_id = spec.following[13]
    with django_capture_on_commit_callbacks(execute=True):
        link(x_id)
    queued = list(DBTaskResult.objects.filter(task_path__endswith=".notice_arrivals"))
    assert queued
    for row in queued:
        notice_arrivals.call(*row.args_kwargs["args"])
    woken = DBTaskResult.objects.filter(task_path__endswith=".notify_person")
    assert [row.args_kwargs["args"] for row in woken] == [[person.pk]]

    notify_person.call(person.pk)
    notice = ArrivalNotice.objects.get()
    assert notice.state == ArrivalNotice.State.PENDING
    assert [e.handle for e in notice.entries.all()] == [f"u{x_id}@remote.example"]
    # The worker comes back when the notice is due.
    assert NotificationPreference.objects.get(user=person).wake_at == notice.due_at
    assert DBTaskResult.objects.filter(task_path__endswith=".notify_person").count() == 2


def test_an_arrival_seen_again_is_not_announced_again(person, own_account, spec, mastodon_peer):
    _opt_in(person, own_account)
    x_id = spec.following[14]
    link(x_id)
    process_person(person.pk)
    process_person(person.pk, now=_later(5))
    # The same person's link, asserted again with stronger evidence.
    link(x_id, evidence="domain")
    process_person(person.pk, now=_later(10))
    process_person(person.pk, now=_later(20))
    assert ArrivalNotice.objects.count() == 1
    assert NoticeEntry.objects.count() == 1
    assert len(_alice_statuses(mastodon_peer)) == 1


def test_a_notice_left_by_a_killed_worker_is_swept_up(person, own_account, spec):
    from hirondelle.portal.services.notifications import forgotten_people

    _opt_in(person, own_account)
    link(spec.following[15])
    process_person(person.pk)
    assert forgotten_people() == []  # not due yet
    later = timezone.now() + timedelta(minutes=5)
    assert forgotten_people(now=later) == [person.pk]
    # A wake-up is queued: nobody is forgotten…
    NotificationPreference.objects.filter(user=person).update(wake_at=later)
    assert forgotten_people(now=later) == []
    # …unless it should have run long ago.
    assert forgotten_people(now=later + timedelta(hours=1)) == [person.pk]
    # A wake-up time long past belongs to a lost task: a new one is queued.
    NotificationPreference.objects.filter(user=person).update(
        wake_at=timezone.now() - timedelta(hours=1)
    )
    assert schedule_notices(person.pk)
    assert not schedule_notices(person.pk)


def test_the_page_says_how_the_last_message_went(alice, bob, alice_migration):
    ArrivalNotice.objects.create(
        user=user_of(alice),
        state=ArrivalNotice.State.FAILED,
        due_at=timezone.now(),
        last_error="The access token was revoked",
    )
    _mastodon_account_for(user_of(alice))
    html = alice.get("/later/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # In plain words, with what to do; the server's own text stays in the log.
    assert "The last message could not be sent. Check that your Mastodon account" in html
    assert "access token" not in html
    _mastodon_account_for(user_of(bob), name="bob")
    assert "could not be sent" not in bob.get("/later/").content.decode()  # nobody else's


def test_a_notice_of_unknown_fate_is_not_sent_after_the_key_expired(
    person, own_account, spec, mastodon_peer
):
    """Mastodon forgets an idempotency key after an hour: past that, giving up
    is the only way to be sure nothing arrives twice."""
    _opt_in(person, own_account)
    link(spec.following[16])

    def dies_after_posting(account):
        adapter = adapter_for(account)
        real = adapter.publish

        def publish(post):
            real(post)
            raise KeyboardInterrupt  # killed

        adapter.publish = publish
        return adapter

    process_person(person.pk)
    notice = ArrivalNotice.objects.get()
    with pytest.raises(KeyboardInterrupt):
        send_notice(notice.pk, now=_later(5), adapter_factory=dies_after_posting)
    assert send_notice(notice.pk, now=_later(5 + 120)) == "failed"
    notice.refresh_from_db()
    assert notice.state == ArrivalNotice.State.FAILED
    assert "never arrives twice" in notice.last_error
    assert len(_alice_statuses(mastodon_peer)) == 1


def test_a_new_frequency_applies_to_the_batch_being_gathered(alice, alice_migration):
    user = user_of(alice)
    account = _mastodon_account_for(user)
    alice.post("/later/", {"enabled": "on", "account": account.pk, "frequency": "weekly"})
    week = timezone.now() + timedelta(days=7)
    ArrivalNotice.objects.create(user=user, due_at=week)
    NotificationPreference.objects.filter(user=user).update(wake_at=week)

    alice.post("/later/", {"enabled": "on", "account": account.pk, "frequency": "immediate"})
    notice = ArrivalNotice.objects.get()
    assert notice.due_at < timezone.now() + timedelta(minutes=5)
    assert NotificationPreference.objects.get(user=user).wake_at == notice.due_at


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_notice_post_it_once(person, own_account, spec, mastodon_peer):
    import threading

    from django.db import connection

    _opt_in(person, own_account)
    link(spec.following[17])
    process_person(person.pk)
    notice = ArrivalNotice.objects.get()
    start = threading.Barrier(4)
    results: list[str] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(send_notice(notice.pk, now=_later(5)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["not_due", "not_due", "not_due", "sent"]
    assert len(_alice_statuses(mastodon_peer)) == 1
