"""The shape every command about one existing order shares: `ORDER_ID [options] [--json]`,
an update sent to the order, and its new state printed."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from client.input_files import describe_validation_error, order_id_argument
from client.orders import send_update
from client.output import describe_view, print_json
from infra import cli
from infra.client import connect

Configure = Callable[[argparse.ArgumentParser], None]
BuildRequest = Callable[[argparse.Namespace], BaseModel]


def order_parser(prog: str, description: str | None) -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog=prog, description=description)
    parser.add_argument("order_id", metavar="ORDER_ID", type=order_id_argument)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _options(parser: argparse.ArgumentParser) -> dict[str, str]:
    """`argument --by` for the request's `requested_by`: an option's `dest` is the request field
    it sets, so a refused value is told by the option the person typed."""
    return {
        action.dest: f"argument {action.option_strings[-1]}"
        for action in parser._actions  # argparse lists its options nowhere public
        if action.option_strings
    }


async def run_update(
    argv: Sequence[str] | None,
    client: Client | None,
    *,
    prog: str,
    description: str | None,
    update: str,
    configure: Configure,
    build_request: BuildRequest,
) -> int:
    parser = order_parser(prog, description)
    configure(parser)
    args = parser.parse_args(argv)
    try:
        request = build_request(args)
    except ValidationError as error:
        raise cli.BadInputError(describe_validation_error(error, _options(parser))) from error
    client = client or await connect()
    view = await send_update(client, args.order_id, update, request)
    if args.json:
        print_json(view.model_dump(mode="json"))
    else:
        print(describe_view(view))
    return cli.EXIT_OK
