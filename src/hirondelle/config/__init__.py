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
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from hirondelle.config.model import Settings

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
#: `Settings.archive_threads`'s default, known without loading the model.
ARCHIVE_THREADS_DEFAULT = False


def __getattr__(name: str) -> Any:
    """`Settings` is loaded on first use: pydantic is not imported before it is needed."""
    if name == "Settings":
        from hirondelle.config.model import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    import secrets  # here: it loads OpenSSL (~4 MiB), which `archive inspect` never needs

    return _private_file(data_dir / "secret_key", lambda: secrets.token_urlsafe(50))


def token_keys(data_dir: Path) -> list[str]:
    """Fernet keys for tokens at rest, generated once into the data directory."""
    import base64
    import secrets

    def make() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    return [_private_file(data_dir / "token_key", make)]


def archive_threads() -> bool:
    """HIRONDELLE_ARCHIVE_THREADS for `archive inspect`, which needs no other setting.

    Unset (the usual case), it is the default, known without importing
    pydantic (~15 MiB of the command's memory); set, it is parsed the usual way.
    """
    name = f"{ENV_PREFIX}ARCHIVE_THREADS"
    if any(key.upper() == name for key in os.environ):
        return get_settings().archive_threads
    return ARCHIVE_THREADS_DEFAULT


@cache
def get_settings() -> Settings:
    from hirondelle.config.model import Settings

    known = {f"{ENV_PREFIX}{name}".upper() for name in Settings.model_fields}
    for name in os.environ:
        if (
            name.startswith(ENV_PREFIX)
            and name not in known
            and not name.startswith(f"{ENV_PREFIX}TEST_")
        ):
            warnings.warn(f"Unknown setting {name} is ignored.", stacklevel=2)
    return Settings()
