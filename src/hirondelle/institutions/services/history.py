"""An official's own history, republished before their account is announced.

The official uploads their X archive on the portal (that upload is their
consent) and it is imported like anyone's. Here its posts are planned on the
official's new Bluesky account through the ordinary republishing services:
their own posts and threads only (no retweets, no replies to others),
backdated to the X dates (the AppView sorts by the earlier of createdAt and
indexedAt, so they do not flood timelines, and the app shows them as
archived), carried out by the plan runner exactly once. On the institution's
Mastodon or GoToSocial server the same posts go out unlisted, each stating its
original date (the Mastodon API cannot backdate); on GoToSocial they are
backdated through a past `scheduled_at`, public, with no date line.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from hirondelle import compose
from hirondelle.institutions.models import Institution, Official
from hirondelle.institutions.services import audit, fediverse
from hirondelle.institutions.services.bluesky import _server, pds_client
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.migration.models import Migration, PlanItem
from hirondelle.migration.services.accounts import connect_account
from hirondelle.migration.services.republishing import RepublishSummary, plan_republish
from hirondelle.networks.base import ActionKind, Network

__all__ = [
    "OWN_POSTS",
    "HistoryPlan",
    "finish_history",
    "plan_histories",
    "plan_history",
    "refresh_histories",
]

#: what an institution republishes: the official's own words, nothing of others'
OWN_POSTS = compose.Filters(include_replies=False, include_retweets=False)


def plan_history(
    official: Official, migration: Migration, *, network: str = Network.BLUESKY, user=None
) -> RepublishSummary:
    """Plan the official's own posts on their new account (before it is announced)."""
    if migration.x_account_id != official.x_id:
        raise InstitutionError(
            "This archive is of another X account than the one on the roster: "
            "only the official's own archive can be republished on their account."
        )
    if network == Network.MASTODON:
        return _plan_fediverse(official, migration, user)
    if not official.bluesky_did:
        raise InstitutionError("The official has no Bluesky account on the institution's PDS yet.")
    account = official.history_account
    if account is None:
        if not (official.secret or {}).get("password"):
            raise InstitutionError(
                "The account was already claimed: the official republishes from their own "
                "Hirondelle page (sign in with the new account)."
            )
        server = _server(official.institution)
        with pds_client(server) as pds:
            session = pds.create_session(official.bluesky_did, official.secret["password"])
            app_password = pds.create_app_password(session, "hirondelle-history")
        account = connect_account(
            migration.owner,
            Network.BLUESKY,
            server.url,
            {"identifier": official.bluesky_handle, "app_password": app_password},
        )
        official.history_account = account
        official.save(update_fields=["history_account", "updated_at"])
    summary = plan_republish(migration, account, filters=OWN_POSTS)
    audit.record(
        official,
        f"history planned: {summary.posts} posts ({summary.parts} records), no retweets, "
        "no replies to others",
        user=user,
    )
    return summary


def finish_history(official: Official) -> bool:
    """Mark the history imported once every planned post is done; True when it is."""
    if official.history_account is None:
        return False
    items = PlanItem.objects.filter(account=official.history_account, kind=ActionKind.POST)
    if not items.exists() or items.exclude(state=PlanItem.State.DONE).exists():
        return False
    if official.history_imported_at is None:
        official.history_imported_at = timezone.now()
        official.save(update_fields=["history_imported_at", "updated_at"])
        audit.record(official, "history imported")
    return True


def _plan_fediverse(official: Official, migration: Migration, user) -> RepublishSummary:
    token = (official.fediverse_secret or {}).get("token")
    if not token or official.fediverse_state not in (
        Official.Fediverse.APPROVED,
        Official.Fediverse.CLAIMED,
    ):
        raise InstitutionError(
            "The fediverse account is not ready: it must be approved and its e-mail confirmed."
        )
    server = fediverse._server(official.institution)
    backdate = server.kind == "gotosocial"
    credentials = {"access_token": token, **({"backdate": True} if backdate else {})}
    account = connect_account(migration.owner, Network.MASTODON, server.url, credentials)
    if official.history_account is None:  # so that finish_history sees it through
        official.history_account = account
        official.save(update_fields=["history_account", "updated_at"])
    options = (
        compose.Options(language="fr", visibility="public", date_line="none")
        if backdate
        else compose.Options(language="fr")
    )
    summary = plan_republish(migration, account, filters=OWN_POSTS, options=options)
    how = "backdated" if backdate else "unlisted and dated"
    audit.record(official, f"fediverse history planned: {summary.posts} posts, {how}", user=user)
    return summary


@dataclass
class HistoryPlan:
    official: Official
    summary: RepublishSummary | None = None
    #: why nothing was planned (no archive uploaded yet, account not ready)
    reason: str = ""


def plan_histories(
    institution: Institution,
    *,
    network: str,
    x_usernames: list[str] | None = None,
    user=None,
) -> list[HistoryPlan]:
    """Plan the history of every official who uploaded their own archive (their consent).

    An official's archive is a migration of their own X account, uploaded by
    them on the portal; officials without one are listed with what to do.
    Running it again plans nothing twice (the plan items' keys).
    """
    from hirondelle.migration.tasks import schedule

    officials = institution.officials.order_by("name", "pk")
    if x_usernames:
        wanted = {u.lower().lstrip("@") for u in x_usernames}
        officials = [o for o in officials if o.x_username.lower() in wanted]
    plans = []
    for official in officials:
        migration = Migration.objects.filter(x_account_id=official.x_id).order_by("-pk").first()
        if migration is None:
            plans.append(
                HistoryPlan(
                    official,
                    reason="no archive yet: the official uploads their X archive on the portal",
                )
            )
            continue
        try:
            summary = plan_history(official, migration, network=network, user=user)
        except InstitutionError as exc:
            plans.append(HistoryPlan(official, reason=str(exc)))
            continue
        official.refresh_from_db()
        if official.history_account is not None:
            schedule(official.history_account)
        plans.append(HistoryPlan(official, summary))
    return plans


def refresh_histories(institution: Institution) -> int:
    """Mark finished histories as imported; returns how many officials' are."""
    for official in institution.officials.exclude(history_account=None).filter(
        history_imported_at=None
    ):
        finish_history(official)
    return institution.officials.exclude(history_imported_at=None).count()
