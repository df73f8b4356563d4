"""The person's three consents, and their own word linking X to their new accounts."""

from __future__ import annotations

from hirondelle.identity.models import Consent, Evidence
from hirondelle.identity.services.directory import assert_link, set_consent
from hirondelle.migration.models import ConnectedAccount, Migration

__all__ = ["current_consent", "save_consent"]


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
    """
    consent = set_consent(
        migration.x_account_id,
        findable=findable,
        auto_followable=auto_followable,
        auto_follow_arrivals=auto_follow_arrivals,
        given_by=user,
    )
    for account in ConnectedAccount.objects.filter(user=user):
        assert_link(
            migration.x_account_id,
            account.network,
            account.handle,
            account.remote_id,
            evidence=Evidence.SELF,
            asserted_by=f"portal sign-in as {account.handle}",
            x_username=migration.x_account.username,
            created_by=user,
        )
    return consent
