"""What the demo shows of its scenario runs: a row per order with its Web UI link, and the styles
side by side with whether they left the same effects in the stores."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from client.scenario_runs import ScenarioRun
from domain.scenarios import SCENARIOS
from domain.services import Style
from infra.data_dir import data_dir
from infra.ui import workflow_url
from stores.effects import effects_of


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
