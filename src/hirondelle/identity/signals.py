"""Signals the directory sends, so that other apps can react without the
directory knowing them (the migration app queues arrival follows)."""

from django.dispatch import Signal

#: Links or consents of these X accounts changed (`x_ids`: list of db X ids).
directory_changed = Signal()
