"""The person's three consents, and their own word linking X to their new accounts."""

from __future__ import annotations

from django.utils.translation import gettext as _

from hirondelle.identity.models import Consent, Evidence, x_id_from_db
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import ConnectedAccount, Migration
from hirondelle.portal.services.x_signin import proven_x_accounts

__all__ = ["ConsentRefused", "current_consent", "save_consent"]


class ConsentRefused(Exception):
    """The person may not speak for this X account."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def current_consent(migration: Migration) -> Consent | None:
    return Consent.objects.filter(x_account_id=migration.x_account_id).first()


def save_consent(
    user,
    migration: Migration,
    *,
    findable: bool,
    auto_followable: bool,
    auto_follow_arrivals: bool,
) -> Consent:
    """Record the choices, and link the X account to each connected account.

    The link is the person's own word (`self` evidence, the weakest): others
    see it only if the person chose to be findable, and act on it
    automatically only if their own trust threshold accepts self-declared links.

    Someone whom X confirmed as another account cannot speak for this one:
    an archive can be forged, X's confirmation cannot.
    """
    proven = proven_x_accounts(user)
    if proven and migration.x_account_id not in {x.id for x in proven}:
        raise ConsentRefused(
            _(
                "X confirmed that you are @%(proven)s, but this archive is of another "
                "account (@%(archive)s). Send your own archive: choices about an X account "
                "can only be made by its owner."
            )
            % {
                "proven": ", @".join(x.username or str(x.id) for x in proven),
                "archive": migration.x_username or x_id_from_db(migration.x_account_id),
            }
        )
    consent = set_consent(
        migration.x_account_id,
        findable=findable,
        auto_followable=auto_followable,
        auto_follow_arrivals=auto_follow_arrivals,
        given_by=user,
    )
    if auto_follow_arrivals:  # people still not found are searched for again each week
        from hirondelle.migration.services.discovery import schedule_rerun

        schedule_rerun(migration)
    for account in ConnectedAccount.objects.filter(user=user):
        assert_link(
            migration.x_account_id,
            account.network,
            account.handle,
            account.remote_id,
            evidence=Evidence.SELF,
            asserted_by=f"portal sign-in as {account.handle}",
            created_by=user,
        )
    return consent
