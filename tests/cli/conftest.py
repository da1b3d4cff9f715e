"""The command-line tools run as a user runs them: `python -m ...` in a child process, talking to
the session's dev server through `TEMPORAL_ADDRESS` and `TEMPORAL_NAMESPACE`, with the workers of
every service running in this process against the same data directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.services import Service
from tests.conftest import namespace_client
from tests.support import Result, one_line_error, run_module, user_env
from workers.pool import running_workers

NAMESPACE = "cli"

__all__ = ["NAMESPACE", "Shell", "one_line_error"]


@dataclass(frozen=True)
class Shell:
    """Runs commands in child processes with the environment a user would export."""

    env: dict[str, str]
    client: Client
    data_dir: Path

    async def run(self, *args: str) -> Result:
        return await run_module(self.env, *args)

    async def ok(self, *args: str) -> Result:
        """Run a command that must succeed: exit 0, nothing on stderr that says otherwise."""
        result = await self.run(*args)
        assert result.code == 0, (args, result.code, result.stdout, result.stderr)
        return result

    def with_env(self, **overrides: str) -> Shell:
        return Shell({**self.env, **overrides}, self.client, self.data_dir)


@pytest.fixture(scope="module")
async def shell(
    dev_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Shell]:
    """A namespace per test module (its `NAMESPACE`, default `cli`), so that no module's workers
    pick up what another module's orders left to do."""
    namespace: str = getattr(request.module, "NAMESPACE", NAMESPACE)
    client = await namespace_client(dev_env, namespace)
    data_dir = tmp_path_factory.mktemp("cli-data")
    address = client.service_client.config.target_host
    async with running_workers(client, list(Service), data_dir):
        yield Shell(user_env(address, namespace, data_dir), client, data_dir)
