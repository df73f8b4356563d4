"""Which migration and accounts a signed-in person is working on.

Every lookup starts from the person: nothing here can reach another
person's migration, whatever id a request carries.
"""

from __future__ import annotations

from hirondelle.migration.models import ConnectedAccount, Migration

__all__ = ["current_migration", "my_accounts"]


def current_migration(user) -> Migration | None:
    """The person's most recently imported migration, if any."""
    if not user.is_authenticated:
        return None
    return (
        Migration.objects.filter(owner=user)
        .select_related("x_account")
        .order_by("-imported_at", "-pk")
        .first()
    )


def my_accounts(user) -> list[ConnectedAccount]:
    if not user.is_authenticated:
        return []
    return list(ConnectedAccount.objects.filter(user=user).order_by("network", "handle"))
