"""Mastodon client-API adapter (Mastodon, GoToSocial, Akkoma, Hollo…), sign-in, importer CSVs."""

from hirondelle.networks.mastodon.adapter import (
    DEFAULT_POOLS,
    MastodonAdapter,
    ServerLimits,
    parse_handle,
)
from hirondelle.networks.mastodon.auth import (
    AppCredentials,
    Pkce,
    Token,
    authorization_url,
    exchange_code,
    login_with_token,
    new_pkce,
    register_app,
    revoke,
    revoke_token,
)
from hirondelle.networks.mastodon.importer_csv import (
    ImporterAdvice,
    ImportKind,
    api_follow_capacity,
    importer_advice,
    importer_url,
    write_import_files,
)

__all__ = [
    "DEFAULT_POOLS",
    "AppCredentials",
    "ImportKind",
    "ImporterAdvice",
    "MastodonAdapter",
    "Pkce",
    "ServerLimits",
    "Token",
    "api_follow_capacity",
    "authorization_url",
    "exchange_code",
    "importer_advice",
    "importer_url",
    "login_with_token",
    "new_pkce",
    "parse_handle",
    "register_app",
    "revoke",
    "revoke_token",
    "write_import_files",
]
