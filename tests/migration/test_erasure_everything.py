""" "Delete everything" leaves nothing of the person, in any table.

The test lists every table of the database (every model Django knows,
auto-created many-to-many tables included, and checks that no other table
exists), snapshots them all while only a bystander (Bob) and the shared
directory exist, then gives Alice one of everything the portal can store for
a person, erases her, and compares every table with the snapshot. The one
kept trace is named below with its reason.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from hirondelle.identity.models import AccountAvatar, ImpersonationReport, Link, NetworkAccount
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.identity.services.reports import report_link
from hirondelle.identity.signals import pack_x_ids
from hirondelle.migration.models import (
    CandidateFace,
    ConnectedAccount,
    DiscoveryCandidate,
    ImportedList,
    ListRebuild,
    PlanItem,
    RetiredCredentials,
)
from hirondelle.migration.services.accounts import replace_credentials
from hirondelle.migration.services.erasure import erase_person, upload_dir
from hirondelle.migration.services.importing import import_archive
from hirondelle.migration.tasks import advance_account, queue_arrivals_task
from hirondelle.portal.models import (
    ArchiveUpload,
    ArrivalNotice,
    NoticeEntry,
    NotificationPreference,
    ReviewChoice,
)
from hirondelle.portal.tasks import import_upload, notice_arrivals, notify_person
from tests.support.x_archive import sample_spec, write_archive

pytestmark = pytest.mark.django_db

#: Columns that change by themselves when a shared row is looked at again.
_VOLATILE = {"updated_at"}
#: Tables that are not about people (Django's own bookkeeping).
_NOT_MODELS = {"django_migrations", "sqlite_sequence", "hirondelle_cache"}


def _models():
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed]


def _snapshot() -> dict[str, set[tuple]]:
    tables = {}
    for model in _models():
        names = [f.attname for f in model._meta.concrete_fields if f.name not in _VOLATILE]
        tables[model._meta.db_table] = {
            tuple(str(v) for v in row) for row in model.objects.values_list(*names)
        }
    return tables


def test_every_table_is_a_model():
    """So the snapshot below covers every table there is."""
    covered = {m._meta.db_table for m in _models()}
    tables = set(connection.introspection.table_names())
    assert tables - covered - _NOT_MODELS == set()


def _bystander(django_user_model, tmp_path):
    bob = django_user_model.objects.create(username="bob")
    spec = sample_spec(seed=11, n_posts=3, n_following=5, n_followers=3)
    import_archive(write_archive(tmp_path / "bob", spec), owner=bob)
    ConnectedAccount.objects.create(
        user=bob,
        network="mastodon",
        server="https://bob.example",
        handle="bob@bob.example",
        remote_id="https://bob.example/users/bob",
        credentials={"access_token": "bob"},
    )
    shared = assert_link(  # an institution's link, Alice will contest it
        spec.following[0],
        "mastodon",
        "mayor@city.example",
        "https://city.example/users/mayor",
        evidence="self",
        asserted_by="roster: City",
    )
    set_consent(spec.following[0], findable=True, auto_followable=True, auto_follow_arrivals=False)
    return bob, spec, shared


def test_delete_everything_leaves_no_row_of_the_person(django_user_model, tmp_path):
    _bob, bob_spec, shared = _bystander(django_user_model, tmp_path)
    before = _snapshot()

    alice = django_user_model.objects.create(username="alice")
    spec = sample_spec(seed=12, n_posts=4, n_following=6, n_followers=4)
    spec.lists_created = ["https://twitter.com/i/lists/1111111111"]
    migration = import_archive(write_archive(tmp_path / "alice", spec), owner=alice).migration
    account = ConnectedAccount.objects.create(
        user=alice,
        network="mastodon",
        server="https://home.example",
        handle="alice@home.example",
        remote_id="https://home.example/users/alice",
        credentials={"access_token": "first"},
    )
    replace_credentials(account, {"access_token": "second"})  # signed in again
    account.save()
    assert RetiredCredentials.objects.filter(user=alice).exists()
    now = timezone.now()
    PlanItem.objects.create(account=account, kind="follow", x_id="1", key="k", next_attempt_at=now)
    ListRebuild.objects.create(
        imported_list=ImportedList.objects.filter(migration=migration).first(),
        account=account,
        name="Friends",
        key="rebuild-alice",
    )
    own = assert_link(
        spec.account.id,
        "mastodon",
        "alice@home.example",
        "https://home.example/users/alice",
        evidence="self",
        asserted_by="alice",
        created_by=alice,
    )
    set_consent(
        spec.account.id,
        findable=True,
        auto_followable=True,
        auto_follow_arrivals=True,
        given_by=alice,
    )
    # Her face, as the directory read it: goes with her account's row.
    AccountAvatar.objects.create(
        account=own.network_account, image=b"webp", source_url="https://x/a", fetched_at=now
    )
    NetworkAccount.objects.filter(pk=own.network_account_id).update(
        display_name="Alice", avatar_state="stored", avatar_digest="0123456789abcdef"
    )
    # A proposal discovery made her, with its picture: hers, gone with her migration.
    DiscoveryCandidate.objects.create(
        migration=migration,
        x_account_id=7,
        network="bluesky",
        account="did:plc:proposed",
        handle="proposed.example",
        evidence="name_match",
    )
    CandidateFace.objects.create(
        migration=migration,
        network="bluesky",
        account="did:plc:proposed",
        state="stored",
        digest="0123456789abcdef",
        image=b"webp",
    )
    contested = assert_link(  # the same strength as the City's: a conflict
        bob_spec.following[0],
        "mastodon",
        "impostor@home.example",
        "https://home.example/users/impostor",
        evidence="self",
        asserted_by="alice",
        created_by=alice,
    )
    assert Link.objects.get(pk=shared.pk).state == Link.State.CONTESTED
    report, _ = report_link(shared, alice, "other", "I am the mayor's neighbour")
    ReviewChoice.objects.create(
        migration=migration, network="mastodon", x_account_id=5, chosen=True
    )
    upload = ArchiveUpload.objects.create(user=alice, files={"data/account.js": 10})
    (upload_dir(alice) / str(upload.pk)).mkdir(parents=True)
    NotificationPreference.objects.create(user=alice, enabled=True, account=account)
    notice = ArrivalNotice.objects.create(user=alice, due_at=now)
    NoticeEntry.objects.create(
        notice=notice, user=alice, network="mastodon", x_account_id=5, handle="h@x", arrived_at=now
    )
    advance_account.enqueue(account.pk)
    notify_person.enqueue(alice.pk)
    import_upload.enqueue(str(upload.pk))
    queue_arrivals_task.enqueue([int(spec.account.id)])
    mixed = queue_arrivals_task.enqueue([int(spec.account.id), int(bob_spec.following[1])])
    # As the directory's signal queues them: ids packed in one string.
    notice_arrivals.enqueue(pack_x_ids([int(spec.account.id)]))
    bobs = [int(bob_spec.following[2]), int(bob_spec.following[3])]
    packed = notice_arrivals.enqueue(pack_x_ids([bobs[0], int(spec.account.id), bobs[1]]))
    session = SessionStore()
    session["_auth_user_id"] = str(alice.pk)  # signed in on another browser
    session.create()
    assert own.state == Link.State.CURRENT
    assert contested.state == Link.State.CONTESTED

    erase_person(alice)

    after = _snapshot()
    kept_report = ImpersonationReport._meta.db_table
    for table, rows in after.items():
        if table == kept_report:
            continue
        if table == DBTaskResult._meta.db_table:
            continue  # checked below: Bob's share of a directory task runs on
        assert rows == before[table], f"{table} keeps rows of the erased person"
    # Kept on purpose: the moderators' record of a report, without who sent
    # it or their words (`forget_reporter`).
    report.refresh_from_db()
    assert (report.reporter_id, report.text) == (None, "")
    assert after[kept_report] - before[kept_report] == {
        r for r in after[kept_report] if r[0] == str(report.pk)
    }
    left = {str(t.id): t.args_kwargs["args"] for t in DBTaskResult.objects.all()}
    assert left == {
        str(mixed.id): [[int(bob_spec.following[1])]],
        str(packed.id): [pack_x_ids(bobs)],
    }
    assert not upload_dir(alice).exists()
    assert Link.objects.get(pk=shared.pk).state == Link.State.CURRENT  # the City wins again
