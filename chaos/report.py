"""What a chaos run prints: for people, a table per style and the invariants, what the run did
to the system, and each breach; for tools (`--json`), one JSON document with the same."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from chaos.figures import NO_REASON, StyleFigures, total_of
from chaos.plan import OrderPlan
from chaos.tally import Tally
from chaos.verdict import Breach, Invariant
from domain.services import Style
from domain.status import CancelReason

BREACHES_SHOWN = 30
"""Breaches listed in the text report; `--json` has them all."""


@dataclass(frozen=True)
class RunReport:
    seed: int
    orders: int
    styles: Sequence[Style]
    seconds: float
    server: str
    data_dir: Path
    kept: bool
    """Whether the data dir (stores, history, logs) was kept for inspection."""
    by_style: dict[Style, StyleFigures]
    breaches: Sequence[Breach]
    tally: Tally
    plans: dict[str, OrderPlan]
    crashes: Sequence[str] = ()
    """Processes that exited without being told to (started again)."""
    store_conflicts: Counter[str] = field(default_factory=Counter)
    """Store writes run again after a concurrent worker's conflicting one, by operation."""

    @property
    def ok(self) -> bool:
        return not self.breaches

    def counts(self) -> dict[Invariant, int]:
        return {
            invariant: sum(breach.invariant is invariant for breach in self.breaches)
            for invariant in Invariant
        }

    def as_json(self) -> dict[str, object]:
        faults = sum(plan.injected_timeouts > 0 for plan in self.plans.values())
        return {
            "ok": self.ok,
            "seed": self.seed,
            "orders": self.orders,
            "styles": [style.value for style in self.styles],
            "seconds": round(self.seconds, 1),
            "server": self.server,
            "data_dir": str(self.data_dir),
            "data_kept": self.kept,
            "per_style": {style.value: f.as_json() for style, f in self.by_style.items()},
            "total": total_of(self.by_style).as_json(),
            "invariants": {invariant.value: n for invariant, n in self.counts().items()},
            "breaches": [self._breach_json(breach) for breach in self.breaches],
            "chaos": {
                **self.tally.as_json(),
                "orders_with_faults": faults,
                "process_crashes": list(self.crashes),
                "store_conflicts_retried": dict(sorted(self.store_conflicts.items())),
            },
        }

    def _breach_json(self, breach: Breach) -> dict[str, object]:
        plan = self.plans.get(breach.order_id or "")
        return {
            "invariant": breach.invariant.value,
            "order_id": breach.order_id,
            "style": plan.style.value if plan else None,
            "scenario": plan.scenario.name if plan else None,
            "disturbance": plan.disturbance.value if plan else None,
            "detail": breach.detail,
        }


def print_report(report: RunReport, console: Console) -> None:
    console.print(figures_table(report))
    console.print(invariants_table(report))
    for line in [*what_it_did(report), *breach_lines(report), closing_line(report)]:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def figures_table(report: RunReport) -> Table:
    columns = {**{style.value: f for style, f in report.by_style.items()}}
    columns["all"] = total_of(report.by_style)
    table = Table(title=f"Chaos run: {report.orders} orders, seed {report.seed}")
    table.add_column("", no_wrap=True)
    for name in columns:
        table.add_column(name, justify="right", no_wrap=True)
    reasons = [r.value for r in CancelReason if any(f.cancelled[r.value] for f in columns.values())]
    if any(f.cancelled[NO_REASON] for f in columns.values()):
        reasons.append(NO_REASON)
    rows: list[tuple[str, list[str]]] = [
        ("placed", [str(f.placed) for f in columns.values()]),
        ("completed", [str(f.completed) for f in columns.values()]),
        *(
            (f"cancelled ({reason})", [str(f.cancelled[reason]) for f in columns.values()])
            for reason in reasons
        ),
        ("parked (needs attention)", [str(f.parked) for f in columns.values()]),
        ("no outcome (lost)", [str(f.unsettled) for f in columns.values()]),
        ("latency p50 (s)", [_seconds(f.p50) for f in columns.values()]),
        ("latency p95 (s)", [_seconds(f.p95) for f in columns.values()]),
    ]
    for label, cells in rows:
        table.add_row(label, *cells)
    return table


