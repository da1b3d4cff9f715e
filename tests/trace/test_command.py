"""`python -m starters.trace` as a user runs it: a child process talking to the dev server."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from domain.services import Style
from tests.cli.conftest import Shell, one_line_error
from tests.support import PROJECT_ROOT, Result, user_env
from tests.trace.conftest import Orders

pytestmark = pytest.mark.e2e
MERMAID_TOOL = PROJECT_ROOT / "tools" / "mermaid"
NO_MERMAID = (
    shutil.which("node") is None or not (MERMAID_TOOL / "node_modules" / "mermaid").is_dir()
)


def shell_of(orders: Orders) -> Shell:
    return Shell(user_env(orders.address, "trace", orders.data_dir), orders.client, orders.data_dir)


async def trace(orders: Orders, *args: str) -> Result:
    return await shell_of(orders).run("starters.trace", *args)


@pytest.mark.skipif(NO_MERMAID, reason="Mermaid's parser is not installed (tools/mermaid)")
async def test_the_mermaid_diagram_parses(orders: Orders, tmp_path: Path) -> None:
    order_id = orders.runs["happy", Style.ORCHESTRATED].placed.order_id
    result = await trace(orders, order_id, "--format", "mermaid")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("sequenceDiagram\n")
    source = tmp_path / "trace.mmd"
    source.write_text(result.stdout)

    process = await asyncio.create_subprocess_exec(
        "node",
        str(MERMAID_TOOL / "parse.mjs"),
        str(source),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)

    assert process.returncode == 0, stdout.decode() + stderr.decode() + result.stdout


async def test_text_and_json(orders: Orders) -> None:
    order_id = orders.runs["payment_declined", Style.ORCHESTRATED].placed.order_id
    text = await trace(orders, order_id)
    as_json = await trace(orders, order_id, "--format", "json")

    assert text.code == 0, text.stderr
    assert "compensation: void payment" in text.stdout
    data = json.loads(as_json.stdout)
    assert data["order_id"] == order_id
    assert [w["workflow_type"] for w in data["workflows"]] == ["OrderWorkflow"]
    assert sum(entry["compensation"] for entry in data["entries"]) == 2


async def test_an_unknown_order_is_one_line_and_exit_2(orders: Orders) -> None:
    result = await trace(orders, "no-such-order-42")

    one_line_error(result, 2, "no-such-order-42")
