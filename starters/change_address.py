"""`python -m starters.change_address ORDER_ID --address-file PATH [--json]`: ship to another
address. Refused once dispatch has begun."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from temporalio.client import Client

from client.input_files import read_address
from client.requests import run_update
from domain.commands import UPDATE_CHANGE_ADDRESS, ChangeAddress
from infra import cli


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address-file", type=Path, required=True, help="the new address as JSON")


def _request(args: argparse.Namespace) -> ChangeAddress:
    return ChangeAddress(address=read_address(args.address_file))


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    return await run_update(
        argv,
        client,
        prog="python -m starters.change_address",
        description=__doc__,
        update=UPDATE_CHANGE_ADDRESS,
        configure=_configure,
        build_request=_request,
    )


if __name__ == "__main__":
    cli.run(main)
