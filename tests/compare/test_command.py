"""`python -m starters.compare` as a user runs it: in a child process, against the session's dev
server (namespace `compare`), with the workers of every service running in this process; and
bad input refused in one line before anything connects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.services import Service
from tests.conftest import namespace_client
from tests.support import run_module, user_env
from workers.pool import running_workers

NAMESPACE = "compare"
EXIT_BAD_INPUT = 2
COMMAND_TIMEOUT_SECONDS = 90.0
WORKFLOWS_PER_HAPPY_ORDER = {"orchestrated": 2, "choreographed": 5, "hybrid": 4}
"""The order workflow and its shipment child; the five participants; the orchestrator and its
three warehouse participants."""


async def compare(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = await run_module(
        env, "starters.compare", *args, within_seconds=COMMAND_TIMEOUT_SECONDS
    )
    return result.code, result.stdout, result.stderr


@pytest.mark.e2e
async def test_happy_orders_in_the_three_styles(
    dev_env: WorkflowEnvironment, data_dir: Path
) -> None:
    client = await namespace_client(dev_env, NAMESPACE)
    env = user_env(client.service_client.config.target_host, NAMESPACE, data_dir)
    async with running_workers(client, list(Service), data_dir):
        code, stdout, stderr = await compare(
            env, "--scenario", "happy", "--orders", "2", "--json", "--no-workers"
        )
    assert code == 0, (stdout, stderr)
    report: dict[str, Any] = json.loads(stdout)
    assert report["scenario"] == "happy"
    assert [style["style"] for style in report["styles"]] == list(WORKFLOWS_PER_HAPPY_ORDER)
    for style in report["styles"]:
        check_happy_style(style)


def check_happy_style(style: dict[str, Any]) -> None:
    name = style["style"]
    assert style["outcomes"] == {"completed": 2}, name
    assert [order["status"] for order in style["orders"]] == ["completed", "completed"], name
    assert len({order["order_id"] for order in style["orders"]}) == 2, "fresh order ids"
    assert all(order["settled"] for order in style["orders"]), name
    assert style["per_order"]["workflows"] == WORKFLOWS_PER_HAPPY_ORDER[name]
    latency = style["latency_seconds"]
    assert 0 < latency["p50"] <= latency["p95"], name
    assert all(order["seconds"] > 0 for order in style["orders"]), name
    assert style["per_order"]["actions"] > 0, name
    assert sum(style["actions_per_order_by_rule"].values()) == style["per_order"]["actions"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--orders", "0"), "--orders"),
        (("--orders", "many"), "--orders"),
        (("--scenario", "no_such_scenario"), "no_such_scenario"),
    ],
    ids=["zero-orders", "not-a-number", "unknown-scenario"],
)
async def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], fragment: str, tmp_path: Path
) -> None:
    # no server needed: the arguments are refused before anything connects
    code, stdout, stderr = await compare(user_env("localhost:1", NAMESPACE, tmp_path), *args)
    assert code == EXIT_BAD_INPUT, (code, stdout, stderr)
    assert stdout == ""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert fragment in lines[0]
    assert "Traceback" not in stderr
