"""A store URL a command cannot use: one line naming the variable or the store, never its
password, and nothing opened elsewhere instead."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from stores import STORE_URL_VARIABLE
from tests.commands.processes import plain_env
from tests.postgres_cluster import PostgresServer, fresh_database
from tests.support import one_line_error, run_module


def sqlite_files(data_dir: Path) -> list[Path]:
    return list(data_dir.glob("*.sqlite3*"))


PASSWORD = "s3cret-pw"


@pytest.mark.parametrize(
    ("url", "code", "said"),
    [
        (f"mysql://orders:{PASSWORD}@db/orders", 2, "not a PostgreSQL URL (mysql)"),
        (f"postgresql://orders:{PASSWORD}@127.0.0.1:1/orders", 1, "is unreachable"),
    ],
    ids=["not-postgres", "unreachable"],
)
async def test_a_store_url_that_cannot_be_used_is_one_line_without_its_password(
    tmp_path: Path, url: str, code: int, said: str
) -> None:
    env = plain_env(ORDERS_DATA_DIR=str(tmp_path), **{STORE_URL_VARIABLE: url})
    result = await run_module(env, "starters.audit")

    line = one_line_error(result, code, STORE_URL_VARIABLE if code == 2 else "store at", said)
    assert PASSWORD not in result.stderr + result.stdout, line
    assert sqlite_files(tmp_path) == []  # nothing was opened elsewhere instead


async def test_the_audit_names_the_database_it_read_without_its_password(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    with fresh_database(postgres_server) as url:
        parts = urlsplit(url)
        with_password = parts._replace(
            netloc=f"{parts.username}:{PASSWORD}@{parts.netloc.split('@')[1]}"
        )
        env = plain_env(
            ORDERS_DATA_DIR=str(tmp_path), **{STORE_URL_VARIABLE: with_password.geturl()}
        )
        result = await run_module(env, "starters.audit")

    assert result.code == 0, result.stderr
    assert result.stdout.startswith(f"audit of {url}: 0 order(s) placed"), result.stdout
    assert PASSWORD not in result.stderr + result.stdout
    assert sqlite_files(tmp_path) == []
