"""`python -m starters.cancel_order ORDER_ID [--by NAME] [--reason TEXT] [--json]`: cancel an
order before dispatch; what was done is compensated. Refused once dispatch has begun."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from temporalio.client import Client

from client.requests import run_update
from domain.commands import UPDATE_CANCEL, Cancel
from infra import cli


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by",
        dest="requested_by",
        metavar="NAME",
        default="customer",
        help="who asks (default: customer)",
    )
    parser.add_argument("--reason", help="why, for the timeline")


def _request(args: argparse.Namespace) -> Cancel:
    return Cancel(requested_by=args.requested_by, reason=args.reason)


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    return await run_update(
        argv,
        client,
        prog="python -m starters.cancel_order",
        description=__doc__,
        update=UPDATE_CANCEL,
        configure=_configure,
        build_request=_request,
    )


if __name__ == "__main__":
    cli.run(main)
