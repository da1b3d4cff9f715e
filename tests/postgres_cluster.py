"""A throwaway PostgreSQL server for the tests: a cluster made with `initdb` in a temporary
directory, started on a free local port, stopped and removed at the end.

`ORDERS_TEST_POSTGRES_URL` names a server of your own instead (its databases are created and
dropped by the tests). Without either, the PostgreSQL tests are skipped and say why
(`unavailable_reason`).

`initdb` refuses to run as root: as root, the cluster is made and run as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from tests.support import free_port

URL_VARIABLE = "ORDERS_TEST_POSTGRES_URL"
SERVER_USER = "postgres"
START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class PostgresServer:
    url: str
    """A URL of the server's maintenance database, for creating the tests' own."""

    def database_url(self, name: str) -> str:
        return self.url.rsplit("/", 1)[0] + f"/{name}"


def _binaries() -> Path | None:
    """The directory of `initdb` and `pg_ctl`: on PATH, or Debian's newest under /usr/lib."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda found: int(Path(found).parts[-3]) if Path(found).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]).parent if versions else None


def unavailable_reason() -> str | None:
    """Why no throwaway server can be had here, or None."""
    if os.environ.get(URL_VARIABLE):
        return None
    if _binaries() is None:
        return (
            f"no PostgreSQL here: install Debian's `postgresql` (initdb, pg_ctl) or set "
            f"{URL_VARIABLE}"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no `{SERVER_USER}` user to run initdb as"
    return None


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--", *command]


@contextlib.contextmanager
def throwaway_server() -> Iterator[PostgresServer]:
    """The server named by `ORDERS_TEST_POSTGRES_URL`, or a new cluster, stopped at the end."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        yield PostgresServer(given)
        return
    binaries = _binaries()
    assert binaries is not None, unavailable_reason()
    with tempfile.TemporaryDirectory(prefix="orders-postgres-") as scratch:
        root = Path(scratch)
        data, sockets = root / "data", root / "sockets"
        sockets.mkdir()
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SERVER_USER)
            os.chown(root, owner.pw_uid, owner.pw_gid)
            os.chown(sockets, owner.pw_uid, owner.pw_gid)
        _run(
            _as_server_user(
                [
                    str(binaries / "initdb"),
                    "--pgdata",
                    str(data),
                    "--username",
                    SERVER_USER,
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                    "--no-sync",
                ]
            )
        )
        port = free_port()
        # A test server: no fsync (a crash loses nothing a test needs), enough connections for
        # several worker processes with their pools.
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        pg_ctl = str(binaries / "pg_ctl")
        _run(
            _as_server_user(
                [
                    pg_ctl,
                    "--pgdata",
                    str(data),
                    "--options",
                    options,
                    "--log",
                    str(root / "server.log"),
                    "--wait",
                    "--timeout",
                    str(START_TIMEOUT_SECONDS),
                    "start",
                ]
            )
        )
        try:
            yield PostgresServer(f"postgresql://{SERVER_USER}@127.0.0.1:{port}/postgres")
        finally:
            _run(
                _as_server_user(
                    [pg_ctl, "--pgdata", str(data), "--mode", "immediate", "--wait", "stop"]
                )
            )


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        binary = next(Path(part).name for part in command if part.startswith("/"))
        output = (done.stderr or done.stdout).strip()[-2000:]
        raise RuntimeError(f"{binary} failed ({done.returncode}): {output}")


@contextlib.contextmanager
def fresh_database(server: PostgresServer) -> Iterator[str]:
    """A new, empty database on `server` for one test: its URL. Dropped after, once this
    process's store pools are closed."""
    from stores.postgres import close_pools

    name = f"orders_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server.database_url(name)
    finally:
        close_pools()
        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
