"""The styles side by side: the same scenario's order N times in each style, all at once on one
server, and per style the outcomes, the latency, and what the histories show (workflows, events,
activities, signals, timers, bytes, billable actions by `insight.billing`'s rules). The engine
of `python -m starters.compare`, which prints these tables or this JSON."""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn
from rich.table import Table
from temporalio.client import Client, WorkflowExecutionStatus

from client.orders import PLACEABLE_STYLES
from client.scenario_runs import ScenarioRun, run_scenario
from domain.scenarios import Scenario
from domain.services import Style
from insight.billing import NOT_IN_HISTORY, actions_of
from insight.history_stats import HistoryStats, total_stats
from insight.order_histories import OrderWorkflowHistory, history_of, workflows_of

MAX_ORDERS = 100


SETTLE_SECONDS = 30.0
"""How long to wait, after an order's outcome, for every workflow of the order to close (a
choreography's participants may finish their last step after the order view has answered)."""


POLL_SECONDS = 0.5


PER_ORDER_FIELDS = ("workflows", "events", "activities", "signals", "timers", "history_bytes")


_TEXT = frozenset({"style", "outcome"})


@dataclass(frozen=True)
class OrderResult:
    """One order: how it ended, how long it took, and what its workflows' histories show."""

    order_id: str
    status: str
    reason: str | None
    as_expected: bool
    seconds: float
    stats: HistoryStats
    actions: Counter[str]
    settled: bool
    """Every workflow of the order had closed when its histories were read."""


@dataclass(frozen=True)
class StyleResult:
    style: Style
    orders: list[OrderResult]

    def percentile(self, fraction: float) -> float:
        """Nearest rank: an actual order's latency, and p50 <= p95 whatever N."""
        ranked = sorted(order.seconds for order in self.orders)
        return ranked[max(math.ceil(fraction * len(ranked)) - 1, 0)]

    def per_order(self, name: str) -> float:
        return statistics.fmean(getattr(order.stats, name) for order in self.orders)

    def actions_per_order(self) -> float:
        return statistics.fmean(order.actions.total() for order in self.orders)

    def actions_by_category(self) -> dict[str, float]:
        total: Counter[str] = Counter()
        for order in self.orders:
            total.update(order.actions)
        return {name: count / len(self.orders) for name, count in sorted(total.items())}

    def outcomes(self) -> Counter[str]:
        return Counter(
            order.status + (f" ({order.reason})" if order.reason else "") for order in self.orders
        )

    @property
    def as_expected(self) -> bool:
        return all(order.as_expected for order in self.orders)


async def compare(
    client: Client, scenario: Scenario, orders: int, status: Console
) -> list[StyleResult]:
    """Every order of every style at once: a scenario's order waits on seconds-long timeouts,
    so running them one after the other would mostly measure waiting."""
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=status) as progress:
        tasks = {
            style: progress.add_task(f"{style.value:<13}", total=orders)
            for style in PLACEABLE_STYLES
        }

        async def style_result(style: Style) -> StyleResult:
            runs = [
                _measured(client, scenario, style, progress, tasks[style]) for _ in range(orders)
            ]
            return StyleResult(style, list(await asyncio.gather(*runs)))

        return list(await asyncio.gather(*(style_result(s) for s in PLACEABLE_STYLES)))


async def _measured(
    client: Client, scenario: Scenario, style: Style, progress: Progress, task: TaskID
) -> OrderResult:
    run = await run_scenario(client, scenario, style)  # a fresh order id every time
    histories, settled = await settled_histories(client, run.placed.order_id)
    progress.advance(task)
    return order_result(run, histories, settled)


def order_result(
    run: ScenarioRun, histories: Sequence[OrderWorkflowHistory], settled: bool
) -> OrderResult:
    workflow_histories = [entry.history for entry in histories]
    return OrderResult(
        order_id=run.placed.order_id,
        status=run.outcome.status,
        reason=run.outcome.reason.value if run.outcome.reason else None,
        as_expected=run.as_expected,
        seconds=run.seconds,
        stats=total_stats(workflow_histories),
        actions=actions_of(workflow_histories),
        settled=settled,
    )


