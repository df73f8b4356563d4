"""Claim e-mails within the PDS's real limit (requestPasswordReset: 15 an hour, 50 a day
per client address), against the real PDS (see conftest) and its real e-mails.

Only `test_without_the_bypass_key_invitations_are_paced` asks the PDS without the
bypass key: it uses up the hour's budget of 127.0.0.1 on the shared PDS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from hirondelle.institutions import tasks
from hirondelle.institutions.models import Official, ResetEmail
from hirondelle.institutions.services import bluesky, invites
from hirondelle.institutions.services.roster import load_roster
from hirondelle.networks.errors import RateLimited
from hirondelle.networks.institution.pds import PdsClient, reset_email_slots
from tests.institutions.test_bluesky_small import KillAfter, Killed
from tests.support.institution_roster import roster_csv


def _to(smtp, address: str) -> int:
    return sum(1 for m in list(smtp.messages) if address.lower() in str(m["To"]).lower())


def test_slots_never_exceed_the_hour_or_the_day():
    now = datetime(2026, 3, 1, 9, tzinfo=UTC)
    slots = reset_email_slots(600, [], now)
    assert slots == sorted(slots)
    for i, at in enumerate(slots):
        assert sum(1 for t in slots[: i + 1] if t > at - timedelta(hours=1)) <= 15
        assert sum(1 for t in slots[: i + 1] if t > at - timedelta(days=1)) <= 50
    assert slots[14] == now
    assert slots[15] == now + timedelta(hours=1)
    assert slots[50] == now + timedelta(days=1)
    assert timedelta(days=11) <= slots[-1] - now < timedelta(days=12)
    # what was sent earlier counts
    earlier = [now - timedelta(minutes=50)] * 15
    assert reset_email_slots(1, earlier, now) == [now + timedelta(minutes=10)]


@pytest.mark.django_db(transaction=True)
def test_without_the_bypass_key_invitations_are_paced(make_institution, institution_pds, smtp, tag):
    inst = make_institution(bypass=False)
    load_roster(inst, roster_csv(17, email_tag=tag))
    dry = bluesky.provision(inst, dry_run=True)
    (said,) = [w for w in dry.warnings if "claim e-mails" in w]
    assert "17 claim e-mails" in said
    assert "about an hour" in said
    assert "PDS_RATE_LIMIT_BYPASS_KEY" in said
    bluesky.provision(inst)

    done = tasks.send_invitations.call(inst.pk)  # what the background worker runs
    assert done == {"sent": 15, "left": 2, "failed": 0}
    officials = list(Official.objects.filter(institution=inst).order_by("pk"))
    for o in officials[:15]:
        smtp.wait_for(o.email)
        assert o.bluesky_state == "invited"
        assert o.invite_sent_at
    assert all(o.bluesky_state == "created" for o in officials[15:])
    server = inst.server("pds")
    assert server.invites_wake_at - officials[0].invite_sent_at >= timedelta(minutes=59)
    queued = DBTaskResult.objects.filter(task_path__endswith="send_invitations")
    assert queued.count() == 1
    assert queued.get().run_after == server.invites_wake_at

    # Asked again at once (`hirondelle institution invite`): the PDS is not asked (it
    # would refuse: see below), and the wake-up already queued is not queued twice.
    again = invites.send_due(inst)
    assert (again.sent, again.left, again.next_at) == (0, 2, server.invites_wake_at)
    assert not invites.schedule(inst, again.next_at)
    assert ResetEmail.objects.filter(server=server).count() == 15
    assert queued.count() == 1
    with PdsClient(institution_pds.pds) as pds, pytest.raises(RateLimited) as refused:
        pds.request_password_reset(officials[15].email)
    assert 0 < refused.value.retry_after <= 3600
    assert invites.expected_duration(inst) >= timedelta(minutes=50)


@pytest.mark.django_db(transaction=True)
def test_killed_while_inviting_each_official_is_invited_once(make_institution, smtp, tag):
    inst = make_institution()  # with the bypass key: no pacing
    load_roster(inst, roster_csv(6, email_tag=tag))
    bluesky.provision(inst)
    assert invites.expected_duration(inst) == timedelta(0)
    with pytest.raises(Killed):  # right after the PDS sent the third e-mail
        bluesky.invite(inst, transport=KillAfter("com.atproto.server.requestPasswordReset", 3))
    assert bluesky.invite(inst) == 3
    assert bluesky.invite(inst) == 0
    officials = list(Official.objects.filter(institution=inst).order_by("pk"))
    for o in officials:
        smtp.wait_for(o.email)
    assert [_to(smtp, o.email) for o in officials] == [1] * 6
    # the interrupted one is known to be sent, though its state says it was not confirmed
    assert officials[2].invite_sent_at
    assert officials[2].bluesky_state == "created"
