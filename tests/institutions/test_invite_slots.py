"""The PDS's reset-e-mail budget is shared by every worker and the claim page:
two askers at the same instant must never both take the hour's last slot."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hirondelle.institutions import tasks
from hirondelle.institutions.models import Institution, Official, ResetEmail, Server
from hirondelle.institutions.services import claim, invites
from hirondelle.networks.institution.pds import RESET_EMAILS_PER_HOUR


def _institution_with_one_slot_left() -> tuple[Server, list[Official]]:
    inst = Institution.objects.create(slug="slots", name="Slots", handle_domain="slots.example.fr")
    server = Server.objects.create(
        institution=inst, kind="pds", url="https://pds.example.fr", domain=".example.fr"
    )
    officials = [
        Official.objects.create(
            institution=inst, name=f"Official {i}", x_id=100 + i, email=f"o{i}@example.fr"
        )
        for i in range(3)
    ]
    earlier = timezone.now() - timedelta(minutes=30)
    ResetEmail.objects.bulk_create(
        ResetEmail(server=server, official=officials[2], sent_at=earlier)
        for _ in range(RESET_EMAILS_PER_HOUR - 1)
    )
    return server, officials


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_askers_at_once_never_both_take_the_last_slot(monkeypatch):
    server, officials = _institution_with_one_slot_left()
    # Both askers count the budget at the same time, if nothing keeps them apart.
    meet = threading.Barrier(2, timeout=2)
    counted = invites.next_slot

    def next_slot_together(*args, **kwargs):
        # If the other asker is held back by the lock, the wait breaks: go on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            meet.wait()
        return counted(*args, **kwargs)

    monkeypatch.setattr(invites, "next_slot", next_slot_together)
    outcomes: dict[int, object] = {}

    def ask(official: Official) -> None:
        try:
            outcomes[official.pk] = invites.take_slot(server, official, first=True)
        finally:
            close_old_connections()

    askers = [threading.Thread(target=ask, args=(o,)) for o in officials[:2]]
    for t in askers:
        t.start()
    for t in askers:
        t.join(30)

    taken = [pk for pk, outcome in outcomes.items() if outcome is True]
    assert len(outcomes) == 2
    assert len(taken) == 1, outcomes
    (waiting,) = [outcome for outcome in outcomes.values() if outcome is not True]
    assert waiting > timezone.now() + timedelta(minutes=25)
    assert ResetEmail.objects.filter(server=server).count() == RESET_EMAILS_PER_HOUR
    assert Official.objects.filter(invite_sent_at__isnull=False).count() == 1


@pytest.mark.django_db
def test_an_official_invited_meanwhile_is_not_invited_again():
    server, officials = _institution_with_one_slot_left()
    stale = Official.objects.get(pk=officials[0].pk)
    assert invites.take_slot(server, officials[0], first=True) is True
    # A second worker still holding the official as uninvited skips them.
    assert stale.invite_sent_at is None
    assert invites.take_slot(server, stale, first=True) is False
    assert ResetEmail.objects.filter(official=officials[0]).count() == 1


@pytest.mark.django_db
def test_a_roster_address_and_a_strangers_cost_the_same(django_capture_on_commit_callbacks):
    """The claim page says the same for both; its database work must not differ either."""
    server, officials = _institution_with_one_slot_left()
    Official.objects.filter(pk=officials[0].pk).update(
        bluesky_state="created", bluesky_did="did:plc:claimable"
    )

    def work(email: str) -> list[str]:
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            claim.request_code(server.institution, email)
        return [q["sql"].split()[0] for q in queries.captured_queries]

    on_roster = work("O0@example.fr")
    stranger = work("nobody@example.fr")
    assert "INSERT" in on_roster
    assert on_roster == stranger
    queued = [r.args_kwargs["args"] for r in DBTaskResult.objects.order_by("enqueued_at")]
    assert queued == [[officials[0].pk], [0]]
    assert tasks.send_claim_code.call(0) == {"sent": False}
