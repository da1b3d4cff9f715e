"""The shared SQLite plumbing: how lock contention and impossible writes surface."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from domain.errors import TransientError
from domain.services import Service
from stores import database
from stores.database import InvalidRequestError, SqliteDatabase, StoreBusyError, read_only

SCHEMA = "CREATE TABLE IF NOT EXISTS t (n INTEGER NOT NULL CHECK (n >= 0));"


def insert(db: SqliteDatabase, *values: int) -> None:
    with db.write() as conn:
        for value in values:
            conn.execute("INSERT INTO t VALUES (?)", (value,))


def test_a_writer_waits_for_another_then_reports_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT", timedelta(milliseconds=100))
    db = SqliteDatabase(tmp_path / "t.sqlite3", SCHEMA)
    other = sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError, match="locked") as raised:
            insert(db, 1)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert raised.value.retryable
    assert raised.value.error_type == TransientError.STORE_BUSY
    insert(db, 1)  # once the lock is gone, the write goes through


def test_a_write_the_schema_refuses_is_not_retryable_and_leaves_nothing(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.sqlite3", SCHEMA)
    with pytest.raises(InvalidRequestError, match="CHECK constraint") as raised:
        insert(db, 5, -1)
    assert not raised.value.retryable
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    with read_only(tmp_path / "missing.sqlite3", Service.ORDERS, SCHEMA) as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_snapshot_cannot_write(tmp_path: Path) -> None:
    SqliteDatabase(tmp_path / "t.sqlite3", SCHEMA)
    with (
        read_only(tmp_path / "t.sqlite3", Service.ORDERS, SCHEMA) as conn,
        pytest.raises(sqlite3.OperationalError, match="readonly"),
    ):
        conn.execute("INSERT INTO t VALUES (1)")
