"""Which migration and accounts a signed-in person is working on.

Every lookup starts from the person: nothing here can reach another
person's migration, whatever id a request carries.
"""

from __future__ import annotations

from hirondelle.migration.models import ConnectedAccount, Migration
from hirondelle.migration.services.choosing import ChoiceError, choose_migration

__all__ = ["current_migration", "my_accounts"]


def current_migration(user) -> Migration | None:
    """The person's most recently imported migration, if any (`choose_migration`)."""
    if not user.is_authenticated:
        return None
    try:
        return choose_migration(user)
    except ChoiceError:
        return None


def my_accounts(user) -> list[ConnectedAccount]:
    if not user.is_authenticated:
        return []
    return list(ConnectedAccount.objects.filter(user=user).order_by("network", "handle"))
