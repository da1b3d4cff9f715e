"""`python -m starters.dev_server --port P --ui-port U --db-file F` as a user runs it: one line
when it is up, a server real clients use with the project's search attributes registered, a
clean stop on Ctrl-C that frees its ports, and a one-line refusal when a port is taken or an
argument is wrong."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from domain import search_attributes
from infra.dev_server import port_is_free
from infra.server_start import STARTUP_TIMEOUT
from tests.commands.processes import ended, failing_cli, plain_env, started, taken, until_line
from tests.support import Result, free_port, one_line_error

PROG = "python -m starters.dev_server"
STOP_SECONDS = 30.0
"""A dev server stops in well under a second; this only bounds the wait."""

pytestmark = pytest.mark.timeout(90)


@dataclass(frozen=True)
class Server:
    port: int
    ui_port: int
    db_file: Path
    process: asyncio.subprocess.Process

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    @property
    def start_line(self) -> str:
        return (
            f"Temporal dev server on {self.address}; Web UI http://localhost:{self.ui_port}; "
            f"history in {self.db_file}. Ctrl-C stops it."
        )


@contextlib.asynccontextmanager
async def dev_server(tmp_path: Path) -> AsyncIterator[Server]:
    """The command, up: it has printed its start line."""
    port, ui_port = free_port(), free_port()
    db_file = tmp_path / "history" / "temporal.sqlite3"
    args = ("--port", str(port), "--ui-port", str(ui_port), "--db-file", str(db_file))
    async with started(plain_env(), "starters.dev_server", *args) as process:
        server = Server(port, ui_port, db_file, process)
        await until_line(process, server.start_line)
        yield server


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with dev_server(tmp_path_factory.mktemp("dev-server")) as server:
        yield server


async def test_a_client_connects_and_counts_the_workflows_of_a_new_history(
    running: Server,
) -> None:
    client = await Client.connect(running.address)

    assert (await client.count_workflows()).count == 0
    assert running.db_file.is_file(), "the history is not kept where --db-file says"


async def test_the_projects_search_attributes_are_registered(running: Server) -> None:
    """Without them every order's start would be refused: the dev server registers them at
    start-up, the command's one promise beyond the server itself."""
    client = await Client.connect(running.address)

    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )

    names = [key.name for key in search_attributes.ALL]
    assert {name: listed.custom_attributes.get(name) for name in names} == dict.fromkeys(
        names, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    )


async def test_sigint_stops_it_with_exit_0_and_frees_its_ports(tmp_path: Path) -> None:
    async with dev_server(tmp_path) as server:
        server.process.send_signal(signal.SIGINT)
        result = await ended(server.process, STOP_SECONDS)
        free = {port: port_is_free(port) for port in (server.port, server.ui_port)}

    assert (result.code, result.stderr) == (0, "")
    assert free == {server.port: True, server.ui_port: True}


async def refused(tmp_path: Path, *args: str) -> Result:
    """The command, expected to give up at once: it ends by itself."""
    async with started(plain_env(), "starters.dev_server", *args) as process:
        return await ended(process, STOP_SECONDS)


async def test_a_grpc_port_in_use_is_refused_in_one_line_with_exit_1(tmp_path: Path) -> None:
    port = free_port()
    db_file = str(tmp_path / "temporal.sqlite3")
    with taken(port):
        result = await refused(
            tmp_path, "--port", str(port), "--ui-port", str(free_port()), "--db-file", db_file
        )

    assert one_line_error(result, 1) == (
        f"{PROG}: error: port {port} is in use: is a Temporal server already running there?"
    )


async def test_a_ui_port_in_use_is_refused_in_one_line_with_exit_1(tmp_path: Path) -> None:
    ui_port = free_port()
    db_file = str(tmp_path / "temporal.sqlite3")
    with taken(ui_port):
        result = await refused(
            tmp_path, "--port", str(free_port()), "--ui-port", str(ui_port), "--db-file", db_file
        )

    assert one_line_error(result, 1) == (
        f"{PROG}: error: UI port {ui_port} is in use: is a Temporal server already running there?"
    )


async def test_a_port_out_of_range_is_bad_input_in_one_line_with_exit_2(tmp_path: Path) -> None:
    result = await refused(tmp_path, "--port", "99999", "--db-file", str(tmp_path / "t.sqlite3"))

    assert one_line_error(result, 2) == (
        f"{PROG}: error: argument --port: must be 1 to 65535 (got 99999) (see --help)"
    )


async def test_a_db_file_that_is_a_directory_is_bad_input_in_one_line_with_exit_2(
    tmp_path: Path,
) -> None:
    """`--db-file .data` is an easy slip: the server could not open it, and said so only in a
    traceback."""
    args = ("--port", str(free_port()), "--ui-port", str(free_port()), "--db-file", str(tmp_path))
    result = await refused(tmp_path, *args)

    assert one_line_error(result, 2) == (
        f"{PROG}: error: --db-file {tmp_path}: is a directory, not a file"
    )


async def test_a_dev_server_that_does_not_start_is_refused_in_one_line_with_exit_1(
    tmp_path: Path,
) -> None:
    """It was a traceback, and the interpreter's teardown then sometimes aborted (exit 134)."""
    port = free_port()
    env = plain_env(TEMPORAL_CLI_PATH=str(failing_cli(tmp_path)))
    args = ("--port", str(port), "--ui-port", str(free_port()), "--db-file", str(tmp_path / "t"))
    async with started(env, "starters.dev_server", *args) as process:
        result = await ended(process, STOP_SECONDS)

    line = one_line_error(result, 1)
    assert re.fullmatch(
        f"{PROG}: error: the Temporal dev server did not start on port {port}: "
        f"Failed starting Temporal dev server: ephemeral server at 127.0.0.1:{port} did not start "
        f"within {STARTUP_TIMEOUT.seconds}s; last connection error: .*Connection refused.*",
        line,
    ), line
