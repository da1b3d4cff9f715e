"""`python -m starters.audit [--json]`: check the invariants across every service store, and ask
Temporal about each order that has not ended. Exit 0 when all hold, 1 with each violation listed.

The invariants: no stock below zero or leaked reservation; payments net to the order total for a
completed order and to zero for a cancelled one; no effect twice for one idempotency key; every
order placed has ended or has a running workflow (legitimately waiting). An order that parked a
compensation waits for a person (listed, no violation); a hold left by a compensation a person
undid by hand is listed as resolved by hand, with who and how, not as a leak."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client

from client.output import print_json
from infra import cli
from insight.audit import describe, run_audit


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m starters.audit", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    report, waiting = await run_audit(client)
    if args.json:
        print_json(
            {
                **report.model_dump(mode="json"),
                "clean": report.clean,
                "waiting": [order.model_dump(mode="json") for order in waiting],
            }
        )
    else:
        print(describe(report, waiting))
    return cli.EXIT_OK if report.clean else cli.EXIT_REFUSED


if __name__ == "__main__":
    cli.run(main)
