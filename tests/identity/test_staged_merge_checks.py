"""The snapshot merge never leaves a link to nothing, with or without PostgreSQL's row checks.

A role that may set `session_replication_role` merges with the per-row
foreign-key checks off and holds what the links point to itself
(`staged_merge._hold_references`); any other role keeps the checks. Both
must fail whole when an account the links point to is deleted while they
merge. The suite's PostgreSQL runs as a superuser; `plain_role` runs a
test as a role without that right, and as one granted it.
"""

from __future__ import annotations

import contextlib
import random
import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection

from hirondelle.identity.models import Link, NetworkAccount, XAccount
from hirondelle.identity.services import staged_merge
from hirondelle.identity.services.directory import LinkRow
from hirondelle.identity.services.staged_merge import HELD_REFERENCES, merge_links_staged
from tests.identity.test_staged_merge import _db_state, _link_rows, _Model, _random_rows, _seed
from tests.support.postgres import as_plain_role

#: The tables `_merge` inserts into or updates.
WRITTEN = (
    "identity_xaccount",
    "identity_networkaccount",
    "identity_link",
    "identity_consent",
    "identity_linkconflict",
)


@pytest.mark.django_db
def test_every_foreign_key_the_merge_writes_is_held():
    """A foreign key added to these tables must be held too, or this fails."""
    found = set()
    with connection.cursor() as cursor:
        for table in WRITTEN:
            for info in connection.introspection.get_constraints(cursor, table).values():
                if info["foreign_key"]:
                    found.update((table, column) for column in info["columns"])
    assert found == set(HELD_REFERENCES)


def _as_role(role: str):
    """The session as `role`: the suite's superuser, a role granted the right
    to set `session_replication_role` (the README's grant), or a plain one."""
    if role == "superuser":
        return contextlib.nullcontext()
    return as_plain_role(connection, "hd_plain", may_skip_checks=role == "granted")


def _spy_on_checks(monkeypatch) -> list:
    """What `_row_checks_off` answered, merge by merge."""
    answers: list = []
    real = staged_merge._row_checks_off

    def spy(cursor):
        answers.append(real(cursor))
        return answers[-1]

    monkeypatch.setattr(staged_merge, "_row_checks_off", spy)
    return answers


@pytest.mark.postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("role", ["superuser", "granted", "plain"])
def test_both_ways_reach_what_the_rules_say(role, monkeypatch):
    answers = _spy_on_checks(monkeypatch)
    rows = _random_rows(random.Random(3), 60, "1")
    model = _Model()
    _seed(model)
    with _as_role(role):
        merge_links_staged(_link_rows(rows))
        model.merge(rows, None)
        assert _db_state() == model.state()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('session_replication_role')")
            assert cursor.fetchone() == ("origin",), "put back for the rest of the transaction"
    assert answers == ([None] if role == "plain" else ["origin"])


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["superuser", "granted", "plain"])
def test_an_account_deleted_while_the_links_merge_fails_the_merge_whole(role, monkeypatch):
    answers = _spy_on_checks(monkeypatch)
    account = NetworkAccount.objects.create(
        network="mastodon", handle="ada@m.example", uri="https://m.example/users/ada"
    )
    merged = staged_merge._merge
    deleted: list[int] = []

    def merge_then_erase_beside(cursor, *args):
        stats = merged(cursor, *args)

        def erase() -> None:  # another worker, another connection
            try:
                deleted.append(NetworkAccount.objects.filter(pk=account.pk).delete()[0])
            finally:
                close_old_connections()

        worker = threading.Thread(target=erase)
        worker.start()
        worker.join(30)
        assert not worker.is_alive(), "the erasure waited for the merge: nothing held it"
        return stats

    monkeypatch.setattr(staged_merge, "_merge", merge_then_erase_beside)
    uri = "https://m.example/users/ada"
    row = LinkRow.make(7, "mastodon", "ada@m.example", uri, evidence="self", asserted_by="t")
    with _as_role(role), pytest.raises(IntegrityError):
        merge_links_staged([row])
    assert deleted == [1]
    assert answers == ([None] if role == "plain" else ["origin"])
    assert not Link.objects.exists()
    assert not XAccount.objects.filter(pk=7).exists()
