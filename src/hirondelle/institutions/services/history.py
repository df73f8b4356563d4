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

from django.db.models import Q
from django.utils import timezone

from hirondelle import compose
from hirondelle.institutions.models import Institution, Official, Server
from hirondelle.institutions.services import audit, fediverse
from hirondelle.institutions.services.bluesky import _server, pds_client
from hirondelle.institutions.services.errors import InstitutionError
from hirondelle.migration.models import ConnectedAccount, Migration, PlanItem
from hirondelle.migration.services.accounts import connect_account
from hirondelle.migration.services.republishing import RepublishSummary, plan_republish
from hirondelle.networks.base import ActionKind, Network
from hirondelle.portal.services.x_signin import proven_x_accounts

__all__ = [
    "OWN_POSTS",
    "HistoryPlan",
    "finish_history",
    "history_networks",
    "plan_histories",
    "plan_history",
    "refresh_histories",
    "uploaded_by_official",
]

#: what an institution republishes: the official's own words, nothing of others'
OWN_POSTS = compose.Filters(include_replies=False, include_retweets=False)


def official_account(official: Official, person, network: str = "") -> ConnectedAccount | None:
    """The official's institutional account, if this person signed in on the portal with it."""
    mine = Q(pk__in=[])
    if official.bluesky_did and network in ("", Network.BLUESKY):
        mine |= Q(network=Network.BLUESKY, remote_id=official.bluesky_did)
    if official.fediverse_address and network in ("", Network.MASTODON):
        mine |= Q(network=Network.MASTODON, handle__iexact=official.fediverse_address)
    return ConnectedAccount.objects.filter(mine, user=person).first()


def uploaded_by_official(official: Official, migration: Migration) -> bool:
    """Whether the person who uploaded this archive is provably the official.

    An archive saying it is the official's X account is only its uploader's
    word: anyone can write that X id into a zip. Republishing on the
    institution's account needs the uploader to have signed in on the portal
    with the official's new account, or to have proven the X account with X.
    """
    if migration.x_account_id != official.x_id:
        return False
    if official_account(official, migration.owner) is not None:
        return True
    return any(x.pk == official.x_id for x in proven_x_accounts(migration.owner))


#: why an upload of the official's X id is not used, and what the official does
NOT_PROVEN = (
    "an archive of this X account was uploaded, but nothing proves the uploader is the "
    "official: they sign in on the portal with their new account (or prove their X "
    "account with X) from the page they uploaded it on"
)


def plan_history(
    official: Official, migration: Migration, *, network: str = Network.BLUESKY, user=None
) -> RepublishSummary:
    """Plan the official's own posts on their new account (before it is announced)."""
    if migration.x_account_id != official.x_id:
        raise InstitutionError(
            "This archive is of another X account than the one on the roster: "
            "only the official's own archive can be republished on their account."
        )
    if not uploaded_by_official(official, migration):
        raise InstitutionError(NOT_PROVEN[0].upper() + NOT_PROVEN[1:] + ".")
    if network == Network.MASTODON:
        return _plan_fediverse(official, migration, user)
    if not official.bluesky_did:
        raise InstitutionError("The official has no Bluesky account on the institution's PDS yet.")
    account = official.history_account
    if account is None and not (official.secret or {}).get("password"):
        # claimed: the password is the official's alone now; use their own sign-in
        account = official_account(official, migration.owner, Network.BLUESKY)
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
        uploads = list(Migration.objects.filter(x_account_id=official.x_id).order_by("-pk"))
        migration = next((m for m in uploads if uploaded_by_official(official, m)), None)
        if migration is None:
            reason = (
                NOT_PROVEN
                if uploads
                else "no archive yet: the official uploads their X archive on the portal"
            )
            plans.append(HistoryPlan(official, reason=reason))
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


def history_networks(institution: Institution) -> list[str]:
    """The networks the institution has its own server on, where histories go."""
    kinds = set(institution.servers.values_list("kind", flat=True))
    networks = [Network.BLUESKY] if Server.Kind.PDS in kinds else []
    if kinds & {Server.Kind.GOTOSOCIAL, Server.Kind.MASTODON}:
        networks.append(Network.MASTODON)
    return networks


def refresh_histories(institution: Institution) -> int:
    """Mark finished histories as imported; returns how many officials' are."""
    for official in institution.officials.exclude(history_account=None).filter(
        history_imported_at=None
    ):
        finish_history(official)
    return institution.officials.exclude(history_imported_at=None).count()
