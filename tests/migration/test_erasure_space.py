"""After "delete everything", SQLite gives the space back to the disk.

SQLite keeps deleted pages inside its file: without a VACUUM, a laptop's
database stays as large as the biggest archive ever imported. Run in a fresh
process on a real database file (the test suite's own database lives in
memory), with the laptop's settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_SCRIPT = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "hirondelle.settings"
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.contrib.auth import get_user_model
from hirondelle.migration.services.erasure import erase_person
from hirondelle.migration.services.importing import import_archive
from tests.support.x_archive import sample_spec, write_archive

call_command("migrate", verbosity=0)
db = connection.settings_dict["NAME"]

def size():
    with connection.cursor() as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(os.path.getsize(p) for p in (db, f"{db}-wal") if os.path.exists(p))

empty = size()
user = get_user_model().objects.create(username="alice")
spec = sample_spec(seed=3, n_posts=3000, n_following=5000, n_followers=40000)
import_archive(write_archive(sys.argv[1], spec), owner=user)
full = size()
erase_person(user)
print(json.dumps({"empty": empty, "full": full, "after": size()}))
"""


@pytest.mark.slow
def test_delete_everything_gives_the_space_back(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HIRONDELLE_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(HIRONDELLE_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "archive")],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    sizes = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"database bytes: empty {sizes['empty']}, full {sizes['full']}, after {sizes['after']}")
    grown = sizes["full"] - sizes["empty"]
    assert grown > 2_000_000  # the archive really filled the file
    # Back to (nearly) the empty database: at most a tenth of what the import added.
    assert sizes["after"] - sizes["empty"] < grown / 10
