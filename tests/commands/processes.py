"""Waits on the commands' child processes and on their ports, each bounded and each for a real
condition: a line the process printed, its exit, a port taken or free."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from infra.dev_server import port_is_free
from tests.support import Result, start_module

STARTUP_SECONDS = 60.0
"""How long a command may take to say it is up: a dev server's start is a few seconds."""


@contextlib.contextmanager
def taken(port: int) -> Iterator[None]:
    """The port is in use for the duration: listened on here unless something else already
    listens there, so a command that looks at it sees it taken either way."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        with contextlib.suppress(OSError):  # in use already: taken, as wanted
            holder.bind(("127.0.0.1", port))
            holder.listen()
        assert not port_is_free(port), f"port {port} could not be taken"
        yield
    finally:
        holder.close()


def plain_env(**overrides: str) -> dict[str, str]:
    """This environment without its Temporal and project settings (`TEMPORAL_*`, `ORDERS_*`),
    as a user who has exported nothing would have it, plus `overrides`."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TEMPORAL_", "ORDERS_"))
    }
    return {**kept, "PYTHONUNBUFFERED": "1", **overrides}


async def until_line(
    process: asyncio.subprocess.Process, expected: str, within: float = STARTUP_SECONDS
) -> list[str]:
    """Read the process's stdout until the line `expected`; every line read, that one last.

    Fails if the process ends, or `within` seconds pass, before it prints that line."""
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(within):
            while not lines or lines[-1] != expected:
                raw = await process.stdout.readline()
                assert raw, f"the process ended without printing {expected!r}; it printed {lines}"
                lines.append(raw.decode().rstrip("\n"))
    except TimeoutError:
        raise AssertionError(f"no {expected!r} within {within} s; it printed {lines}") from None
    return lines


async def ended(process: asyncio.subprocess.Process, within: float) -> Result:
    """The process's exit code and the rest of its output, once it has exited by itself within
    `within` seconds."""
    stdout, stderr = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


@contextlib.asynccontextmanager
async def started(env: dict[str, str], *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m *args` as `tests.support.start_module` runs it, but in a process group of its
    own, killed whole at the end whatever the test asserted: a command's own children (the
    Temporal dev server) never outlive a failed test."""
    process = await start_module(env, *args, own_group=True)
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


def failing_cli(tmp_path: Path) -> Path:
    """A `temporal` binary that exits 1 at once, silently, as a broken install would."""
    path = tmp_path / "temporal"
    path.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(1)\n")
    path.chmod(0o755)
    return path
