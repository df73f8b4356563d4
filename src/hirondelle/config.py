"""Deployment settings, read from ``HIRONDELLE_*`` environment variables.

Precedence, highest first: the environment, then the defaults below. The
per-user data directory (``HIRONDELLE_DATA_DIR``, otherwise the platform's
application directory) holds the SQLite database, uploaded media and the
generated secret key, so a laptop needs no configuration at all.

This module imports no Django: the command line reads it before Django starts.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path

import click
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "Settings",
    "get_settings",
    "private_dir",
    "private_file",
    "secret_key",
    "token_keys",
    "user_dir",
]

ENV_PREFIX = "HIRONDELLE_"


def private_dir(path: Path) -> Path:
    """Create `path` (and its missing parents) readable by this user only (0700).

    Folders that already exist keep their mode: an operator may have chosen it.
    """
    missing = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:  # created meanwhile by another process
            continue
        os.chmod(folder, 0o700)
    return Path(path)


def private_file(path: Path) -> Path:
    """Create an empty file readable by this user only (0600), unless it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return Path(path)


def user_dir() -> Path:
    """The per-user data directory, created on first use (private: 0700)."""
    override = os.environ.get(f"{ENV_PREFIX}DATA_DIR")
    path = Path(override) if override else Path(click.get_app_dir("hirondelle"))
    return private_dir(path.expanduser())