async def settled_histories(
    client: Client, order_id: str, patience: float = SETTLE_SECONDS
) -> tuple[list[OrderWorkflowHistory], bool]:
    """The order's histories once every workflow has closed and two listings agree (the list is
    eventually consistent: a workflow started last may show up a moment late). After `patience`
    whatever is there, and False. Only the listing is polled; the histories are read once."""
    deadline = time.monotonic() + patience
    previous: list[tuple[str, str, WorkflowExecutionStatus | None]] | None = None
    while True:
        executions = await workflows_of(client, order_id)
        seen = [(execution.id, execution.run_id, execution.status) for execution in executions]
        closed = all(execution.close_time is not None for execution in executions)
        settled = closed and seen == previous
        if settled or time.monotonic() > deadline:
            return [await history_of(client, execution) for execution in executions], settled
        previous = seen
        await asyncio.sleep(POLL_SECONDS)


def as_json(scenario: Scenario, orders: int, results: Sequence[StyleResult]) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "orders_per_style": orders,
        "styles": [_style_json(result) for result in results],
        "actions_not_in_history": list(NOT_IN_HISTORY),
    }


def _style_json(result: StyleResult) -> dict[str, Any]:
    return {
        "style": result.style.value,
        "outcomes": dict(result.outcomes()),
        "as_expected": result.as_expected,
        "latency_seconds": {"p50": result.percentile(0.5), "p95": result.percentile(0.95)},
        "per_order": {
            **{name: result.per_order(name) for name in PER_ORDER_FIELDS},
            "actions": result.actions_per_order(),
        },
        "actions_per_order_by_rule": result.actions_by_category(),
        "orders": [_order_json(order) for order in result.orders],
    }


def _order_json(order: OrderResult) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "status": order.status,
        "reason": order.reason,
        "as_expected": order.as_expected,
        "seconds": order.seconds,
        **asdict(order.stats),
        "actions": order.actions.total(),
        "actions_by_rule": dict(order.actions),
        "settled": order.settled,
    }


def print_tables(scenario: Scenario, orders: int, results: Sequence[StyleResult]) -> None:
    console = Console(width=max(Console().width, 160))
    console.print(comparison_table(scenario, orders, results))
    console.print(actions_table(results))
    for line in footnotes(results):
        console.print(line, highlight=False)


def comparison_table(scenario: Scenario, orders: int, results: Sequence[StyleResult]) -> Table:
    table = Table(title=f"{scenario.name}: {orders} order(s) per style; counts are per order")
    for column in ("style", "outcome", "p50 s", "p95 s", *PER_ORDER_FIELDS, "actions*"):
        table.add_column(column, no_wrap=True, justify="left" if column in _TEXT else "right")
    for result in results:
        table.add_row(
            result.style.value,
            _outcome_text(result),
            f"{result.percentile(0.5):.1f}",
            f"{result.percentile(0.95):.1f}",
            *(_number(result.per_order(name)) for name in PER_ORDER_FIELDS),
            _number(result.actions_per_order()),
        )
    return table


def actions_table(results: Sequence[StyleResult]) -> Table:
    """Where each style's actions come from: the reason behind the totals."""
    table = Table(title="billable actions per order, by rule")
    table.add_column("rule", no_wrap=True)
    by_style = {result.style: result.actions_by_category() for result in results}
    categories = sorted({name for counts in by_style.values() for name in counts})
    for result in results:
        table.add_column(result.style.value, justify="right")
    for name in categories:
        table.add_row(name, *(_number(by_style[r.style].get(name, 0.0)) for r in results))
    return table


def footnotes(results: Sequence[StyleResult]) -> list[str]:
    notes = [
        "* Temporal Cloud billable actions estimated from the histories by the published rules "
        "(insight/billing.py). Billed but not in a history, so not counted: "
        + "; ".join(NOT_IN_HISTORY)
        + "."
    ]
    unsettled = [o.order_id for r in results for o in r.orders if not o.settled]
    if unsettled:
        notes.append(
            f"! still running after {SETTLE_SECONDS:.0f} s, counted as far as they got: "
            + ", ".join(unsettled)
        )
    return notes


def _outcome_text(result: StyleResult) -> str:
    mark = "[green]✓[/]" if result.as_expected else "[red]✗[/]"
    text = ", ".join(f"{count} {outcome}" for outcome, count in result.outcomes().items())
    return f"{text} {mark}"


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
