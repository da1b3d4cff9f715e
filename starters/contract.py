"""`python -m starters.contract {check,diagram,table,diff,snapshot}`: the choreography's event
contract. No Temporal server is needed: the contract is data.

check: one line per problem in the contract and exit 1, or one line saying it is sound.
diagram: the contract as a Mermaid flowchart. table: the contract as a plain-text table.
diff [--against REF]: each change since the committed snapshot (or the one committed at git REF),
compatible or breaking for the events in flight; exit 1 if one is breaking.
snapshot: write the contract's snapshot (domain/events/contract_snapshot.json), for a release."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from domain.events import snapshot
from domain.events.checks import check_contract
from domain.events.contract import ORDER_CONTRACT, Contract
from domain.events.diagram import mermaid
from domain.events.table import table
from infra import cli
from insight.contract_gate import contract_gate


async def main(
    argv: Sequence[str] | None = None,
    *,
    contract: Contract | None = None,
    root: Path = snapshot.PROJECT_ROOT,
) -> int:
    """`contract` lets a test check a contract changed on purpose instead of the real one, and
    `root` a project elsewhere (its snapshot, its git history)."""
    args = _parser().parse_args(argv)
    contract = contract or ORDER_CONTRACT
    if args.command == "check":
        return check(contract)
    if args.command == "diff":
        return diff(contract, args.against, root)
    if args.command == "snapshot":
        (root / snapshot.SNAPSHOT_FILE).write_text(snapshot.render(snapshot.snapshot_of(contract)))
        print(f"wrote {snapshot.SNAPSHOT_FILE}: {len(contract.events)} event types")
        return cli.EXIT_OK
    print(mermaid(contract) if args.command == "diagram" else table(contract), end="")
    return cli.EXIT_OK


def _parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog="python -m starters.contract", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("check", help="check the contract; exit 1 if it has problems")
    commands.add_parser("diagram", help="print the contract as a Mermaid flowchart")
    commands.add_parser("table", help="print the contract as a plain-text table")
    compare = commands.add_parser("diff", help="compare with a snapshot; exit 1 if breaking")
    compare.add_argument("--against", metavar="REF", help="the snapshot committed at a git ref")
    commands.add_parser("snapshot", help=f"write {snapshot.SNAPSHOT_FILE}")
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


def diff(contract: Contract, against: str | None, root: Path) -> int:
    result = contract_gate(contract, against, root)
    for change in result.changes:
        print(change)
    print(result.summary())
    return cli.EXIT_REFUSED if result.breaking else cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
