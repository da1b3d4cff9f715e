"""The SQLite plumbing every service store shares.

Activities run in a thread pool, so a store never shares a connection: each operation opens its
own, and closes it when done. Writes run in `BEGIN IMMEDIATE` transactions, which take SQLite's
write lock up front, so two concurrent writers queue (up to the busy timeout) instead of both
reading a stale value and one failing on commit. WAL mode lets readers go on while one writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from domain.errors import ContractError, TransientError

Clock = Callable[[], datetime]
BUSY_TIMEOUT = timedelta(seconds=10)


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """Timestamps are stored as UTC ISO text of fixed width, so that SQL compares them in order."""
    if moment.tzinfo is None:
        raise InvalidRequestError(f"timestamp {moment} has no time zone; stores keep aware times")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def from_optional_text(text: str | None) -> datetime | None:
    return None if text is None else from_text(text)


def has_table(db: sqlite3.Connection, table: str) -> bool:
    """Whether the store has `table`. A store file written before the table was added (and not
    opened by a worker since, which would create it) is read by the audit as it is: read-only."""
    row = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return row is not None


def one_of(column: str, values: Iterable[str]) -> str:
    """A CHECK clause that keeps a column within an enum, so the schema follows the Python enums."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class StoreError(Exception):
    """A store refused an operation. `error_type` and `retryable` tell an activity how to fail."""

    error_type: ClassVar[str]
    retryable: ClassVar[bool] = False


class StoreBusyError(StoreError):
    """SQLite stayed locked past the busy timeout: the next attempt will likely succeed."""

    error_type = TransientError.STORE_BUSY.value
    retryable = True


class IdempotencyConflictError(StoreError):
    """The same business key came back with a different request: retrying cannot fix it."""

    error_type = ContractError.IDEMPOTENCY_CONFLICT.value


class StepOutOfOrderError(StoreError):
    """A step arrived before the step it depends on (e.g. dispatch before booking)."""

    error_type = ContractError.STEP_OUT_OF_ORDER.value


class InvalidRequestError(StoreError):
    """An argument no state of the store can accept, or a write the schema's constraints refuse."""

    error_type = ContractError.INVALID_REQUEST.value


class Database:
    """One SQLite file, its schema created on first open."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with translate_sqlite_errors(), closing(connect(path)) as connection:
            # WAL is a property of the file: set once, kept by every later connection.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(schema)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs."""
        with translate_sqlite_errors(), _snapshot(connect(self.path)) as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction holding the write lock from its first statement: writers serialise."""
        with translate_sqlite_errors(), closing(connect(self.path)) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are begun explicitly, never implicitly) that
    waits up to BUSY_TIMEOUT for another writer's lock."""
    target = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    connection = sqlite3.connect(
        target, uri=read_only, timeout=BUSY_TIMEOUT.total_seconds(), isolation_level=None
    )
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


@contextmanager
def read_only(path: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A read snapshot of a store, for tools (the audit) that must never create or change one.

    A store that was never created reads as an empty one: an in-memory database with its schema.
    """
    with translate_sqlite_errors():
        target = connect(path, read_only=True) if path.is_file() else _empty(schema)
        with _snapshot(target) as connection:
            yield connection


@contextmanager
def _snapshot(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every SELECT in it sees the same committed state; closed after."""
    with closing(connection):
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
            connection.execute("ROLLBACK")


def _empty(schema: str) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.executescript(schema)
    return connection


@contextmanager
def translate_sqlite_errors() -> Iterator[None]:
    """Busy is transient; a constraint failure is deterministic, so retrying it would loop."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise InvalidRequestError(f"the store refused an impossible state: {error}") from error
    except sqlite3.OperationalError as error:
        message = str(error)
        if "locked" in message or "busy" in message:
            raise StoreBusyError(f"store busy: {message}") from error
        raise


class SqliteStore:
    """The base of every service store: a database with the store's schema, and a clock."""

    SCHEMA: ClassVar[str]

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self._db = Database(path, self.SCHEMA)
        self._clock = clock

    @property
    def path(self) -> Path:
        return self._db.path

    def _now(self) -> str:
        return to_text(self._clock())