def invariants_table(report: RunReport) -> Table:
    table = Table(title="Invariants")
    for column in ("invariant", "what must hold", "breaches", ""):
        table.add_column(column, no_wrap=True)
    for invariant, count in report.counts().items():
        mark = "[green]✓[/]" if count == 0 else "[red]✗[/]"
        table.add_row(invariant.value.replace("_", " "), invariant.meaning, str(count), mark)
    return table


def what_it_did(report: RunReport) -> list[str]:
    tally = report.tally
    kills = ", ".join(service.value for service in tally.worker_kills) or "none"
    faults = sum(plan.injected_timeouts > 0 for plan in report.plans.values())
    cancels = tally.cancels
    requests = tally.requests
    acted = ", ".join(f"{n} {kind}" for kind, n in sorted(tally.acted.items())) or "none"
    overtaken = sum(tally.overtaken.values())
    lines = [
        f"what the run did, in {report.seconds:.0f} s:",
        f"  disturbances: {acted}; {overtaken} overtaken by the order's end",
        f"  worker kills (SIGKILL): {len(tally.worker_kills)} ({kills}); "
        f"dev server restarts: {tally.server_restarts}",
        f"  orders with injected gateway time-outs: {faults}",
        f"  workflow cancels: {cancels['before_pivot']} before the pivot, "
        f"{cancels['after_pivot']} after ({cancels['of_another_workflow']} of another of the "
        f"order's workflows); {cancels['too_late']} found the order ended",
        f"  people's requests: {requests['accepted']} accepted, {requests['refused']} refused"
        + (f", {requests['unanswered']} unanswered" if requests["unanswered"] else "")
        + (f", {requests['failed']} failed" if requests["failed"] else ""),
        f"  events re-delivered: {tally.redelivered} (to {tally.redelivered_to} workflow(s); "
        f"{tally.redelivery_refused_late} refused as late)",
    ]
    conflicts = report.store_conflicts
    lines.append(
        f"  store writes run again after a concurrent worker's conflicting one: "
        f"{conflicts.total()}"
        + (
            " (" + ", ".join(f"{op} {n}" for op, n in sorted(conflicts.items())) + ")"
            if conflicts
            else ""
        )
    )
    if tally.actor_failures:
        lines.append(
            f"  orders whose scenario's person could not act for the outages: "
            f"{len(tally.actor_failures)}"
        )
    lines += [f"  request error: {error}" for error in tally.request_errors[:BREACHES_SHOWN]]
    lines += [f"  process crash: {crash}" for crash in report.crashes]
    return lines


def breach_lines(report: RunReport) -> list[str]:
    lines = []
    for breach in report.breaches[:BREACHES_SHOWN]:
        plan = report.plans.get(breach.order_id or "")
        about = (
            f"order {breach.order_id} ({plan.style.value}, {plan.scenario.name}, "
            f"{plan.disturbance.value})"
            if plan
            else (f"order {breach.order_id}" if breach.order_id else "the stores")
        )
        lines.append(f"  ✗ {breach.invariant.value}: {about}: {breach.detail}")
    hidden = len(report.breaches) - BREACHES_SHOWN
    if hidden > 0:
        lines.append(f"  ... and {hidden} more (--json lists them all)")
    return lines


def closing_line(report: RunReport) -> str:
    if report.ok:
        return f"every invariant holds: {report.orders} orders, seed {report.seed}"
    db_file = report.data_dir / "temporal.sqlite3"
    return (
        f"{len(report.breaches)} breach(es); rerun with --seed {report.seed}. Kept for "
        f"inspection: {report.data_dir} (logs/, the stores; the histories: python -m "
        f"starters.dev_server --db-file {db_file})"
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
