"""A throwaway PostgreSQL server on 127.0.0.1, for the `--postgres` test pass.

Uses Debian's `postgresql` binaries (initdb, pg_ctl). PostgreSQL refuses to
run as root, so as root the server runs as the `postgres` system user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable(
        "PostgreSQL is not installed: `apt-get install postgresql` (Debian) provides it."
    )


@dataclass
class PostgresServer:
    datadir: Path
    port: int
    user: str
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.datadir, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """Start a new cluster in a temporary folder; trust auth, loopback only."""
    bindir = _bindir()
    datadir = Path(tempfile.mkdtemp(prefix="hirondelle-pg-"))
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    server = PostgresServer(datadir=datadir, port=free_port(), user=user, bindir=bindir)
    server._run("initdb", "-D", str(datadir), "-A", "trust", "-U", user, "-E", "UTF8")
    opts = (
        f"-c listen_addresses=127.0.0.1 -c port={server.port} -c unix_socket_directories='' "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=200 -c shared_buffers=256MB"
    )
    server._run(
        "pg_ctl",
        "-D",
        str(datadir),
        "-o",
        opts,
        "-w",
        "-t",
        "60",
        "-l",
        str(datadir / "log"),
        "start",
    )
    return server


@contextlib.contextmanager
def as_plain_role(connection, name: str, *, may_skip_checks: bool = False) -> Iterator[None]:
    """The Django connection's session as a role that is not a superuser.

    It has every right on the tables, as an application's database user
    does, and may set `session_replication_role` only if `may_skip_checks`
    (the grant the README gives portals). Dropped afterwards.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {name}")
        cursor.execute(f"CREATE ROLE {name} NOSUPERUSER")
        for grant in ("ALL ON ALL TABLES IN", "ALL ON ALL SEQUENCES IN", "USAGE, CREATE ON"):
            cursor.execute(f"GRANT {grant} SCHEMA public TO {name}")
        if may_skip_checks:
            cursor.execute(f"GRANT SET ON PARAMETER session_replication_role TO {name}")
        cursor.execute(f"SET ROLE {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            if may_skip_checks:
                cursor.execute(f"REVOKE SET ON PARAMETER session_replication_role FROM {name}")
            cursor.execute(f"DROP OWNED BY {name}")
            cursor.execute(f"DROP ROLE {name}")
