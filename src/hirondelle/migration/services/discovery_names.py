"""The names a person's archive gives the people they follow: discovery's input.

Only the person's own archive (`ArchiveName`) is read here: what their posts
called each account. The directory's names are not searched for: an account
the directory knows is matched, not discovered.
"""

from __future__ import annotations

from collections.abc import Iterator

from hirondelle.migration.models import ArchiveName, Direction, Edge, Migration

__all__ = ["names_of_graph"]


def names_of_graph(migration: Migration) -> Iterator:
    """NamedAccount per named X id the person follows (present edges), in X id order.

    X ids are in their stored form (`x_id_to_db`), like the graph's edges.
    """
    from hirondelle.migration.services.discovery import NamedAccount

    following = Edge.objects.filter(
        migration=migration, direction=Direction.FOLLOWING, gone_at=None
    ).values("x_account_id")
    rows = (
        ArchiveName.objects.filter(migration=migration, x_account_id__in=following)
        .order_by("x_account_id")
        .values_list("x_account_id", "username", "display_name", "post_id")
    )
    for x_id, username, display_name, post_id in rows.iterator(chunk_size=2000):
        yield NamedAccount(x_id, username, display_name, post_id)
