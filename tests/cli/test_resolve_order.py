"""`starters.resolve_order` as a user types it, on the dev server: bad input is one line and exit
2 before any server is asked; an order with nothing parked refuses the resolution (exit 1) and
is left as it was. (The parked path itself is tested with the workflows that park.)"""

from __future__ import annotations

import json

import pytest

from client.orders import order_status
from domain.status import OrderStatus
from tests.cli.conftest import Shell, one_line_error
from tests.support import PROJECT_ROOT, at_rest, reach

pytestmark = pytest.mark.e2e

NAMESPACE = "cli-resolve"
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
COMMAND = "starters.resolve_order"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "ORDER_ID"),
        (("ord-1",), "one of the arguments --retry --mark-done is required"),
        (("ord-1", "--retry", "--mark-done"), "not allowed with argument --retry"),
        (("ord-1", "--mark-done"), "--mark-done needs --note TEXT"),
        (("ord-1", "--retry", "--note", "why not"), "--note goes with --mark-done only"),
        (("ord-1", "--mark-done", "--note", " "), "note: String should have at least 1"),
        (("ord-1", "--mark-done", "--note", "x" * 501), "note: String should have at most 500"),
    ],
    ids=[
        "no-order-id",
        "no-action",
        "both-actions",
        "done-without-note",
        "retry-with-note",
        "blank-note",
        "long-note",
    ],
)
async def test_bad_input_is_one_line_and_exit_2(
    shell: Shell, args: tuple[str, ...], says: str
) -> None:
    result = await shell.run(COMMAND, *args)

    line = one_line_error(result, EXIT_BAD_INPUT, says)
    assert line.startswith(f"python -m {COMMAND}: error: "), line


async def test_an_unknown_order_is_bad_input(shell: Shell) -> None:
    result = await shell.run(COMMAND, "ord-does-not-exist", "--retry")

    one_line_error(result, EXIT_BAD_INPUT, "ord-does-not-exist")


@pytest.mark.parametrize(
    "action",
    [("--retry",), ("--mark-done", "--note", "voided in the console")],
    ids=["retry", "mark-done"],
)
async def test_an_order_with_nothing_parked_refuses_and_is_unchanged(
    shell: Shell, action: tuple[str, ...]
) -> None:
    order_id = await _place_waiting_order(shell)
    before = await at_rest(shell.client, order_id)

    result = await shell.run(COMMAND, order_id, *action, "--json")

    one_line_error(
        result, EXIT_REFUSED, f"order {order_id} refused the request", "no compensation is parked"
    )
    assert result.stdout == ""
    assert await order_status(shell.client, order_id) == before
    await shell.ok("starters.reject_order", order_id)


async def _place_waiting_order(shell: Shell) -> str:
    """An order above the approval threshold: it waits for its approver, nothing parked."""
    placed = await shell.ok(
        "starters.place_order",
        *("--order-file", str(PROJECT_ROOT / "examples" / "orders" / "needs_approval.json")),
        "--json",
    )
    order_id = str(json.loads(placed.stdout)["order_id"])
    await reach(shell.client, order_id, OrderStatus.AWAITING_APPROVAL)
    return order_id
