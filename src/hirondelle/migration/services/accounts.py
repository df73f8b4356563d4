"""Connect and disconnect the person's own new accounts.

Credentials are kept encrypted (see `hirondelle.migration.fields`); the
budget state is kept with the account so that a restart does not forget
what the network already counted.
"""

from __future__ import annotations

from django.db import transaction

from hirondelle.migration.models import ConnectedAccount
from hirondelle.migration.services.adapters import adapter_for
from hirondelle.networks.base import Adapter, Network
from hirondelle.networks.errors import NetworkError

__all__ = ["connect_account", "disconnect_account"]


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
        account, _ = ConnectedAccount.objects.update_or_create(
            user=user,
            network=network,
            remote_id=me.id,
            defaults={
                "server": probe.server,
                "handle": me.handle,
                "credentials": probe.credentials,
                "budget": adapter.budget.to_dict(),
                "status": ConnectedAccount.Status.ACTIVE,
                "status_reason": "",
            },
        )
    return account


def disconnect_account(account: ConnectedAccount) -> bool:
    """Revoke the token on the network (best effort) and forget the account.

    Returns whether the network confirmed the revocation.
    """
    revoked = False
    creds = account.credentials or {}
    try:
        if account.network == Network.MASTODON and creds.get("client_id"):
            from hirondelle.networks.mastodon.auth import revoke_token

            revoke_token(
                account.server, creds["client_id"], creds["client_secret"], creds["access_token"]
            )
            revoked = True
        elif account.network == Network.BLUESKY and creds.get("oauth"):
            revoked = _revoke_bluesky_oauth(creds["oauth"])
        elif account.network == Network.BLUESKY and creds.get("session"):
            from hirondelle.networks.bluesky import revoke_session

            revoke_session(account.server, creds["session"])
            revoked = True
    except NetworkError:
        revoked = False
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
