"""`python -m starters.contract {check,diagram,table}`: the choreography's event contract.

check: one line per problem in the contract and exit 1, or one line saying it is sound and exit 0.
diagram: the contract as a Mermaid flowchart. table: the contract as a plain-text table.
No Temporal server is needed: the contract is data."""

from __future__ import annotations

from collections.abc import Sequence

from domain.events.checks import check_contract
from domain.events.contract import ORDER_CONTRACT, Contract, EventSpec
from domain.events.diagram import mermaid
from infra import cli

TABLE_HEADER = ("EVENT", "PRODUCER", "FLAGS", "CONSUMER", "PUBLISHES")
"""Flags before the reactions, so the long PUBLISHES column comes last."""


async def main(argv: Sequence[str] | None = None, *, contract: Contract | None = None) -> int:
    """`contract` lets a test check a contract broken on purpose instead of the real one."""
    args = _parser().parse_args(argv)
    contract = contract or ORDER_CONTRACT
    if args.command == "check":
        return check(contract)
    print(mermaid(contract) if args.command == "diagram" else table(contract), end="")
    return cli.EXIT_OK


def _parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog="python -m starters.contract", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("check", help="check the contract; exit 1 if it has problems")
    commands.add_parser("diagram", help="print the contract as a Mermaid flowchart")
    commands.add_parser("table", help="print the contract as a plain-text table")
    return parser


def check(contract: Contract) -> int:
    problems = check_contract(contract)
    for problem in problems:
        print(problem)
    if problems:
        return cli.EXIT_REFUSED
    reactions = sum(len(spec.reactions) for spec in contract.events)
    print(f"contract ok: {len(contract.events)} event types, {reactions} reactions")
    return cli.EXIT_OK


def table(contract: Contract) -> str:
    """One row per reaction; an event's name, producer and flags only on its first row."""
    rows = [TABLE_HEADER]
    for spec in contract.events:
        head = (spec.type.value, spec.producer.value, _flags(spec))
        reactions = [(r.consumer.value, ", ".join(r.publishes) or "-") for r in spec.reactions]
        for index, (consumer, publishes) in enumerate(reactions or [("-", "-")]):
            rows.append((*(head if index == 0 else ("", "", "")), consumer, publishes))
    widths = [max(len(row[column]) for row in rows) for column in range(len(TABLE_HEADER))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in rows
    )


def _flags(spec: EventSpec) -> str:
    flags = [
        *(["terminal"] if spec.terminal else []),
        *(["compensable"] if spec.compensable else []),
        *([f"compensates {spec.compensates}"] if spec.compensates else []),
    ]
    return ", ".join(flags)


if __name__ == "__main__":
    cli.run(main)
