"""`python -m starters.reject_order ORDER_ID [--approver NAME] [--reason TEXT] [--json]`:
reject an order that is awaiting approval; it is cancelled and compensated."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Sequence

from temporalio.client import Client

from client.requests import run_update
from domain.commands import UPDATE_REJECT, Reject
from infra import cli


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--approver", default=getpass.getuser(), help="who rejects (you)")
    parser.add_argument("--reason", default="rejected by hand", help="why, for the customer")


def _request(args: argparse.Namespace) -> Reject:
    return Reject(approver=args.approver, reason=args.reason)


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    return await run_update(
        argv,
        client,
        prog="python -m starters.reject_order",
        description=__doc__,
        update=UPDATE_REJECT,
        configure=_configure,
        build_request=_request,
    )


if __name__ == "__main__":
    cli.run(main)
