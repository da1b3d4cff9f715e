"""`python -m starters.order_status ORDER_ID [--json]`: where an order stands, and its timeline."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client

from infra import cli
from infra.client import connect
from starters.order_client import order_status
from starters.order_command import order_parser
from starters.output import describe_view, print_json


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    args = order_parser("python -m starters.order_status", __doc__).parse_args(argv)
    client = client or await connect()
    view = await order_status(client, args.order_id)
    if args.json:
        print_json(view.model_dump(mode="json"))
    else:
        print(describe_view(view))
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
