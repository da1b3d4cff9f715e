"""`python -m starters.demo [--exit] [--scenario NAME ...]`: the main job.

Starts the Temporal dev server unless one answers at TEMPORAL_ADDRESS, starts the workers of
every service, runs every scenario, prints a table of outcomes with a link to each order in the
Web UI, runs the audit, and keeps the server, the UI and the workers up for inspection until
Ctrl-C (`--exit`: stop when done)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from client.local_run import temporal_server, workers_here
from client.orders import PLACEABLE_STYLES
from client.scenario_runs import run_scenarios
from client.scenario_tables import outcome_table, side_by_side
from domain.scenarios import SCENARIOS, SCENARIOS_BY_NAME
from domain.status import OrderStatus
from infra import cli
from infra.ui import list_url, ui_base
from insight.audit import describe as describe_audit
from insight.audit import run_audit


async def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m starters.demo", description=__doc__)
    parser.add_argument("--exit", action="store_true", help="stop when done")
    parser.add_argument(
        "--no-workers",
        action="store_true",
        help="do not start workers here: use those already running (e.g. docker compose)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS_BY_NAME),
        help="run only this scenario (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    scenarios = [SCENARIOS_BY_NAME[name] for name in args.scenario] if args.scenario else SCENARIOS
    console = Console(width=max(Console().width, 200))

    async with (
        temporal_server(console) as server,
        workers_here(
            server.client,
            not args.no_workers,
            console,
            metrics=True,
            owns_server=server.embedded,
        ),
    ):
        client = server.client
        styles = len(PLACEABLE_STYLES)
        console.print(f"running {len(scenarios)} scenario(s) in {styles} style(s)...")
        runs = await run_scenarios(
            client,
            scenarios,
            PLACEABLE_STYLES,
            on_done=lambda run: console.print(
                f"  {run.scenario.name} ({run.placed.style.value}): {run.outcome.status}"
                + (f" ({run.outcome.reason.value})" if run.outcome.reason else "")
                + f" in {run.seconds:.1f} s"
            ),
        )
        console.print(outcome_table(runs, client.namespace))
        console.print(side_by_side(runs, PLACEABLE_STYLES))
        report, waiting = await run_audit(client)
        console.print(describe_audit(report, waiting))
        console.print(
            f"Web UI: {ui_base()}   cancelled orders: "
            f"{list_url(f'OrderStatus = {OrderStatus.CANCELLED.value!r}', client.namespace)}"
        )
        ok = all(run.as_expected for run in runs) and report.clean
        if not args.exit:
            stop = cli.interruption()  # before the line: whoever reads it may press Ctrl-C at once
            console.print("server, UI and workers stay up for inspection; Ctrl-C stops them")
            await stop.wait()
    return cli.EXIT_OK if ok else cli.EXIT_REFUSED


if __name__ == "__main__":
    cli.run(main)
