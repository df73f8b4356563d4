"""Which imported X account (migration) and which connected account a person acts on.

The command line and the web pages both ask here, so they choose the same
way: a migration named by @username or X id, else the one imported last; a
connected account named by its id (a page's form) or by network and handle
(the command line), else the only one on that network. Every lookup starts
from the person: nobody reaches another person's migration or account.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from hirondelle.identity.models import User, x_id_to_db
from hirondelle.migration.models import ConnectedAccount, Migration

__all__ = ["ChoiceError", "choose_account", "choose_migration"]


class ChoiceError(Exception):
    """Nothing (or more than one thing) matches; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def choose_migration(owner: User, name: str | None = None) -> Migration:
    """The person's migration named `name` (@username or X id), else the one imported last."""
    migrations = Migration.objects.filter(owner=owner).select_related("x_account")
    if name:
        name = name.strip().removeprefix("@")
        if name.isdigit():
            try:
                migrations = migrations.filter(x_account_id=x_id_to_db(name))
            except ValueError:
                migrations = migrations.none()
        else:
            migrations = migrations.filter(x_account__username__iexact=name)
    found = migrations.order_by("-imported_at", "-pk").first()
    if found is None:
        if name:
            raise ChoiceError(_("No imported archive of the X account %(name)s.") % {"name": name})
        raise ChoiceError(_("Nothing imported yet: import your X archive first."))
    return found


def choose_account(
    owner: User,
    *,
    network: str | None = None,
    handle: str | None = None,
    pk: int | str | None = None,
) -> ConnectedAccount:
    """One of the person's own connected accounts.

    By `pk` (what a page's form sends: anything not theirs is "not found"),
    or by `network` and `handle`; without a handle, the only account on that
    network (several: the person must say which).
    """
    accounts = ConnectedAccount.objects.filter(user=owner)
    if pk is not None:
        found = accounts.filter(pk=pk).first() if str(pk).isdigit() else None
        if found is None:
            raise ChoiceError(_("No such connected account."))
        return found
    if network:
        accounts = accounts.filter(network=network)
    if handle:
        accounts = accounts.filter(handle__iexact=handle.strip().lstrip("@"))
    found = list(accounts.order_by("network", "handle")[:2])
    if not found:
        if handle:
            raise ChoiceError(_("No connected account %(handle)s.") % {"handle": handle})
        raise ChoiceError(
            _("No connected %(network)s account: connect one first.") % {"network": network or ""}
        )
    if len(found) > 1:
        names = ", ".join(a.handle for a in accounts.order_by("handle"))
        raise ChoiceError(
            _("Several connected accounts (%(names)s): say which one.") % {"names": names}
        )
    return found[0]
