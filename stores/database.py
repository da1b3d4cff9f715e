"""The database plumbing every service store shares: SQLite here, PostgreSQL in
`stores.postgres`, behind one interface (`Database`: a read snapshot, a write transaction).

The stores' SQL is written once for both: `?` placeholders, `ON CONFLICT`, `RETURNING`, and
`AUTO_ID` for a generated key. Either backend gives a write transaction the same guarantee: it
behaves as if it ran alone (SQLite takes its write lock up front; PostgreSQL runs it
serializable and reports a conflict as `StoreBusyError`, which the activity retries).

SQLite: activities run in a thread pool, so a store never shares a connection: each operation
opens its own, and closes it when done. Writes run in `BEGIN IMMEDIATE` transactions, which take
SQLite's write lock up front, so two concurrent writers queue (up to the busy timeout) instead
of both reading a stale value and one failing on commit. WAL mode lets readers go on while one
writes.
"""

from __future__ import annotations

import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, ParamSpec, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from domain.errors import ContractError, TransientError
from domain.services import Service

Clock = Callable[[], datetime]
BUSY_TIMEOUT = timedelta(seconds=10)

AUTO_ID = "INTEGER PRIMARY KEY AUTOINCREMENT"
"""A generated key column in a store's schema, as SQLite writes it; `stores.postgres` reads it
as an identity column."""

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def without_password(url: str) -> str:
    """A database URL fit for a message or a log: its password left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


ResultRow = Any
"""A row by position and by column name: `sqlite3.Row`, or `stores.postgres.Row`."""

StoreLocation = Path | str
"""Where a service keeps its state: a SQLite file, or a `postgresql://` URL."""


class Cursor(Protocol):
    """What a store reads from a statement: rows by position and by column name."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What a store's SQL runs on, in a transaction of `Database.read` or `Database.write`."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> Cursor: ...


class Database(Protocol):
    """One service's database, its schema created on first open."""

    @property
    def where(self) -> str:
        """The file or the server (without a password), for messages and logs."""
        ...

    def read(self) -> AbstractContextManager[Connection]:
        """A consistent snapshot for several SELECTs."""
        ...

    def write(self) -> AbstractContextManager[Connection]:
        """A transaction that behaves as if it ran alone."""
        ...


def is_postgres(location: StoreLocation) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def open_database(location: StoreLocation, service: Service, schema: str) -> Database:
    """The service's database at `location`: a SQLite file, or its own schema (named for the
    service) in the PostgreSQL database of a `postgresql://` URL."""
    if is_postgres(location):
        from stores.postgres import PostgresDatabase  # psycopg only where it is used

        assert isinstance(location, str)
        return PostgresDatabase(location, service.value, schema)
    return SqliteDatabase(Path(location), schema)


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


def has_table(db: Connection, table: str) -> bool:
    """Whether the store has `table`. A store file written before the table was added (and not
    opened by a worker since, which would create it) is read by the audit as it is: read-only."""
    if isinstance(db, sqlite3.Connection):
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    else:
        query = (
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = ?"
        )
    return db.execute(query, (table,)).fetchone() is not None


def has_column(db: Connection, table: str, column: str) -> bool:
    """Whether `table` has `column` (a store made before the column was added has not)."""
    if isinstance(db, sqlite3.Connection):
        names = [row["name"] for row in db.execute(f"PRAGMA table_info({table})").fetchall()]
        return column in names
    query = (
        "SELECT 1 FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?"
    )
    return db.execute(query, (table, column)).fetchone() is not None


