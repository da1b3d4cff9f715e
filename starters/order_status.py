"""`python -m starters.order_status ORDER_ID [--json]`: where an order stands, and its timeline.
For a choreographed order, also what each participant received, published and refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from temporalio.client import Client

from client.orders import order_status
from client.output import describe_participants, describe_view, print_json
from client.participants import Participants, survey
from client.requests import order_parser
from domain.services import Style
from domain.views import OrderView
from infra import cli
from infra.client import connect


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    args = order_parser("python -m starters.order_status", __doc__).parse_args(argv)
    client = client or await connect()
    view = await order_status(client, args.order_id)
    participants = await _participants(client, view)
    if args.json:
        print_json(_as_json(view, participants))
    else:
        print(_as_text(view, participants))
    return cli.EXIT_OK


async def _participants(client: Client, view: OrderView) -> Participants | None:
    """Only a choreographed order has participants; an orchestrated one is left as it was."""
    if view.style is not Style.CHOREOGRAPHED:
        return None
    return await survey(client, view.order_id)


def _as_json(view: OrderView, participants: Participants | None) -> dict[str, Any]:
    """The status view's fields unchanged; a choreographed order adds its participants."""
    data = view.model_dump(mode="json")
    if participants is not None:
        data["participants"] = [answer.model_dump(mode="json") for answer in participants.answered]
        data["silent_participants"] = [
            {**asdict(silent), "service": silent.service.value} for silent in participants.silent
        ]
    return data


def _as_text(view: OrderView, participants: Participants | None) -> str:
    lines = [describe_view(view)]
    if participants is not None:
        lines.extend(describe_participants(participants))
    return "\n".join(lines)


if __name__ == "__main__":
    cli.run(main)
