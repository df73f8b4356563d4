"""The names a person's archive gives the X accounts of their graph (discovery's input).

Provisional until the archive side lands: reads nothing, so discovery finds
nobody to search rather than guessing.
"""

from __future__ import annotations

from collections.abc import Iterator

from hirondelle.migration.models import Migration

__all__ = ["names_of_graph"]


def names_of_graph(migration: Migration) -> Iterator:
    """NamedAccount per named X id of the present graph, in X id order."""
    return iter(())
