"""The Mastodon subpackage stays pure and says what it exports."""

from __future__ import annotations

import os
import subprocess
import sys

import hirondelle.networks.mastodon as package
from hirondelle.networks.base import Adapter
from hirondelle.networks.mastodon import MastodonAdapter


def test_imports_without_django() -> None:
    code = (
        "import sys, hirondelle.networks.mastodon; "
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')]; "
        "sys.exit(1 if bad else 0)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_exported_members_exist_once() -> None:
    assert len(set(package.__all__)) == len(package.__all__)
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert missing == []


def test_the_adapter_implements_the_protocol() -> None:
    adapter = MastodonAdapter("https://social.example", "token")
    try:
        assert isinstance(adapter, Adapter)
    finally:
        adapter.close()
