"""`python -m starters.resolve_order ORDER_ID (--retry | --mark-done --note TEXT) [--by NAME]
[--json]`: answer an order that waits for a person (`needs_attention`) about the compensation it
could not do. `--retry` runs it again (the gateway may take the void now); `--mark-done` records
that you undid it by hand, and how (`--note`, required), in the order's timeline and the
service's store. `--note` goes with `--mark-done` only: a retry carries no note. Refused (exit 1)
when the order has nothing parked."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Sequence

from temporalio.client import Client

from client.requests import run_update
from domain.commands import UPDATE_RESOLVE, Resolution, Resolve
from infra import cli


def _configure(parser: argparse.ArgumentParser) -> None:
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--retry",
        dest="action",
        action="store_const",
        const=Resolution.RETRY,
        help="run the stuck compensation again",
    )
    action.add_argument(
        "--mark-done",
        dest="action",
        action="store_const",
        const=Resolution.MARK_DONE,
        help="you undid it by hand (say how with --note)",
    )
    parser.add_argument(
        "--note", metavar="TEXT", help="with --mark-done: what was undone by hand, and how"
    )
    parser.add_argument(
        "--by",
        dest="resolved_by",
        metavar="NAME",
        default=getpass.getuser(),
        help="who resolves (default: you)",
    )


def _request(args: argparse.Namespace) -> Resolve:
    """Checked here rather than by `Resolve` alone, so the error names the options."""
    if args.action is Resolution.MARK_DONE and args.note is None:
        raise cli.BadInputError("--mark-done needs --note TEXT: what was undone by hand, and how")
    if args.action is Resolution.RETRY and args.note is not None:
        raise cli.BadInputError("--note goes with --mark-done only: a --retry carries no note")
    return Resolve(action=args.action, resolved_by=args.resolved_by, note=args.note)


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    return await run_update(
        argv,
        client,
        prog="python -m starters.resolve_order",
        description=__doc__,
        update=UPDATE_RESOLVE,
        configure=_configure,
        build_request=_request,
    )


if __name__ == "__main__":
    cli.run(main)
