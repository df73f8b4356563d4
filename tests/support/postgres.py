"""A throwaway PostgreSQL server on 127.0.0.1, for the `--postgres` test pass.

Uses Debian's `postgresql` binaries (initdb, pg_ctl). PostgreSQL refuses to
run as root, so as root the server runs as the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
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
