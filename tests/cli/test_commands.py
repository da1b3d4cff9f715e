"""Every command as a user types it, on the dev server: the happy paths print what the README
promises, and bad input or a refused update ends in one line, the right exit code, no traceback
and the order unchanged."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from client.orders import PLACEABLE_STYLES, order_status
from domain.messages.inventory import StockLine
from domain.services import Style
from domain.status import OrderStatus
from domain.views import EntryKind
from infra.ui import ui_base
from stores.inventory import InventoryStore
from tests.cli.conftest import NAMESPACE, Shell, one_line_error
from tests.conftest import namespace_client
from tests.support import PROJECT_ROOT, Result, at_rest, reach, start_module

pytestmark = pytest.mark.e2e

EXAMPLES = PROJECT_ROOT / "examples" / "orders"
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2


def json_of(result: Result) -> dict[str, Any]:
    assert result.code == 0, (result.code, result.stdout, result.stderr)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


async def place_waiting_order(shell: Shell, style: Style = Style.ORCHESTRATED) -> str:
    """An order above the approval threshold: it waits for a person (30 minutes, say the file)."""
    placed = json_of(
        await shell.run(
            "starters.place_order",
            *("--style", style.value),
            *("--order-file", str(EXAMPLES / "needs_approval.json")),
            "--json",
        )
    )
    await reach(shell.client, placed["order_id"], OrderStatus.AWAITING_APPROVAL)
    return str(placed["order_id"])


async def test_place_order_waits_and_prints_one_json_object(shell: Shell) -> None:
    result = json_of(
        await shell.run("starters.place_order", "--scenario", "happy", "--wait", "--json")
    )

    assert result["status"] == "completed"
    assert (result["reason"], result["detail"]) == (None, None)
    assert result["style"] == "orchestrated"
    assert result["workflow_id"] == f"order-{result['order_id']}"
    assert (
        result["ui_url"]
        == f"{ui_base()}/namespaces/{NAMESPACE}/workflows/order-{result['order_id']}"
    )
    assert "tok_" not in json.dumps(result)


async def test_place_order_reports_why_an_order_was_cancelled(shell: Shell) -> None:
    result = json_of(
        await shell.run(
            "starters.place_order", "--scenario", "payment_declined", "--wait", "--json"
        )
    )

    assert (result["status"], result["reason"]) == ("cancelled", "payment_declined")
    assert result["detail"] == (
        f"order {result['order_id']}: the gateway declined 14700 cents (simulated)"
    )


# A person's commands work on an order of any style: they find its style themselves.
STYLES = pytest.mark.parametrize("style", PLACEABLE_STYLES, ids=lambda style: style.value)


@STYLES
async def test_an_order_file_waits_for_a_person_who_approves_it(shell: Shell, style: Style) -> None:
    order_id = await place_waiting_order(shell, style)

    approved = json_of(
        await shell.run("starters.approve_order", order_id, "--approver", "grace", "--json")
    )
    status = json_of(await shell.run("starters.order_status", order_id, "--json"))

    assert (approved["style"], approved["status"]) == (style.value, OrderStatus.AWAITING_DISPATCH)
    assert status["order_id"] == order_id
    updates = [entry["what"] for entry in status["timeline"] if entry["kind"] == "update"]
    assert updates == ["approved by grace"]
    assert "payment_token" not in status
    assert "tok_" not in json.dumps(status)
    await shell.ok("starters.cancel_order", order_id)


@STYLES
async def test_a_person_rejects_an_order_and_it_ends_cancelled(shell: Shell, style: Style) -> None:
    order_id = await place_waiting_order(shell, style)

    rejected = await shell.ok(
        "starters.reject_order", order_id, "--approver", "grace", "--reason", "too dear"
    )
    view = await reach(shell.client, order_id, OrderStatus.CANCELLED)

    assert f"order {order_id}" in rejected.stdout
    assert view.reason == "approval_rejected"
    assert [(e.what, e.detail) for e in view.timeline if e.kind is EntryKind.UPDATE] == [
        ("rejected by grace", "too dear")
    ]


@STYLES
async def test_change_address_then_cancel_before_dispatch(shell: Shell, style: Style) -> None:
    order_id = await place_waiting_order(shell, style)

    changed = json_of(
        await shell.run(
            "starters.change_address",
            order_id,
            "--address-file",
            str(EXAMPLES / "new_address.json"),
            "--json",
        )
    )
    await shell.ok("starters.cancel_order", order_id, "--by", "alice", "--reason", "moved house")
    view = await reach(shell.client, order_id, OrderStatus.CANCELLED)

    updates = [(e.what, e.detail) for e in view.timeline if e.kind is EntryKind.UPDATE]
    assert updates[-1] == ("cancellation requested by alice", "moved house")
    assert changed["shipping_address"].startswith("Grace Hopper, ")
    assert view.shipping_address == changed["shipping_address"]
    assert view.reason == "customer_cancelled"


async def test_human_readable_status_names_the_order_and_its_state(shell: Shell) -> None:
    order_id = await place_waiting_order(shell)

    result = await shell.run("starters.order_status", order_id)

    assert result.code == 0, result.stderr
    assert order_id in result.stdout
    assert "awaiting_approval" in result.stdout
    await shell.ok("starters.reject_order", order_id)


# Bad input: what and why on one line, exit 2 for input, 1 for a refusal, nothing changed.


async def test_malformed_order_file(shell: Shell, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"customer": ')

    result = await shell.run("starters.place_order", "--order-file", str(broken))

    one_line_error(result, EXIT_BAD_INPUT, "broken.json")


async def test_invalid_order_names_the_field(shell: Shell, tmp_path: Path) -> None:
    order = json.loads((EXAMPLES / "small_order.json").read_text())
    order["items"][0]["quantity"] = 0
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps(order))

    result = await shell.run("starters.place_order", "--order-file", str(invalid))

    one_line_error(result, EXIT_BAD_INPUT, "items.0.quantity")


async def test_missing_order_file(shell: Shell, tmp_path: Path) -> None:
    result = await shell.run("starters.place_order", "--order-file", str(tmp_path / "nope.json"))

    one_line_error(result, EXIT_BAD_INPUT, "nope.json")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("starters.place_order", "--scenario", "no_such_scenario"), "'no_such_scenario'"),
        (("starters.place_order", "--order-id", "Not An Id!"), "--order-id"),
        (("starters.place_order", "--style", "telepathic"), "'telepathic'"),
        (("starters.order_status",), "ORDER_ID"),
        (("workers.run", "--service", "billing"), "unknown service billing"),
    ],
    ids=["unknown-scenario", "bad-order-id", "unknown-style", "missing-order-id", "bad-service"],
)
async def test_bad_arguments_are_usage_errors(
    shell: Shell, args: tuple[str, ...], says: str
) -> None:
    result = await shell.run(*args)

    line = one_line_error(result, EXIT_BAD_INPUT, says)
    assert line.startswith(f"python -m {args[0]}: error: "), line


@pytest.mark.parametrize(
    "command", ["order_status", "approve_order", "reject_order", "cancel_order"]
)
async def test_unknown_order_id(shell: Shell, command: str) -> None:
    result = await shell.run(f"starters.{command}", "ord-does-not-exist")

    one_line_error(result, EXIT_BAD_INPUT, "ord-does-not-exist")


async def test_bad_address_file_leaves_the_order_unchanged(shell: Shell, tmp_path: Path) -> None:
    order_id = await place_waiting_order(shell)
    address = json.loads((EXAMPLES / "new_address.json").read_text())
    address["country"] = "Narnia"
    bad = tmp_path / "address.json"
    bad.write_text(json.dumps(address))
    before = await at_rest(shell.client, order_id)

    result = await shell.run("starters.change_address", order_id, "--address-file", str(bad))

    one_line_error(result, EXIT_BAD_INPUT, "country")
    assert await order_status(shell.client, order_id) == before
    await shell.ok("starters.reject_order", order_id)


async def test_approving_an_order_that_needs_no_approval_is_refused(shell: Shell) -> None:
    """The small order waits 30 seconds before dispatch: long enough to be asked to approve."""
    placed = json_of(
        await shell.run(
            "starters.place_order", "--order-file", str(EXAMPLES / "small_order.json"), "--json"
        )
    )
    order_id = placed["order_id"]
    await reach(shell.client, order_id, OrderStatus.AWAITING_DISPATCH)
    before = await at_rest(shell.client, order_id)

    result = await shell.run("starters.approve_order", order_id)

    one_line_error(result, EXIT_REFUSED, order_id, "it is awaiting_dispatch, not awaiting approval")
    assert await order_status(shell.client, order_id) == before
    await shell.ok("starters.cancel_order", order_id)


async def test_cancel_after_the_order_has_ended_is_refused(shell: Shell) -> None:
    placed = json_of(
        await shell.run("starters.place_order", "--scenario", "happy", "--wait", "--json")
    )

    order_id = placed["order_id"]

    result = await shell.run("starters.cancel_order", order_id)

    one_line_error(
        result, EXIT_REFUSED, f"order {order_id} has ended (completed): nothing to cancel"
    )
    assert (await order_status(shell.client, order_id)).status == OrderStatus.COMPLETED


async def test_a_request_to_a_cancelled_order_names_how_it_ended(shell: Shell) -> None:
    placed = json_of(
        await shell.run(
            "starters.place_order", "--scenario", "payment_declined", "--wait", "--json"
        )
    )
    order_id = placed["order_id"]

    result = await shell.run("starters.approve_order", order_id)

    one_line_error(
        result, EXIT_REFUSED, f"order {order_id} has ended (cancelled): nothing to approve"
    )


async def test_unreachable_server_is_one_line(shell: Shell) -> None:
    result = await shell.with_env(TEMPORAL_ADDRESS="127.0.0.1:1").run(
        "starters.order_status", "ord-anything"
    )

    one_line_error(result, EXIT_REFUSED, "127.0.0.1:1")


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("TEMPORAL_ADDRESS", "localhost:abc", "'localhost:abc': invalid target URL"),
        ("TEMPORAL_PROFILE", "no-such-profile", "no-such-profile"),
    ],
    ids=["malformed-address", "unknown-profile"],
)
async def test_connection_settings_that_cannot_be_used_are_bad_input(
    shell: Shell, tmp_path: Path, setting: str, value: str, says: str
) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text('[profile.default]\naddress = "localhost:7233"\n')
    user = shell.with_env(**{setting: value, "TEMPORAL_CONFIG_FILE": str(config)})

    result = await user.run("starters.order_status", "ord-anything")

    one_line_error(result, EXIT_BAD_INPUT, says)


async def test_unknown_namespace_is_one_line(shell: Shell) -> None:
    result = await shell.with_env(TEMPORAL_NAMESPACE="no-such-namespace").run(
        "starters.order_status", "ord-anything"
    )

    one_line_error(result, EXIT_REFUSED, "no-such-namespace")


# The audit and the workers as processes.


async def test_the_audit_of_a_deployment_counts_its_orders_and_names_the_waiting_one(
    shell: Shell, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """A deployment of its own, as a user starts one: a worker process for every service in a
    namespace nobody else uses, a fresh data directory, three orders placed by the command."""
    deployment = shell.with_env(TEMPORAL_NAMESPACE="cli-audit", ORDERS_DATA_DIR=str(tmp_path))
    worker = await start_module(deployment.env, "workers.run")
    try:
        await deployment.ok("starters.place_order", "--scenario", "happy", "--wait")
        await deployment.ok("starters.place_order", "--scenario", "payment_declined", "--wait")
        waiting = json_of(
            await deployment.run(
                "starters.place_order",
                "--order-file",
                str(EXAMPLES / "needs_approval.json"),
                "--json",
            )
        )
        client = await namespace_client(dev_env, "cli-audit")
        await reach(client, waiting["order_id"], OrderStatus.AWAITING_APPROVAL)

        report = json_of(await deployment.run("starters.audit", "--json"))
        handle = client.get_workflow_handle(f"order-{waiting['order_id']}")
        await handle.terminate("an operator gave up on it")
        left_behind = await deployment.run("starters.audit")
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.wait_for(worker.communicate(), 30)

    assert (report["orders_placed"], report["orders_checked"]) == (3, 2)
    assert (report["violations"], report["clean"]) == ([], True)
    assert [(order["order_id"], order["status"]) for order in report["waiting"]] == [
        (waiting["order_id"], OrderStatus.AWAITING_APPROVAL.value)
    ]
    assert worker.returncode == 0
    # terminated before it recorded an outcome: nothing will ever end that order
    assert left_behind.code == EXIT_REFUSED, left_behind.stdout + left_behind.stderr
    assert left_behind.stdout.splitlines()[1:] == [
        f"  [orders] ended_or_waiting: order {waiting['order_id']} never recorded an outcome and"
        " its workflow is terminated"
    ]


async def test_audit_lists_a_leaked_reservation_and_exits_1(shell: Shell, tmp_path: Path) -> None:
    store = InventoryStore(tmp_path / "inventory.sqlite3")
    store.reserve("ord-leaky", [StockLine(sku="KB-001", quantity=1)])

    result = await shell.with_env(ORDERS_DATA_DIR=str(tmp_path)).run("starters.audit")

    assert result.code == 1, result.stdout + result.stderr
    assert "ord-leaky" in result.stdout + result.stderr


async def test_a_worker_process_serves_and_stops_cleanly_on_sigterm(shell: Shell) -> None:
    process = await start_module(shell.env, "workers.run", "--service", "notifications")
    assert process.stdout is not None
    first_line = await asyncio.wait_for(process.stdout.readline(), 30)
    process.send_signal(signal.SIGTERM)
    rest, stderr = await asyncio.wait_for(process.communicate(), 30)

    address = shell.env["TEMPORAL_ADDRESS"]
    assert first_line.decode() == (
        f"worker notifications: task queue notifications, namespace {NAMESPACE}, server {address}\n"
    )
    assert process.returncode == 0, stderr.decode()
    assert rest.decode().splitlines()[-1] == "stopped: every worker has shut down"
