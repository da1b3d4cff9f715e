"""`python -m workers.run` stopped twice, as an impatient operator does: the first SIGTERM
drains, the second exits at once with exit 1 and says so in one line, leaving the activity in
flight to Temporal. And a drain timeout that is no number of seconds is refused before anything
starts."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.commands.processes import ended, started, until_line
from tests.conftest import namespace_client
from tests.observability.drain_workflow import (
    STARTED,
    booking_in_flight,
    booking_state,
    booking_worker,
)
from tests.support import one_line_error, user_env

PROG = "python -m workers.run"
NAMESPACE = "default"
SECOND_SIGNAL_WAIT = 30.0
"""The process exits at once on the second signal; this only bounds the wait, far below the
drain (600 s) and the booking (50 s) either of which a worker that ignored the signal would
wait for."""


@pytest.fixture
async def client(dev_env: WorkflowEnvironment) -> AsyncIterator[Client]:
    """The session's dev server, with the worker of the booking workflow (the booking itself
    runs in the worker process under test)."""
    client = await namespace_client(dev_env, NAMESPACE)
    async with booking_worker(client):
        yield client


@pytest.mark.timeout(90)
async def test_a_second_sigterm_during_the_drain_exits_1_at_once(
    client: Client, tmp_path: Path
) -> None:
    address = client.service_client.config.target_host
    env = user_env(address, NAMESPACE, tmp_path)
    args = ("--service", "shipping", "--drain-timeout", "600")
    async with started(env, "workers.run", *args) as process:
        await until_line(
            process,
            f"worker shipping: task queue shipping, namespace {NAMESPACE}, server {address}",
        )
        handle = await booking_in_flight(client, timedelta(seconds=50))
        try:
            process.send_signal(signal.SIGTERM)
            await until_line(process, "stopping: draining in-flight tasks (up to 600 s)...")
            process.send_signal(signal.SIGTERM)
            result = await ended(process, SECOND_SIGNAL_WAIT)
            left_behind = await booking_state(handle)
        finally:
            with contextlib.suppress(RPCError):  # ended already: nothing to clean up
                await handle.terminate("the test is over")

    assert result.code == 1, result.stderr
    assert result.stdout == "", "it went on to stop the workers"
    assert result.stderr.splitlines()[-1] == (
        f"{PROG}: error: second signal: exiting without waiting for the drain"
    )
    assert left_behind == STARTED, "the booking did not stay in flight for Temporal to retry"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("seconds", ["nan", "inf", "1e20", "-1"])
async def test_a_drain_timeout_that_is_no_number_of_seconds_is_bad_input_in_one_line(
    tmp_path: Path, seconds: str
) -> None:
    """`nan`, `inf` and huge numbers were tracebacks (timedelta cannot hold them)."""
    env = user_env("localhost:7233", NAMESPACE, tmp_path)
    async with started(env, "workers.run", "--drain-timeout", seconds) as process:
        result = await ended(process, 20)

    assert one_line_error(result, 2) == (
        f"{PROG}: error: --drain-timeout: must be 0 to 86400 seconds (got {float(seconds):g})"
    )


@pytest.mark.timeout(30)
async def test_a_drain_timeout_variable_that_is_infinite_is_bad_input_in_one_line(
    tmp_path: Path,
) -> None:
    env = {**user_env("localhost:7233", NAMESPACE, tmp_path), "ORDERS_DRAIN_TIMEOUT": "inf"}
    async with started(env, "workers.run") as process:
        result = await ended(process, 20)

    assert one_line_error(result, 2) == (
        f"{PROG}: error: ORDERS_DRAIN_TIMEOUT: must be 0 to 86400 seconds (got inf)"
    )
