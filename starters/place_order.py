"""`python -m starters.place_order [--style orchestrated] [--scenario NAME | --order-file PATH]
[--order-id ID] [--wait] [--json]`: place an order, play the scenario's person if it has one, and
(with --wait) wait for the order to end."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from temporalio.client import Client

from client.input_files import order_id_argument, read_order, scenario_order_id
from client.orders import (
    PLACEABLE_STYLES,
    place_order,
    state_of,
    wait_for_outcome,
)
from client.output import print_json
from client.scenario_player import play_actor
from domain.order import Order
from domain.scenarios import SCENARIOS_BY_NAME, Scenario
from domain.services import Style
from domain.views import OrderOutcome
from infra import cli
from infra.client import connect
from infra.ui import workflow_url


def _parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog="python -m starters.place_order", description=__doc__)
    parser.add_argument(
        "--style",
        choices=[style.value for style in PLACEABLE_STYLES],
        default=Style.ORCHESTRATED.value,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--scenario", choices=list(SCENARIOS_BY_NAME), help="a demo scenario (default: happy)"
    )
    source.add_argument("--order-file", type=Path, help="an order as JSON (see examples/orders)")
    parser.add_argument(
        "--order-id", type=order_id_argument, help="the order id (default: made up)"
    )
    parser.add_argument("--wait", action="store_true", help="wait until the order has ended")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _order_of(scenario: Scenario | None, order_file: Path | None, order_id: str | None) -> Order:
    if order_file is not None:
        return read_order(order_file, order_id)
    assert scenario is not None
    return scenario.order(order_id or scenario_order_id(scenario))


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    args = _parser().parse_args(argv)
    scenario = None if args.order_file else SCENARIOS_BY_NAME[args.scenario or "happy"]
    order = _order_of(scenario, args.order_file, args.order_id)
    style = Style(args.style)
    client = client or await connect()

    placed = await place_order(client, order, style)
    ui_url = workflow_url(placed.workflow_id, client.namespace)
    if not args.json:
        print(f"placed order {placed.order_id} ({style.value}): {ui_url}")
    actor = asyncio.create_task(play_actor(client, scenario, placed)) if scenario else None
    outcome: OrderOutcome | None = None
    if args.wait:
        outcome = await wait_for_outcome(client, placed)
    if actor is not None:
        await actor
    status, reason, detail = await state_of(client, placed, outcome)
    if args.json:
        print_json(
            {
                "order_id": placed.order_id,
                "workflow_id": placed.workflow_id,
                "style": style.value,
                "scenario": scenario.name if scenario else None,
                "status": status,
                "reason": reason,
                "detail": detail,
                "total_cents": order.total_cents,
                "ui_url": ui_url,
            }
        )
    else:
        print(f"order {placed.order_id}: {status}" + (f" ({reason})" if reason else ""))
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
