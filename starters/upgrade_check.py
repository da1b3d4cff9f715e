"""`python -m starters.upgrade_check [--against REF] [--from-server]`: what a release must pass
before it is deployed over orders in flight. `make upgrade-check` runs it.

1. The contract gate (`starters.contract diff`): no breaking change to the event contract since
   the release's snapshot (or the one committed at git REF).
2. Every history recorded in tests/replay/histories replays on this code.
3. With --from-server: the project's workflows started on the server in the last
   --within-days (7), the --limit (500) most recent, replay too. The server is the one the
   connection settings name (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, a profile).

Exit 0 when all of it holds; 1 with what failed, a line each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.events.compatibility import Verdict
from domain.events.contract import ORDER_CONTRACT, Contract
from domain.events.snapshot import PROJECT_ROOT
from infra import cli
from infra.client import connect
from insight.contract_gate import contract_gate
from insight.replay_check import recorded_histories, replay_from_server, replay_recorded


async def main(
    argv: Sequence[str] | None = None,
    *,
    client: Client | None = None,
    contract: Contract = ORDER_CONTRACT,
    root: Path = PROJECT_ROOT,
) -> int:
    """`client`, `contract` and `root` let a test point it at its own server and project."""
    args = _parser().parse_args(argv)
    gate = contract_gate(contract, args.against, root)
    for change in gate.changes:
        if change.verdict is Verdict.BREAKING:
            print(f"  {change}")
    print(f"{'FAIL' if gate.breaking else 'ok'}  contract {gate.summary()}")
    recorded = recorded_histories(root)
    results = [await replay_recorded(recorded, pydantic_data_converter)]
    if args.from_server:
        client = client or await connect()
        within = timedelta(days=args.within_days)
        results.append(await replay_from_server(client, within, args.limit))
    for result in results:
        for what, why in result.failures.items():
            print(f"  {what}: {why}")
        print(f"{'FAIL' if result.failures else 'ok'}  replay {result.summary()}")
    failed = bool(gate.breaking) or any(result.failures for result in results)
    return cli.EXIT_REFUSED if failed else cli.EXIT_OK


def _parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog="python -m starters.upgrade_check", description=__doc__)
    parser.add_argument("--against", metavar="REF", help="the contract snapshot at a git ref")
    parser.add_argument(
        "--from-server", action="store_true", help="replay the server's recent workflows too"
    )
    parser.add_argument("--within-days", type=cli.whole_number(1, 3650), default=7)
    parser.add_argument("--limit", type=cli.whole_number(1, 100_000), default=500)
    return parser


if __name__ == "__main__":
    cli.run(main)
