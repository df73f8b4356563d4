"""Real-browser fixtures: Debian's Chromium driven by Playwright, against the
app served by `hirondelle serve` in a subprocess.

Never `playwright install`: the browser is the system's `/usr/bin/chromium`
(`scripts/bootstrap` installs it). The served app gets its own temporary data
directory (SQLite, uploads, keys) and a free port on 127.0.0.1, and runs its
in-process background worker, exactly as a person's laptop does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.support.ports import free_port

__all__ = [
    "CHROMIUM",
    "ServedPortal",
    "Shots",
    "browser",
    "free_port",
    "serve_portal",
    "served_portal",
    "shots",
    "stop_portal",
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class ServedPortal:
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    log: Path
    log_file: object = None

    def python(self, code: str) -> str:
        """Run Python with Django set up against the served app's database; returns stdout."""
        prelude = "from hirondelle.cli._django import setup_django; setup_django()\n"
        result = subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(code)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode:
            raise AssertionError(f"portal python failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def sign_in(self, code: str) -> str:
        """Run `code`, which leaves a person in `user`; the key of a session signed in as them."""
        return self.python(textwrap.dedent(code) + _SIGN_IN).strip()


#: appended to `Portal.sign_in`'s code: a database session for `user`, its key printed
_SIGN_IN = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def serve_portal(
    data_dir: Path, *, extra_env: dict[str, str] | None = None, no_worker: bool = False
) -> ServedPortal:
    """Start `hirondelle serve` on a free port; returns once it answers."""
    port = free_port()
    env = _clean_env()
    # its peers listen on 127.0.0.1 over plain HTTP (see the guard)
    env.update(
        {
            "HIRONDELLE_DATA_DIR": str(data_dir),
            "HIRONDELLE_ALLOW_PRIVATE_ADDRESSES": "1",
            # never joinmastodon.org from a test (see tests/settings.py)
            "HIRONDELLE_SERVERS_LIST_URL": "",
            **(extra_env or {}),
        }
    )
    log = data_dir / "serve.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "hirondelle", "serve", "--host", "127.0.0.1", "--port", str(port)]
        + (["--no-worker"] if no_worker else []),
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log_file.close()
            raise RuntimeError(f"hirondelle serve exited:\n{log.read_text()}")
        try:
            if requests.get(url + "/", timeout=2).status_code == 200:
                return ServedPortal(url, data_dir, env, process, log, log_file)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.kill()
    process.wait()
    log_file.close()
    raise RuntimeError(f"hirondelle serve did not answer in time:\n{log.read_text()}")


def stop_portal(portal: ServedPortal) -> None:
    portal.process.terminate()
    try:
        portal.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        portal.process.kill()
        portal.process.wait()
    if portal.log_file is not None:
        portal.log_file.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres_only)])
def served_portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServedPortal]:
    """The app as a laptop runs it (SQLite, worker inside `serve`), and as a
    portal runs it (PostgreSQL, `serve --no-worker` plus a `hirondelle worker`)."""
    if request.param == "sqlite":
        portal = serve_portal(tmp_path / "portal-data")
        yield portal
        stop_portal(portal)
        return
    url = _fresh_postgres_database()
    data_dir = tmp_path / "portal-data"
    data_dir.mkdir()
    env = {**_clean_env(), "HIRONDELLE_DATA_DIR": str(data_dir), "HIRONDELLE_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "hirondelle", "migrate"], env=env, check=True)
    portal = serve_portal(data_dir, extra_env={"HIRONDELLE_DATABASE_URL": url}, no_worker=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "hirondelle", "worker"],
        env=portal.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield portal
    worker.terminate()
    worker.wait(timeout=30)
    stop_portal(portal)


def _clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HIRONDELLE_") and k != "DJANGO_SETTINGS_MODULE"
    }


def _fresh_postgres_database() -> str:
    """A new database on the suite's PostgreSQL server (started by `--postgres`)."""
    import secrets

    import psycopg

    from tests import conftest

    assert conftest._server is not None, "the PostgreSQL variant needs `pytest --postgres`"
    name = f"portal_e2e_{secrets.token_hex(4)}"
    with psycopg.connect(conftest._server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return conftest._server.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/bootstrap (or apt-get install -y chromium)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Shots:
    """Screenshots of each step, saved under the test's tmp path and listed."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def __call__(self, page, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        print(f"screenshot: {path}")
        return path


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return Shots(folder)
