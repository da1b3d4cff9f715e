"""`python -m starters.demo [--exit] [--scenario NAME ...]`: the main job.

Starts the Temporal dev server unless one answers at TEMPORAL_ADDRESS, starts the workers of
every service, runs every scenario, prints a table of outcomes with a link to each order in the
Web UI, runs the audit, and keeps the server, the UI and the workers up for inspection until
Ctrl-C (`--exit`: stop when done)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence

from rich.console import Console
from rich.table import Table
from temporalio.client import Client

from domain.scenarios import SCENARIOS, SCENARIOS_BY_NAME
from domain.services import Service, Style
from domain.status import OrderStatus
from infra import cli
from infra.client import connect, connect_config
from infra.codec import codec_from_environment
from infra.codec_http import CODEC_PORT, serving_in_background
from infra.data_dir import data_dir
from infra.dev_server import (
    DEFAULT_UI_PORT,
    DevServerError,
    PortInUseError,
    port_is_free,
    start_dev_server,
)
from infra.metrics import DEMO_METRICS_PORT
from infra.search_attributes import ensure_search_attributes
from infra.ui import list_url, ui_base, workflow_url
from starters.audit import describe as describe_audit
from starters.audit import run_audit
from starters.dev_server import default_db_file
from starters.order_client import PLACEABLE_STYLES
from starters.scenario_runs import ScenarioRun, run_scenarios
from stores.effects import effects_of
from workers.pool import running_workers


@contextlib.asynccontextmanager
async def temporal_server(console: Console) -> AsyncIterator[Client]:
    """A client of the server at TEMPORAL_ADDRESS, starting a dev server there if none answers."""
    target = str(connect_config()["target_host"])
    host, _, port_text = target.rpartition(":")
    local = host in ("localhost", "127.0.0.1", "")
    if local and port_text.isdigit() and not 1 <= int(port_text) <= 65535:
        raise cli.BadInputError(f"TEMPORAL_ADDRESS {target}: the port must be 1 to 65535")
    if local and port_text.isdigit() and port_is_free(int(port_text)):
        ui_port = DEFAULT_UI_PORT if port_is_free(DEFAULT_UI_PORT) else None
        db_file = default_db_file()
        with _codec_server_for(ui_port, console) as codec_endpoint:
            try:
                server = await start_dev_server(
                    port=int(port_text),
                    ui_port=ui_port,
                    db_file=db_file,
                    ui=ui_port is not None,
                    ui_codec_endpoint=codec_endpoint,
                )
            except (DevServerError, PortInUseError) as error:  # PortInUse: taken since we looked
                raise cli.RefusedError(str(error)) from error
            if ui_port is None:
                console.print(f"port {DEFAULT_UI_PORT} is taken: the Web UI is off this time")
            console.print(f"started a Temporal dev server on {target} (history in {db_file})")
            try:
                yield await connect()
            finally:
                await server.shutdown()
    else:
        client = await connect()
        console.print(f"using the Temporal server at {target}")
        added = await ensure_search_attributes(client)
        if added:
            console.print(f"registered the search attributes {', '.join(added)}")
        yield client


@contextlib.contextmanager
def _codec_server_for(ui_port: int | None, console: Console) -> Iterator[str | None]:
    """With `ORDERS_PAYLOAD_KEY` set, the histories are encrypted: a codec server (in this
    process, on the usual port when it is free) lets the demo's Web UI show them in clear."""
    codec = codec_from_environment()
    if codec is None or ui_port is None:
        yield None
        return
    port = CODEC_PORT if port_is_free(CODEC_PORT) else 0
    with serving_in_background(codec, port, [f"http://localhost:{ui_port}"]) as url:
        console.print(f"codec server at {url} for the Web UI (key {codec.key_id.decode()})")
        yield url


def outcome_table(runs: Sequence[ScenarioRun], namespace: str) -> Table:
    table = Table(title="Demo orders", show_lines=False)
    for column in ("order", "scenario", "style", "outcome", "reason", "seconds", "Web UI"):
        table.add_column(column, no_wrap=True, overflow="ignore")
    for run in sorted(runs, key=lambda run: SCENARIOS.index(run.scenario)):
        mark = "[green]✓[/]" if run.as_expected else "[red]✗ unexpected[/]"
        table.add_row(
            run.placed.order_id,
            run.scenario.name,
            run.placed.style.value,
            f"{run.outcome.status} {mark}",
            run.outcome.reason.value if run.outcome.reason else "",
            f"{run.seconds:.1f}",
            workflow_url(run.placed.workflow_id, namespace),
        )
    return table


def side_by_side(runs: Sequence[ScenarioRun], styles: Sequence[Style]) -> Table:
    """One row per scenario, the styles next to each other, and whether they left the same
    effects in the stores (the parity the comparison rests on)."""
    table = Table(title="Side by side")
    table.add_column("scenario", no_wrap=True)
    table.add_column("expected", no_wrap=True)
    for style in styles:
        table.add_column(style.value, no_wrap=True)
    table.add_column("same effects", no_wrap=True)
    by_case = {(run.scenario.name, run.placed.style): run for run in runs}
    for scenario in dict.fromkeys(run.scenario for run in runs):
        row = [by_case[(scenario.name, style)] for style in styles]
        expected = scenario.expected_status.value + (
            f" ({scenario.expected_reason})" if scenario.expected_reason else ""
        )
        effects = {effects_of(data_dir(), run.placed.order_id) for run in row}
        outcomes = {(run.outcome.status, run.outcome.reason) for run in row}
        same = len(effects) == 1 and len(outcomes) == 1
        table.add_row(
            scenario.name,
            expected,
            *(
                f"{run.outcome.status} {'✓' if run.as_expected else '✗'} {run.seconds:.1f} s"
                for run in row
            ),
            "[green]yes[/]" if same else "[red]no[/]",
        )
    return table


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
        temporal_server(console) as client,
        workers_here(client, not args.no_workers, console, metrics=True),
    ):
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


@contextlib.asynccontextmanager
async def workers_here(
    client: Client, start: bool, console: Console, *, metrics: bool = False
) -> AsyncIterator[None]:
    """The workers of every service, in this process; or none (`--no-workers`). With `metrics`,
    their `/metrics` endpoint too, on the demo's port when it is free."""
    if not start:
        console.print("using the workers already running")
        yield
        return
    port = DEMO_METRICS_PORT if metrics and port_is_free(DEMO_METRICS_PORT) else None
    async with running_workers(client, list(Service), data_dir(), metrics_port=port):
        note = f"workers of {', '.join(s.value for s in Service)} running here"
        if metrics:
            note += (
                f"; metrics at http://localhost:{port}/metrics"
                if port
                else f"; port {DEMO_METRICS_PORT} is taken: no metrics endpoint this time"
            )
        console.print(note)
        yield


if __name__ == "__main__":
    cli.run(main)
