"""Signals the directory sends, so that other apps can react without the
directory knowing them (the migration app queues arrival follows)."""

from django.dispatch import Signal

#: Links or consents of these X accounts changed (`x_ids`: list of db X ids).
directory_changed = Signal()

#: A directory entry was found to be an impersonation (a report upheld). Sent
#: inside the moderator's transaction with `x_id` (db form), `network`,
#: `handle` and `account_uri` of the false account. Receivers cancel what
#: they had planned towards it and return `(cancelled, already_done)` counts.
impersonation_upheld = Signal()


def pack_x_ids(x_ids: list[int]) -> str:
    """X ids as one comma-separated string, to carry in a task's arguments.

    The task library checks arguments element by element (about 1.3 ms per
    thousand ids, twice per task): a ten-million-link snapshot's arrival tasks
    took about a minute for that alone. One string is checked once.
    """
    return ",".join(map(str, x_ids))


def unpack_x_ids(x_ids: list[int] | str) -> list[int]:
    """The ids of `pack_x_ids` (or a plain list, as tasks queued before it carried)."""
    if isinstance(x_ids, str):
        return [int(x) for x in x_ids.split(",") if x]
    return [int(x) for x in x_ids]
