"""Build a network adapter for a connected account, and save its state back.

The one place that knows which adapter class serves which network, and that
credentials and budgets round-trip through the (encrypted) database row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hirondelle.migration.models import ConnectedAccount
from hirondelle.networks.base import Adapter, Network

#: Tests and benchmarks put their own factory here (e.g. with a virtual clock).
_factories: dict[str, Callable[[ConnectedAccount], Adapter]] = {}


def register_factory(network: str, factory: Callable[[ConnectedAccount], Adapter] | None) -> None:
    if factory is None:
        _factories.pop(network, None)
    else:
        _factories[network] = factory


def adapter_for(account: ConnectedAccount) -> Adapter:
    if account.network in _factories:
        return _factories[account.network](account)
    creds: dict[str, Any] = account.credentials or {}
    if account.network == Network.MASTODON:
        from hirondelle.networks.mastodon import MastodonAdapter

        return MastodonAdapter(
            account.server,
            creds["access_token"],
            budget_state=account.budget or None,
            backdate=bool(creds.get("backdate")),  # a GoToSocial account made by an institution
        )
    if account.network == Network.BLUESKY and creds.get("oauth"):
        return _bluesky_oauth_adapter(account, creds["oauth"])
    if account.network == Network.BLUESKY:
        from hirondelle.networks.bluesky import BlueskyAdapter

        def remember_session(session_string: str) -> None:
            # Sessions are scarce (createSession: 30 per 5 min): keep each new one.
            account.credentials = {**(account.credentials or {}), "session": session_string}
            if account.pk:  # not while connect_account is still checking the password
                account.save(update_fields=["credentials", "updated_at"])

        return BlueskyAdapter(
            account.server,
            account.handle,
            creds.get("app_password"),
            session_string=creds.get("session"),
            budget_state=account.budget or None,
            on_session_change=remember_session,
        )
    raise ValueError(f"No adapter for network {account.network!r}")


def bluesky_oauth_client(client_id: str):
    """The atproto OAuth client a Bluesky session was issued to (to refresh or revoke it)."""
    from hirondelle.config import get_settings
    from hirondelle.networks.bluesky import oauth

    settings = get_settings()
    config = oauth.client_for_id(client_id, settings.data_dir / oauth.SIGNING_KEY_FILE)
    return oauth.OAuthClient(config, oauth.Resolver(plc_url=settings.bluesky_plc_url))


def _bluesky_oauth_adapter(account: ConnectedAccount, session: dict[str, Any]) -> Adapter:
    import json

    from hirondelle.networks.bluesky import BlueskyAdapter

    def remember_oauth(session_json: str) -> None:
        # Refresh tokens are single use: the new ones must be kept at once.
        account.credentials = {**(account.credentials or {}), "oauth": json.loads(session_json)}
        if account.pk:
            account.save(update_fields=["credentials", "updated_at"])

    return BlueskyAdapter(
        account.server or session["pds"],
        account.handle or session.get("handle", ""),
        oauth_session=session,
        oauth_client=bluesky_oauth_client(session["client_id"]),
        budget_state=account.budget or None,
        on_session_change=remember_oauth,
    )


def save_budget(account: ConnectedAccount, adapter: Adapter) -> None:
    account.budget = adapter.budget.to_dict()
    account.save(update_fields=["budget", "updated_at"])
