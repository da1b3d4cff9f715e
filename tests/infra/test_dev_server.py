"""The embedded dev server keeps its history in a SQLite file with a write-ahead log when tuned
(`TUNED_SQLITE_PRAGMAS`: a commit does not wait for the disk), and with the binary's own journal
when not: what `benchmarks.throughput` compares."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from infra.dev_server import TUNED_SQLITE_PRAGMAS, start_dev_server

pytestmark = pytest.mark.timeout(60)


async def journal_mode_of_a_server(db_file: Path, tuned: bool) -> str:
    server = await start_dev_server(port=None, ui_port=None, ui=False, db_file=db_file, tuned=tuned)
    try:
        await server.client.count_workflows()  # it has opened its history and written to it
    finally:
        await server.shutdown()
    with closing(sqlite3.connect(db_file)) as db:
        mode: str = db.execute("PRAGMA journal_mode").fetchone()[0]
    return mode


async def test_a_tuned_servers_history_file_has_a_write_ahead_log(tmp_path: Path) -> None:
    mode = await journal_mode_of_a_server(tmp_path / "tuned.sqlite3", tuned=True)

    assert mode == TUNED_SQLITE_PRAGMAS["journal_mode"]


async def test_an_untuned_server_keeps_the_binarys_own_journal(tmp_path: Path) -> None:
    mode = await journal_mode_of_a_server(tmp_path / "defaults.sqlite3", tuned=False)

    assert mode != TUNED_SQLITE_PRAGMAS["journal_mode"]
