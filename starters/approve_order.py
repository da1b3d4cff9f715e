"""`python -m starters.approve_order ORDER_ID [--approver NAME] [--comment TEXT] [--json]`:
approve an order that is awaiting approval."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Sequence

from temporalio.client import Client

from client.requests import run_update
from domain.commands import UPDATE_APPROVE, Approve
from infra import cli


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--approver", default=getpass.getuser(), help="who approves (you)")
    parser.add_argument("--comment", help="why, for the timeline")


def _request(args: argparse.Namespace) -> Approve:
    return Approve(approver=args.approver, comment=args.comment)


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    return await run_update(
        argv,
        client,
        prog="python -m starters.approve_order",
        description=__doc__,
        update=UPDATE_APPROVE,
        configure=_configure,
        build_request=_request,
    )


if __name__ == "__main__":
    cli.run(main)
