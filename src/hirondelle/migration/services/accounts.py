"""Connect and disconnect the person's own new accounts.

Credentials are kept encrypted (see `hirondelle.migration.fields`); the
budget state is kept with the account so that a restart does not forget
what the network already counted.
"""

from __future__ import annotations

from django.db import transaction

from hirondelle.migration.models import ConnectedAccount, RetiredCredentials
from hirondelle.migration.services.adapters import adapter_for
from hirondelle.networks.base import Adapter, Network
from hirondelle.networks.errors import NetworkError

__all__ = [
    "connect_account",
    "disconnect_account",
    "replace_credentials",
    "revoke_credentials",
    "revoke_retired",
]


def _grant(credentials: dict | None) -> object:
    """What identifies one grant: a new sign-in gives a new one, a session
    refresh of the same grant keeps it (the refreshed session replaces the
    old one on the server, so there is nothing left behind to revoke)."""
    creds = credentials or {}
    oauth = creds.get("oauth") or {}
    return (
        creds.get("access_token")
        or oauth.get("refresh_token")
        or oauth.get("access_token")
        or creds.get("session")
        or creds.get("app_password")
    )


def replace_credentials(account: ConnectedAccount, credentials: dict) -> None:
    """Give `account` new credentials; keep the old grant to revoke it later.

    Call inside the transaction that saves `account`.
    """
    old = account.credentials
    if old and _grant(old) != _grant(credentials):
        RetiredCredentials.objects.create(
            user_id=account.user_id,
            network=account.network,
            server=account.server,
            remote_id=account.remote_id,
            credentials=old,
        )
    account.credentials = credentials


def connect_account(
    user, network: Network, server: str, credentials: dict, *, adapter: Adapter | None = None
) -> ConnectedAccount:
    """Check the credentials against the network and store them.

    `credentials`: ``{"access_token": …}`` for Mastodon (plus ``client_id`` and
    ``client_secret`` when Hirondelle registered the app, for revocation);
    ``{"app_password": …}`` for Bluesky.
    Raises NetworkError (e.g. AuthExpired for a wrong token) without storing.
    """
    probe = ConnectedAccount(
        user=user, network=network, server=server.rstrip("/"), credentials=credentials
    )
    if network == Network.BLUESKY:
        probe.handle = credentials["identifier"]
    own_adapter = adapter is None
    adapter = adapter or adapter_for(probe)
    try:
        me = adapter.whoami()
    finally:
        if own_adapter:
            adapter.close()
    with transaction.atomic():
        account = (
            ConnectedAccount.objects.select_for_update()
            .filter(user=user, network=network, remote_id=me.id)
            .first()
        ) or ConnectedAccount(user=user, network=network, remote_id=me.id)
        replace_credentials(account, probe.credentials)
        account.server = probe.server
        account.handle = me.handle
        account.budget = adapter.budget.to_dict()
        account.status = ConnectedAccount.Status.ACTIVE
        account.status_reason = ""
        account.save()
    return account


def revoke_credentials(network: str, server: str, credentials: dict | None) -> bool:
    """Revoke one grant on its network (best effort); whether the network confirmed it.

    A pasted Mastodon token (no app of ours) and a Bluesky app password
    cannot be revoked by Hirondelle: the person deletes them in their settings.
    """
    creds = credentials or {}
    try:
        if network == Network.MASTODON and creds.get("client_id"):
            from hirondelle.networks.mastodon.auth import revoke_token

            revoke_token(server, creds["client_id"], creds["client_secret"], creds["access_token"])
            return True
        if network == Network.BLUESKY and creds.get("oauth"):
            return _revoke_bluesky_oauth(creds["oauth"])
        if network == Network.BLUESKY and creds.get("session"):
            from hirondelle.networks.bluesky import revoke_session

            revoke_session(server, creds["session"])
            return True
    except NetworkError:
        return False
    return False


def revoke_retired(user, *, network: str | None = None, remote_id: str | None = None) -> int:
    """Revoke and forget the person's replaced grants (one account's, or all).

    Returns how many the networks did not confirm (nothing more can be done
    for those: the person revokes them in their settings).
    """
    retired = RetiredCredentials.objects.filter(user=user)
    if network is not None:
        retired = retired.filter(network=network, remote_id=remote_id)
    failed = 0
    for old in retired:
        if not revoke_credentials(old.network, old.server, old.credentials):
            failed += 1
        old.delete()
    return failed


def disconnect_account(account: ConnectedAccount) -> bool:
    """Revoke the token on the network (best effort) and forget the account.

    The grants of earlier sign-ins with the same account are revoked too.
    Returns whether the network confirmed the revocation of the current one.
    """
    revoked = revoke_credentials(account.network, account.server, account.credentials)
    revoke_retired(account.user, network=account.network, remote_id=account.remote_id)
    account.delete()
    return revoked


def _revoke_bluesky_oauth(session: dict) -> bool:
    """Revoke atproto OAuth tokens where the authorization server has a revocation endpoint."""
    from hirondelle.migration.services.adapters import bluesky_oauth_client
    from hirondelle.networks.bluesky.oauth import OAuthError, OAuthSession

    try:
        client = bluesky_oauth_client(session.get("client_id", ""))
    except (OSError, ValueError):
        return False
    try:
        return client.revoke(OAuthSession.from_dict(session))
    except OAuthError:
        return False
    finally:
        client.close()