class Settings(BaseSettings):
    """Every deployment setting, with its default and why."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    #: Where the SQLite database, media and secret key live.
    data_dir: Path = Field(default_factory=user_dir)
    #: A database URL; an SQLite file in the data directory when unset.
    #: A portal sets ``postgres://user:pass@host/db``.
    database_url: str | None = None
    #: Django's secret key; generated once into the data directory when unset.
    secret_key: str | None = None
    #: Debug pages with tracebacks. Never on a public portal.
    debug: bool = False
    #: Host names the web server answers to (a JSON list in the environment).
    allowed_hosts: list[str] = ["127.0.0.1", "localhost", "[::1]"]
    #: The public address of a portal (``https://portal.example``); empty on a laptop.
    public_url: str = ""
    #: Keys that encrypt tokens at rest (Fernet keys, comma-separated, newest
    #: first, so old keys can be rotated out); generated once into the data
    #: directory when unset. Keep them apart from database backups.
    token_keys: str | None = None
    #: How long a worker holds an account (and the plan items it is carrying
    #: out) without renewing; after that a crashed worker's work is taken up
    #: again, checked on the network first so nothing is done twice.
    item_lock_seconds: int = 120
    #: Largest archive part accepted by an upload, in bytes.
    max_upload_bytes: int = 512 * 1024 * 1024
    #: Attempts allowed per client address, as "count/period" (period s, m,
    #: h or d; several separated by commas; "" for no limit). Sign-ins reach
    #: other servers on the person's behalf; each upload starts an import.
    #: Generous on purpose: a library's "leave X" workshop shares one address.
    signin_rate: str = "20/m,300/h"
    upload_rate: str = "100/h"
    #: How many reverse proxies in front of the portal append to
    #: X-Forwarded-For; 0 trusts no such header (the laptop, or a bare server).
    trusted_proxies: int = 0
    #: A Redis server for the rate-limit counts (``redis://127.0.0.1:6379/0``,
    #: needs the `redis` extra). Unset: a table of the database on a portal,
    #: the process's own memory on a laptop.
    cache_url: str = ""
    #: Bluesky sign-in through atproto OAuth: "auto" (when `public_url` is
    #: https: a confidential web client), "loopback" (the development client,
    #: for a laptop served on 127.0.0.1 and for tests), "off" (app passwords only).
    bluesky_oauth: str = "auto"
    #: The PLC directory that resolves did:plc identities.
    bluesky_plc_url: str = "https://plc.directory"
    #: Bluesky's public AppView, read without signing in to search people and
    #: read their profiles (discovery). Its limit, about 3,000 requests per
    #: 5 minutes, is per address: everyone on a portal shares it.
    bluesky_appview_url: str = "https://public.api.bsky.app"
    #: The Mastodon account (``user@server``) that sends arrival notices as a
    #: direct mention, so people get a real notification. It must be connected
    #: by the operator (`hirondelle --user local connect mastodon` on the
    #: portal: the operator's own profile) or by a staff user. Empty: each
    #: person's own account writes a private note to itself.
    notifier_mastodon: str = ""
    #: OAuth 2.0 client id of the portal's X app; empty: no "Prove my X
    #: account" (the strongest evidence, `x_oauth`, is then never produced).
    x_client_id: str = ""
    #: Its secret, for a confidential client (Basic auth on the token and
    #: revoke endpoints); empty for a public client (PKCE alone).
    x_client_secret: str = ""
    #: X's OAuth 2.0 endpoints and API (tests point them at 127.0.0.1).
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    x_token_url: str = "https://api.x.com/2/oauth2/token"
    x_revoke_url: str = "https://api.x.com/2/oauth2/revoke"
    x_api_url: str = "https://api.x.com/2"
    #: Let Hirondelle connect to loopback, private and other internal
    #: addresses, and over plain HTTP. For tests and local peers only (a
    #: Mastodon or atproto server on this machine): on a portal it would let
    #: visitors make it reach its own network. Off by default.
    allow_private_addresses: bool = False
    #: Where `hirondelle serve` listens (its --host and --port options win).
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: A Mastodon access token for `hirondelle connect mastodon` (instead of
    #: --token, which other users of the machine can see in the process list).
    mastodon_token: str = ""
    #: A Bluesky app password for `hirondelle connect bluesky` (instead of the prompt).
    bluesky_app_password: str = ""
    #: How long browsers must use HTTPS only for this portal (HSTS), in seconds;
    #: sent only when `public_url` is https. 0 sends no HSTS header.
    hsts_seconds: int = Field(default=365 * 24 * 3600, ge=0)
    #: Bytes one person may upload in 24 hours (all their uploads together),
    #: and bytes the whole site accepts in 24 hours; 0 for no limit. Uploaded
    #: files are removed once imported, so this bounds the disk they can fill.
    upload_bytes_per_person_day: int = Field(default=16 * 1024**3, ge=0)
    upload_bytes_per_day: int = Field(default=0, ge=0)
    #: For `hirondelle institution server`: the PDS's PDS_ADMIN_PASSWORD, its
    #: PDS_RATE_LIMIT_BYPASS_KEY, and an admin's token on a GoToSocial or
    #: Mastodon server (instead of options other users can see in the process
    #: list). Stored encrypted once given.
    pds_admin_password: str = ""
    pds_bypass_key: str = ""
    fedi_admin_token: str = ""
    #: Mastodon servers the sign-in page suggests to people with no account
    #: yet (a JSON list of addresses, in the order shown). Empty: a short
    #: list shipped with Hirondelle (portal/data/servers.json), by language.
    recommended_servers: list[str] = []
    #: The Mastodon server an institution runs for its own people
    #: (``social.example.org``); shown first on the sign-in page, with
    #: `institution_name`. Empty: none.
    institution_server: str = ""
    #: The institution's name, as its people know it ("Ville de Lyon").
    institution_name: str = ""
    #: Days before the name and avatar of an account found through the
    #: directory are read again from its network (in the background, when a
    #: page shows it). 0 reads them every time a page asks.
    profile_refresh_days: int = Field(default=7, ge=0)
    #: `archive inspect` inflates big archive files in a second thread while it
    #: decodes. Off: on this project's benchmark it saved wall time only when a
    #: second core was idle, and always cost a little more CPU and memory.
    archive_threads: bool = False
    #: joinmastodon.org's public server list, read by a background task (and
    #: `hirondelle servers refresh`) to suggest servers by language when
    #: `recommended_servers` is empty. Empty: never fetched (an offline
    #: laptop); the list shipped with Hirondelle is used.
    servers_list_url: str = "https://api.joinmastodon.org/servers"
    #: Hours a fetched server list is used before it is fetched again.
    servers_list_ttl_hours: int = Field(default=24, ge=1)

    @field_validator("data_dir")
    @classmethod
    def _create_data_dir(cls, path: Path) -> Path:
        return private_dir(path.expanduser())

    @property
    def is_laptop(self) -> bool:
        """SQLite in the data directory: one person, one process."""
        return not self.database_url or self.database_url.startswith("sqlite")


def _private_file(path: Path, make: Callable[[], str]) -> str:
    """Read a secret from `path`, creating it once with mode 0600."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = make()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its value
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value


def secret_key(data_dir: Path) -> str:
    """Django's secret key, generated once: a key minted per process would log
    everyone out at each restart."""
    return _private_file(data_dir / "secret_key", lambda: secrets.token_urlsafe(50))


def token_keys(data_dir: Path) -> list[str]:
    """Fernet keys for tokens at rest, generated once into the data directory."""
    import base64

    def make() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    return [_private_file(data_dir / "token_key", make)]


@cache
def get_settings() -> Settings:
    known = {f"{ENV_PREFIX}{name}".upper() for name in Settings.model_fields}
    for name in os.environ:
        if (
            name.startswith(ENV_PREFIX)
            and name not in known
            and not name.startswith(f"{ENV_PREFIX}TEST_")
        ):
            warnings.warn(f"Unknown setting {name} is ignored.", stacklevel=2)
    return Settings()
