"""`python -m starters.chaos [--orders N] [--styles STYLE ...] [--seed S] [--kill-every SECONDS]
[--restart-server] [--fault-rate F] [--concurrency N] [--settle-timeout SECONDS] [--json]`:
a chaos run anyone can start.

It starts a dev server of its own on a history file in a temporary data dir, runs each
service's worker as its own process, and places N orders across the styles and scenarios, drawn
from the seed. Meanwhile it SIGKILLs a random worker every few seconds and starts a new one;
with --restart-server it kills the dev server once, mid-run, and starts it again on the same
file; it injects gateway time-outs into a share of the orders, cancels workflows before and
after the pivot, sends people's requests at random moments (some two at once: approve and
reject, cancel twice) and re-delivers published events. Then it waits, bounded, for every order
to settle (ended, or parked waiting for a person), runs the audit and prints a table per style
and the invariants: lost, stuck, double charge, leaked reservation, effects mismatch, unexpected
outcome, conflicting decisions.

Exit 0 when every invariant holds, 1 when one does not (the data dir is then kept, and named),
2 on bad input, 130 when interrupted. Every process it started is stopped on the way out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from rich.console import Console

from chaos.progress import reporter
from chaos.report import print_report
from chaos.run import chaos
from chaos.settings import parse_settings
from chaos.tasks import cancelled
from client.output import print_json
from infra import cli

PROG = "python -m starters.chaos"


async def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv, PROG, __doc__)
    stop = cli.interruption()  # Ctrl-C or SIGTERM: stop every process started, exit 130
    out = reporter(settings.orders)
    run = asyncio.create_task(chaos(settings, out))
    interrupted = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({run, interrupted}, return_when=asyncio.FIRST_COMPLETED)
        if not run.done():
            await cancelled(run)
            raise KeyboardInterrupt  # `cli.run` says so on one line and exits 130
    finally:
        out.close()
        interrupted.cancel()
    report = run.result()
    if settings.json:
        print_json(report.as_json())
    else:
        print_report(report, Console(width=max(Console().width, 120)))
    return cli.EXIT_OK if report.ok else cli.EXIT_REFUSED


if __name__ == "__main__":
    cli.run(main)
