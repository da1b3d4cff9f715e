"""`python -m starters.compare [--scenario NAME] [--orders N] [--json] [--no-workers]`

Runs the same scenario's order N times in each style (orchestrated, choreographed, hybrid), all
at once against the same server, and prints per style: the outcome, the end-to-end latency
(placement to outcome, p50 and p95), and per order the workflows, history events, activities,
signals, timers and the Temporal Cloud billable actions counted from the histories by the
published rules (`insight/billing.py`). The styles share the server and the workers while they
run, so none is measured on a quieter machine than the others.

Starts the Temporal dev server unless one answers at TEMPORAL_ADDRESS, and the workers of every
service in this process unless `--no-workers`. Exit 0 when every order ended as its scenario
expects, 1 otherwise, 2 on bad input."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Sequence

from rich.console import Console
from temporalio.client import Client

from client.local_run import temporal_server, workers_here
from domain.scenarios import SCENARIOS_BY_NAME
from infra import cli
from infra.dev_server import stdout_to_stderr
from insight.comparison import MAX_ORDERS, as_json, compare, print_tables


def orders_argument(text: str) -> int:
    """`--orders`: checked before anything connects or runs."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_ORDERS:
        raise argparse.ArgumentTypeError(f"{value} is not between 1 and {MAX_ORDERS}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.ArgumentParser(prog="python -m starters.compare", description=__doc__)
    parser.add_argument(
        "--scenario", default="happy", choices=list(SCENARIOS_BY_NAME), help="default: happy"
    )
    parser.add_argument(
        "--orders", type=orders_argument, default=3, help="orders per style (default: 3)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--no-workers",
        action="store_true",
        help="do not start workers here: use those already running",
    )
    return parser.parse_args(argv)


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    args = parse_args(argv)
    scenario = SCENARIOS_BY_NAME[args.scenario]
    status = Console(stderr=True)  # progress and notes: stdout stays the table or the JSON
    async with contextlib.AsyncExitStack() as stack:
        owns_server = False
        if client is None:
            with stdout_to_stderr():
                server = await stack.enter_async_context(temporal_server(status))
                client, owns_server = server.client, server.embedded
        await stack.enter_async_context(
            workers_here(client, not args.no_workers, status, owns_server=owns_server)
        )
        results = await compare(client, scenario, args.orders, status)
    if args.json:
        print(json.dumps(as_json(scenario, args.orders, results), indent=2))
    else:
        print_tables(scenario, args.orders, results)
    ok = all(result.as_expected for result in results)
    return cli.EXIT_OK if ok else cli.EXIT_REFUSED


if __name__ == "__main__":
    cli.run(main)
