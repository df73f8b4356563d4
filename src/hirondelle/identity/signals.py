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
