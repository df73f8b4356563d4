"""Every setting is read in one place, documented, and the safe defaults hold:
private files, HSTS on an https portal, no warning for documented settings."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hirondelle.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "hirondelle"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return {**env, "HIRONDELLE_DATA_DIR": str(tmp_path / "data"), **extra}


def _settings(tmp_path: Path, names: list[str], **extra: str) -> dict:
    """Values of Django settings, as a fresh process builds them from this environment."""
    code = (
        "import json, hirondelle.settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code],
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _documented() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(HIRONDELLE_[A-Z0-9_]+)`", section))


def test_every_setting_is_documented_in_the_readme():
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    documented = _documented()
    assert fields - documented == set(), "settings missing from README's Configuration"
    assert documented - fields == set(), "README documents settings that do not exist"


def test_no_setting_is_read_outside_config():
    """One place reads the environment: hirondelle.config (a grep over the package)."""
    offenders = []
    pattern = re.compile(r"os\.environ|getenv|envvar=")
    for path in SRC.rglob("*.py"):
        if path.parent == SRC / "config":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and "DJANGO_SETTINGS_MODULE" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_documented_settings_start_without_any_warning(tmp_path):
    """With every documented variable set, start-up warns about none ("unknown setting")."""
    values = {name: "" for name in _documented()}
    values.update(
        HIRONDELLE_DATA_DIR=str(tmp_path / "data"),
        HIRONDELLE_ALLOWED_HOSTS='["portal.example"]',
        HIRONDELLE_DEBUG="false",
        HIRONDELLE_ITEM_LOCK_SECONDS="120",
        HIRONDELLE_MAX_UPLOAD_BYTES="1000",
        HIRONDELLE_TRUSTED_PROXIES="1",
        HIRONDELLE_PORT="8000",
        HIRONDELLE_HSTS_SECONDS="60",
        HIRONDELLE_UPLOAD_BYTES_PER_PERSON_DAY="0",
        HIRONDELLE_UPLOAD_BYTES_PER_DAY="0",
        HIRONDELLE_BLUESKY_OAUTH="off",
        HIRONDELLE_DATABASE_URL="",
        HIRONDELLE_RECOMMENDED_SERVERS="[]",
        HIRONDELLE_SERVERS_LIST_TTL_HOURS="24",
        HIRONDELLE_ALLOW_PRIVATE_ADDRESSES="false",
        HIRONDELLE_PROFILE_REFRESH_DAYS="7",
        HIRONDELLE_ARCHIVE_THREADS="false",
    )
    values = {k: v for k, v in values.items() if v or k not in _NEEDS_VALUE}
    env = {**_env(tmp_path), **values}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import hirondelle.settings"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown setting" not in result.stderr


#: Settings whose empty value is not valid (numbers, JSON lists, keys).
_NEEDS_VALUE = {"HIRONDELLE_SECRET_KEY", "HIRONDELLE_TOKEN_KEYS", "HIRONDELLE_HOST"}


def test_an_unknown_setting_is_still_named(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import hirondelle.settings"],
        env=_env(tmp_path, HIRONDELLE_TYPO="1"),
        capture_output=True,
        text=True,
    )
    assert "Unknown setting HIRONDELLE_TYPO is ignored" in result.stderr


def test_hsts_is_sent_only_by_an_https_portal(tmp_path):
    names = ["SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE"]
    laptop = _settings(tmp_path, names)
    assert not laptop["SECURE_HSTS_SECONDS"]
    portal = _settings(
        tmp_path,
        names,
        HIRONDELLE_PUBLIC_URL="https://portal.example",
        HIRONDELLE_TRUSTED_PROXIES="1",
    )
    assert portal["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert portal["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert portal["SESSION_COOKIE_SECURE"] is True


@pytest.mark.django_db
def test_an_https_request_gets_the_hsts_header(client, settings):
    settings.SECURE_HSTS_SECONDS = 365 * 24 * 3600
    secure = client.get("/privacy/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/privacy/")  # never over plain HTTP


def test_data_directory_and_database_are_private(tmp_path):
    code = (
        "import django, os; os.umask(0o022); "
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'hirondelle.settings'; django.setup(); "
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('create table t (x)'); c.execute('insert into t values (1)')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [data, *data.iterdir()]}
    assert modes["data"] == 0o700
    assert modes["hirondelle.sqlite3"] == 0o600
    assert modes["static"] == 0o700
    assert modes["secret_key"] == modes["token_key"] == 0o600
    # SQLite gives its journal files the database's own mode.
    assert all(modes[n] == 0o600 for n in modes if n.startswith("hirondelle.sqlite3-"))
