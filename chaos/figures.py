"""The run's figures per style: placed, completed, cancelled by reason, parked, not settled, and
end-to-end latency, from the orders register (placed and ended as the workflows recorded
them, so the figures do not depend on how often the run looked)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chaos.tracker import Tracker
from domain.services import Style
from domain.status import OrderStatus

NO_REASON = "no reason"
"""A cancelled order that recorded no reason (the register allows it; no style should)."""


@dataclass
class StyleFigures:
    placed: int = 0
    completed: int = 0
    cancelled: Counter[str] = field(default_factory=Counter)
    """By reason (a `CancelReason` value, or NO_REASON)."""
    parked: int = 0
    unsettled: int = 0
    latencies: list[float] = field(default_factory=list)
    """Seconds from placed to ended, per ended order."""

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies, 0.50)

    @property
    def p95(self) -> float | None:
        return percentile(self.latencies, 0.95)

    def add(self, other: StyleFigures) -> None:
        self.placed += other.placed
        self.completed += other.completed
        self.cancelled.update(other.cancelled)
        self.parked += other.parked
        self.unsettled += other.unsettled
        self.latencies += other.latencies

    def as_json(self) -> dict[str, object]:
        return {
            "placed": self.placed,
            "completed": self.completed,
            "cancelled": dict(sorted(self.cancelled.items())),
            "parked": self.parked,
            "unsettled": self.unsettled,
            "latency_seconds": {"p50": _rounded(self.p50), "p95": _rounded(self.p95)},
        }


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile: a value that was measured, not one interpolated."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def figures_by_style(tracker: Tracker, styles: Iterable[Style]) -> dict[Style, StyleFigures]:
    by_style = {style: StyleFigures() for style in styles}
    for order_id in tracker.placed:
        figures = by_style[tracker.plans[order_id].style]
        figures.placed += 1
        record = tracker.ended.get(order_id)
        if record is not None and record.outcome is not None and record.ended_at is not None:
            figures.latencies.append((record.ended_at - record.placed_at).total_seconds())
            if record.outcome.status == OrderStatus.COMPLETED.value:
                figures.completed += 1
            else:
                reason = record.outcome.reason
                figures.cancelled[reason.value if reason else NO_REASON] += 1
        elif order_id in tracker.parked:
            figures.parked += 1
        else:
            figures.unsettled += 1
    return by_style


def total_of(by_style: dict[Style, StyleFigures]) -> StyleFigures:
    total = StyleFigures()
    for figures in by_style.values():
        total.add(figures)
    return total


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 2)
