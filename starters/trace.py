"""`python -m starters.trace ORDER_ID [--format text|mermaid|json]`: the whole story of one order,
in any style, rebuilt from the Temporal histories of every workflow its `OrderId` search
attribute finds: each activity, signal, update, timer, child workflow and event, with its
service, time, duration, attempts, compensations marked, and what caused it.

It reads histories only, so it works on running, completed and cancelled orders alike."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client

from client.output import print_json
from infra import cli
from infra.client import connect
from insight.causal_trace import trace_order
from insight.trace_render import render_json, render_mermaid, render_text

FORMATS = ("text", "mermaid", "json")


def _parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog="python -m starters.trace", description=__doc__)
    parser.add_argument("order_id", metavar="ORDER_ID")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="how to print the trace (default text)"
    )
    return parser


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    args = _parser().parse_args(argv)
    client = client or await connect()
    trace = await trace_order(client, args.order_id)
    if not trace.workflows:
        raise cli.BadInputError(
            f"no order with id {args.order_id!r} (no workflow has OrderId = {args.order_id!r})"
        )
    if args.format == "json":
        print_json(render_json(trace))
    elif args.format == "mermaid":
        print(render_mermaid(trace), end="")
    else:
        print(render_text(trace))
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