def one_of(column: str, values: Iterable[str]) -> str:
    """A CHECK clause that keeps a column within an enum, so the schema follows the Python enums."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def in_declared_order(column: str, values: Iterable[str]) -> str:
    """An ORDER BY term that sorts a column by its enum's declaration order (an order's messages
    of the same moment in the order of its life), the same on every backend."""
    cases = " ".join(f"WHEN '{value}' THEN {rank}" for rank, value in enumerate(values))
    return f"CASE {column} {cases} END"


class StoreError(Exception):
    """A store refused an operation. `error_type` and `retryable` tell an activity how to fail."""

    error_type: ClassVar[str]
    retryable: ClassVar[bool] = False


class StoreBusyError(StoreError):
    """SQLite stayed locked past the busy timeout: the next attempt will likely succeed."""

    error_type = TransientError.STORE_BUSY.value
    retryable = True


class StoreConflictError(StoreBusyError):
    """A concurrent transaction changed what this one read (PostgreSQL's serialization failure):
    nothing of it was kept, and running it again, on the state the other left, is safe."""


CONFLICT_ATTEMPTS = 30
"""How often a store operation is run again when a concurrent one conflicted with it, before
the conflict reaches the activity (which retries it later, as `StoreBusyError`)."""

CONFLICT_RETRIED = "store conflict retried"
"""How a retried conflict is logged (`stores` logger, INFO): a chaos run counts these lines in
its workers' logs to say what concurrent workers ran into."""

_log = logging.getLogger(__name__)

Params = ParamSpec("Params")
Result = TypeVar("Result")


def retried_on_conflict(operation: Callable[Params, Result]) -> Callable[Params, Result]:
    """Run a store operation again, after a short random pause, while its transaction conflicts
    with a concurrent one. Every write of a store goes through it: on PostgreSQL two workers may
    read the same rows at once (the last units of stock), and one of them must read again."""

    @functools.wraps(operation)
    def retried(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        for attempt in range(1, CONFLICT_ATTEMPTS):
            try:
                return operation(*args, **kwargs)
            except StoreConflictError:
                _note_conflict(operation.__qualname__, attempt)
                time.sleep(random.uniform(0, 0.002 * attempt))
        return operation(*args, **kwargs)

    return retried


def _note_conflict(operation: str, attempt: int) -> None:
    """A conflict is normal between concurrent workers, and worth counting: many of them on the
    same rows say those rows are hot (the last units of a SKU)."""
    from infra.metrics import count_store_conflict  # the metrics' libraries only on a conflict

    _log.info("%s: %s, attempt %d of %d", CONFLICT_RETRIED, operation, attempt, CONFLICT_ATTEMPTS)
    count_store_conflict(operation)


class IdempotencyConflictError(StoreError):
    """The same business key came back with a different request: retrying cannot fix it."""

    error_type = ContractError.IDEMPOTENCY_CONFLICT.value


class StepOutOfOrderError(StoreError):
    """A step arrived before the step it depends on (e.g. dispatch before booking)."""

    error_type = ContractError.STEP_OUT_OF_ORDER.value


class InvalidRequestError(StoreError):
    """An argument no state of the store can accept, or a write the schema's constraints refuse."""

    error_type = ContractError.INVALID_REQUEST.value


class SqliteDatabase:
    """One SQLite file, its schema created on first open."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with translate_sqlite_errors(), closing(connect(path)) as connection:
            # WAL is a property of the file: set once, kept by every later connection.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(schema)

    @property
    def where(self) -> str:
        return str(self.path)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent snapshot for several SELECTs."""
        with translate_sqlite_errors(), _snapshot(connect(self.path)) as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
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


def store_exists(location: StoreLocation, service: Service) -> bool:
    """Whether the service's store was ever created: its file, or its schema."""
    if is_postgres(location):
        from stores.postgres import schema_exists

        assert isinstance(location, str)
        return schema_exists(location, service.value)
    return Path(location).is_file()


@contextmanager
def read_only(location: StoreLocation, service: Service, schema: str) -> Iterator[Connection]:
    """A read snapshot of a store, for tools (the audit) that must never create or change one.

    A store that was never created reads as an empty one: an in-memory database with its schema.
    """
    if is_postgres(location):
        from stores.postgres import read_only_snapshot

        assert isinstance(location, str)
        with read_only_snapshot(location, service.value, schema) as connection:
            yield connection
        return
    path = Path(location)
    with translate_sqlite_errors():
        target = connect(path, read_only=True) if path.is_file() else empty_database(schema)
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


def empty_database(schema: str) -> sqlite3.Connection:
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


class ServiceStore:
    """The base of every service store: the service's database with the store's schema (a
    SQLite file or a PostgreSQL schema, by `location`), and a clock."""

    SERVICE: ClassVar[Service]
    SCHEMA: ClassVar[str]

    def __init__(self, location: StoreLocation, clock: Clock = utc_now) -> None:
        self._db = open_database(location, self.SERVICE, self.SCHEMA)
        self._clock = clock

    @property
    def where(self) -> str:
        """The file or the server (without a password) this store keeps its state in."""
        return self._db.where

    def _now(self) -> str:
        return to_text(self._clock())
