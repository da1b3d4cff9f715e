"""One order id, placed twice at the same moment in the choreographed style, on the dev server.

The order is placed by signal-with-start of its `orders-<order id>` participant, and a
signal-with-start on a running workflow does not fail: it only signals it. So the second of two
placements that both found no participant yet used to be told "placed", whatever it carried,
while the participant went on with the first `OrderPlaced` and ignored the second. Now the
placement reads which `OrderPlaced` the participant took: the same order again is a retry and is
told placed; other contents under the same id are refused, as the other styles refuse them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from temporalio.client import Client

from client.input_files import new_order_id
from client.orders import PlacedOrder, place_order
from domain.order import LineItem, Order
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Style
from domain.status import OrderStatus
from infra.cli import BadInputError
from tests.cli.conftest import Shell, one_line_error
from tests.cli.test_commands import EXIT_BAD_INPUT, json_of
from tests.support import Result, outcome_of

pytestmark = pytest.mark.e2e
NAMESPACE = "cli-placement"
"""This module's own namespace (one of the suite's `TEST_NAMESPACES`): no other module's
workers pick up its orders, and its workers none of theirs."""

HAPPY = SCENARIOS_BY_NAME["happy"]
CHOREOGRAPHED = ("--style", Style.CHOREOGRAPHED.value)


def an_order(prefix: str) -> Order:
    """An order that ends in seconds (the happy scenario's short timeouts)."""
    return HAPPY.order(new_order_id(prefix))


def other_contents(order: Order) -> Order:
    """The same order id, other lines (and so another total)."""
    other = Order.model_validate(
        {
            **order.model_dump(),
            "items": [LineItem(sku="KB-001", quantity=2, unit_price_cents=8_900)],
        }
    )
    assert other.total_cents != order.total_cents
    return other


def order_file(tmp_path: Path, name: str, order: Order) -> Path:
    """The order as a user would write it: `--order-id` names it on the command line."""
    path = tmp_path / f"{name}.json"
    data = order.model_dump(mode="json", exclude={"order_id"})
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


async def place_both(client: Client, *orders: Order) -> list[PlacedOrder | BaseException]:
    """Place every order at once: each placement's look for an existing participant happens
    before any of them has started one."""
    return await asyncio.gather(
        *(place_order(client, order, Style.CHOREOGRAPHED) for order in orders),
        return_exceptions=True,
    )


def refusal(order_id: str) -> str:
    """What the orchestrated and hybrid styles say to a second order under a taken id."""
    return f"order {order_id} already exists; use another order_id"


async def test_of_two_orders_placed_at_once_under_one_id_one_is_placed_the_other_refused(
    shell: Shell,
) -> None:
    first = an_order("twice")
    second = other_contents(first)

    results = await place_both(shell.client, first, second)

    placed = [result for result in results if isinstance(result, PlacedOrder)]
    refused = [result for result in results if isinstance(result, BadInputError)]
    assert (len(placed), len(refused)) == (1, 1), results
    assert str(refused[0]) == refusal(first.order_id)
    winner = first if results[0] is placed[0] else second
    outcome = await outcome_of(shell.client, placed[0])
    assert (outcome.status, outcome.total_cents) == (OrderStatus.COMPLETED, winner.total_cents)


async def test_the_same_order_placed_twice_at_once_is_placed_for_both(shell: Shell) -> None:
    order = an_order("retried")

    results = await place_both(shell.client, order, order)

    assert all(isinstance(result, PlacedOrder) for result in results), results
    assert results[0] == results[1]
    outcome = await outcome_of(shell.client, results[0])  # type: ignore[arg-type]
    assert (outcome.status, outcome.total_cents) == (OrderStatus.COMPLETED, order.total_cents)


async def test_a_retry_through_the_command_is_told_placed_again(
    shell: Shell, tmp_path: Path
) -> None:
    order = an_order("retry")
    path = order_file(tmp_path, "order", order)
    args = (*CHOREOGRAPHED, "--order-file", str(path), "--order-id", order.order_id, "--json")

    first = json_of(await shell.run("starters.place_order", *args))
    again = json_of(await shell.run("starters.place_order", *args, "--wait"))

    assert again["workflow_id"] == first["workflow_id"] == f"orders-{order.order_id}"
    assert (again["status"], again["total_cents"]) == ("completed", order.total_cents)


async def test_the_command_refuses_other_contents_under_a_placed_id_in_one_line(
    shell: Shell, tmp_path: Path
) -> None:
    order = an_order("taken")
    files = [
        order_file(tmp_path, "first", order),
        order_file(tmp_path, "second", other_contents(order)),
    ]

    results: list[Result] = await asyncio.gather(
        *(
            shell.run(
                "starters.place_order",
                *CHOREOGRAPHED,
                *("--order-file", str(path), "--order-id", order.order_id, "--json"),
            )
            for path in files
        )
    )

    assert sorted(result.code for result in results) == [0, EXIT_BAD_INPUT], results
    refused = next(result for result in results if result.code != 0)
    line = one_line_error(refused, EXIT_BAD_INPUT, refusal(order.order_id))
    assert line == f"python -m starters.place_order: error: {refusal(order.order_id)}"
    assert refused.stdout == ""
