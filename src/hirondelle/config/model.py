"""The settings model (pydantic), loaded only when a command needs the settings.

Kept apart from `hirondelle.config` itself so that importing it costs no
pydantic (~15 MiB and 0.2 s): `archive inspect` reads one setting and
nothing else. The environment is still read only through `config`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hirondelle.config import ARCHIVE_THREADS_DEFAULT, ENV_PREFIX, private_dir, user_dir


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
    archive_threads: bool = ARCHIVE_THREADS_DEFAULT
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
