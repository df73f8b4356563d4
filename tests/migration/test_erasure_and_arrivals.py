"""Deleting everything, and reconnecting people as others arrive."""

from __future__ import annotations

import pytest

from hirondelle.identity.models import Consent, Link
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import ConnectedAccount, Edge, ImportedPost, Migration, PlanItem
from hirondelle.migration.services.arrivals import queue_arrival
from hirondelle.migration.services.erasure import erase_person, upload_dir
from tests.migration.conftest import link

pytestmark = pytest.mark.django_db


def test_erase_person_leaves_nothing(person, migration, spec, mastodon_account):
    own = assert_link(
        spec.account.id,
        "mastodon",
        "alice@home.example",
        "https://home.example/users/alice",
        evidence="self",
        asserted_by="alice",
        created_by=person,
    )
    set_consent(
        spec.account.id,
        findable=True,
        auto_followable=True,
        auto_follow_arrivals=True,
        given_by=person,
    )
    other = link(spec.following[0])  # someone else's link: not the person's data
    PlanItem.objects.create(
        account=mastodon_account, kind="follow", x_id="1", key="k", next_attempt_at=own.asserted_at
    )
    uploads = upload_dir(person)
    uploads.mkdir(parents=True)
    (uploads / "following.js").write_text("[]")

    report = erase_person(person)

    assert report.migrations == 1
    assert report.links == 1
    assert report.accounts_not_revoked == ["alice@home.example (mastodon)"]  # pasted token
    assert not Migration.objects.exists()
    assert not Edge.objects.exists()
    assert not ImportedPost.objects.exists()
    assert not ConnectedAccount.objects.exists()
    assert not PlanItem.objects.exists()
    assert not Link.objects.filter(pk=own.pk).exists()
    assert not Consent.objects.filter(x_account_id=int(spec.account.id)).exists()
    assert Link.objects.filter(pk=other.pk).exists()
    assert not uploads.exists()
    assert not type(person).objects.filter(pk=person.pk).exists()


def _follows_arrivals(spec, person):
    set_consent(
        spec.account.id,
        findable=False,
        auto_followable=False,
        auto_follow_arrivals=True,
        given_by=person,
    )


def test_an_arrival_is_followed_by_those_who_asked(person, migration, spec, mastodon_account):
    _follows_arrivals(spec, person)
    newcomer = spec.following[3]
    arrived = link(newcomer, auto=True)
    accounts = queue_arrival(arrived)
    assert accounts == [mastodon_account]
    item = PlanItem.objects.get()
    assert (item.kind, item.origin, item.x_id) == ("follow", "arrival", newcomer)
    # Noticing the same arrival twice plans nothing more.
    queue_arrival(arrived)
    assert PlanItem.objects.count() == 1


def test_no_arrival_follow_without_both_consents(person, migration, spec, mastodon_account):
    newcomer = spec.following[3]
    arrived = link(newcomer, auto=True)
    assert queue_arrival(arrived) == []  # the follower did not ask for it
    _follows_arrivals(spec, person)
    shy = link(spec.following[4], auto=False)  # the newcomer did not agree
    assert queue_arrival(shy) == []
    assert not PlanItem.objects.exists()


def test_arrivals_below_the_follower_trust_level_wait(person, migration, spec, mastodon_account):
    _follows_arrivals(spec, person)
    weak = link(spec.following[5], evidence="self", auto=True)
    assert queue_arrival(weak) == []


def test_a_directory_change_queues_arrivals_in_the_background(
    person, migration, spec, mastodon_account, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from hirondelle.migration.tasks import queue_arrivals_task

    _follows_arrivals(spec, person)
    with django_capture_on_commit_callbacks(execute=True):
        link(spec.following[6], auto=True)
    queued = DBTaskResult.objects.filter(task_path__endswith="queue_arrivals_task")
    assert queued.exists()
    # What the worker would run:
    for task in queued:
        queue_arrivals_task.call(*task.args_kwargs["args"])
    assert PlanItem.objects.filter(origin="arrival", x_id=spec.following[6]).exists()
    mastodon_account.refresh_from_db()
    assert mastodon_account.wake_at is not None  # the account's work is scheduled
