"""The project's shape: pure packages stay pure, settings behave, the CLI answers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from hirondelle.cli import main
from hirondelle.config import Settings, secret_key


@pytest.mark.parametrize(
    "package", ["hirondelle.archive", "hirondelle.networks", "hirondelle.discovery"]
)
def test_pure_packages_import_without_django(package: str) -> None:
    code = (
        f"import sys; import {package}; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_is_generated_once_and_private(tmp_path) -> None:
    first = secret_key(tmp_path)
    assert secret_key(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_settings_read_prefixed_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HIRONDELLE_DATA_DIR", str(tmp_path / "new"))
    monkeypatch.setenv("HIRONDELLE_DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("HIRONDELLE_ALLOWED_HOSTS", '["portal.example"]')
    settings = Settings()
    assert settings.data_dir == tmp_path / "new"
    assert settings.data_dir.is_dir()
    assert settings.allowed_hosts == ["portal.example"]
    assert not settings.is_laptop


def test_laptop_mode_is_the_default(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HIRONDELLE_DATA_DIR", str(tmp_path))
    assert Settings().is_laptop


def _commands(group, prefix=()):
    ctx = click.Context(group)  # list_commands/get_command: the main group imports lazily
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize(("path", "command"), list(_commands(main)), ids=lambda p: str(p))
def test_every_command_is_documented(path, command) -> None:
    assert command.help, f"`hirondelle {' '.join(path)}` has no help text"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    for param in command.params:
        if param.name != "help" and getattr(param, "param_type_name", "") == "option":
            assert param.help, f"option {param.name} of {path} has no help"


@pytest.mark.django_db
def test_database_round_trip() -> None:
    from hirondelle.identity.models import User

    User.objects.create(username="hirondelle")
    assert User.objects.get().username == "hirondelle"


@pytest.mark.django_db
def test_the_pass_runs_on_the_database_it_claims(request) -> None:
    from django.db import connection

    expected = "postgresql" if request.config.getoption("--postgres") else "sqlite"
    assert connection.vendor == expected
