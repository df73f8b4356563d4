"""The institution network modules stay pure: no Django."""

from __future__ import annotations

import os
import subprocess
import sys

MODULES = ["handles", "pds", "fediverse", "relme"]


def test_institution_network_modules_import_without_django() -> None:
    imports = "; ".join(f"import hirondelle.networks.institution.{m}" for m in MODULES)
    code = (
        f"import sys; {imports}; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
