"""The package's shape: pure, with an explicit public surface."""

from __future__ import annotations

import os
import subprocess
import sys

import hirondelle.compose as compose


def test_compose_imports_without_django() -> None:
    code = (
        "import sys; import hirondelle.compose; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_exported_members() -> None:
    assert compose.__all__ == sorted(compose.__all__, key=lambda n: (not n.isupper(), n))
    for name in compose.__all__:
        assert getattr(compose, name) is not None, name
    public = {
        name
        for name, value in vars(compose).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith(compose.__name__)
    }
    assert public <= set(compose.__all__)
