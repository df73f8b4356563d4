"""Layered fixtures for the directory: a person, their migration, a graph."""

from __future__ import annotations

import pytest

from hirondelle.identity.models import User, XAccount
from hirondelle.migration.models import Direction, Migration
from hirondelle.migration.services.importing import write_edges

OWNER_X = 1000


@pytest.fixture
def person(db) -> User:
    return User.objects.create(username="alice")


@pytest.fixture
def migration(person) -> Migration:
    XAccount.objects.create(id=OWNER_X, username="alice")
    return Migration.objects.create(owner=person, x_account_id=OWNER_X, generation=1)


@pytest.fixture
def graph(migration):
    """Add edges to the migration: graph({"following": [1, 2]})."""

    def add(edges: dict[str, list[int]]) -> Migration:
        for key, ids in edges.items():
            direction = Direction[key.upper()]
            write_edges(migration.pk, direction, ids, migration.generation, fresh=False)
        return migration

    return add
