"""What a chaos run will do, decided up front from its seed: each order's scenario, style,
injected faults and disturbance.

Each order draws from a generator of its own (`seed` and its index), so order 7 of a run is the
same order whether the run places 50 or 1,000, and a failure found by one run is reproduced by
rerunning it with the same `--seed` (the timing of worker kills aside).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.commands import UPDATE_APPROVE, UPDATE_CANCEL, UPDATE_CHANGE_ADDRESS, UPDATE_REJECT
from domain.faults import Faults
from domain.order import Order
from domain.policy import needs_approval
from domain.scenarios import SCENARIOS, Scenario
from domain.services import Style

MAX_INJECTED_TIMEOUTS = 3
"""Gateway time-outs injected into a faulty order: its authorization retries (0.5 s, 1 s, 2 s
apart) and goes through, well inside the step's budget."""

EARLY_WINDOW = 4.0
"""Seconds after placement within which an early disturbance lands: where an order's steps
before the pivot happen (reservation, authorization, the approval wait, handling)."""

REDELIVERY_WINDOW = (0.3, 4.0)
"""When a published event is re-delivered: once the first events are out, and while most of
the order's participants still run (an order declined at payment is over in a second or two)."""

REQUESTS = (UPDATE_APPROVE, UPDATE_REJECT, UPDATE_CANCEL, UPDATE_CHANGE_ADDRESS)
"""The people's requests a disturbance may send at a random moment."""


class Disturbance(StrEnum):
    """What the run does to one order besides the scenario's own person, if anything."""

    NONE = "none"
    CANCEL_EARLY = "cancel_early"
    """`handle.cancel()` on one of its workflows at a random early moment (most land before
    the pivot, while a step or a compensation runs)."""
    CANCEL_AFTER_PIVOT = "cancel_after_pivot"
    """`handle.cancel()` once the order is past dispatch: to be ignored."""
    REQUEST = "request"
    """One person's request (approve, reject, cancel, change the address) at a random moment."""
    APPROVE_AND_REJECT = "approve_and_reject"
    """Two approvers at once, one approving, one rejecting: at most one may win."""
    CANCEL_TWICE = "cancel_twice"
    """The customer presses cancel twice at once."""
    REDELIVER = "redeliver"
    """A published event signalled again, same event id: to be dropped as a duplicate."""


_WEIGHTS: dict[Disturbance, int] = {
    Disturbance.NONE: 5,
    Disturbance.CANCEL_EARLY: 2,
    Disturbance.CANCEL_AFTER_PIVOT: 2,
    Disturbance.REQUEST: 2,
    Disturbance.APPROVE_AND_REJECT: 1,
    Disturbance.CANCEL_TWICE: 1,
    Disturbance.REDELIVER: 3,
}
"""About a third of the orders are left alone (kills, the restart and faults aside), so that
their outcome can be held to their scenario's."""

_EVENT_STYLES = frozenset({Style.CHOREOGRAPHED, Style.HYBRID})
"""The styles whose workflows take published events (the hybrid's orchestrator and warehouse)."""


def _allowed(scenario: Scenario, style: Style) -> list[Disturbance]:
    allowed = list(_WEIGHTS)
    if style not in _EVENT_STYLES:
        allowed.remove(Disturbance.REDELIVER)
    if not scenario.reaches_dispatch:
        allowed.remove(Disturbance.CANCEL_AFTER_PIVOT)
    return allowed


@dataclass(frozen=True)
class OrderPlan:
    index: int
    scenario: Scenario
    style: Style
    order: Order
    injected_timeouts: int
    """Gateway time-outs added to the scenario's own (0: no fault injected)."""
    disturbance: Disturbance
    delay: float
    """Seconds after placement at which the disturbance acts (when it does not wait for a
    stage)."""
    request: str
    """The update a REQUEST disturbance sends."""
    other_workflow: bool
    """A cancel aims at another of the order's workflows than the one that owns it (a
    participant, the shipment), when it has one."""

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def needs_approval(self) -> bool:
        return needs_approval(self.order.total_cents)

    @property
    def may_change_outcome(self) -> bool:
        """Whether what the run does to the order may rightly change how it ends. Kills, the
        server's restart, transient faults, a re-delivered event or a new address must not."""
        if self.disturbance is Disturbance.REQUEST:
            return self.request != UPDATE_CHANGE_ADDRESS
        return self.disturbance not in (Disturbance.NONE, Disturbance.REDELIVER)


def build_plan(
    orders: int, styles: Sequence[Style], seed: int, fault_rate: float
) -> list[OrderPlan]:
    return [_plan_one(index, styles, seed, fault_rate) for index in range(orders)]


def _plan_one(index: int, styles: Sequence[Style], seed: int, fault_rate: float) -> OrderPlan:
    rng = random.Random(f"{seed}:{index}")
    scenario = rng.choice(SCENARIOS)
    style = rng.choice(list(styles))
    injected = rng.randint(1, MAX_INJECTED_TIMEOUTS) if rng.random() < fault_rate else 0
    allowed = _allowed(scenario, style)
    disturbance = rng.choices(allowed, weights=[_WEIGHTS[d] for d in allowed])[0]
    early = rng.uniform(0.0, EARLY_WINDOW)
    late = rng.uniform(*REDELIVERY_WINDOW)
    return OrderPlan(
        index=index,
        scenario=scenario,
        style=style,
        order=_with_timeouts(scenario.order(order_id_of(index, scenario)), injected),
        injected_timeouts=injected,
        disturbance=disturbance,
        delay=late if disturbance is Disturbance.REDELIVER else early,
        request=rng.choice(REQUESTS),
        other_workflow=rng.random() < 1 / 3,
    )


def order_id_of(index: int, scenario: Scenario) -> str:
    """`chaos-0042-approval-granted`: the run's orders sort by index and say their scenario."""
    return f"chaos-{index:04d}-{scenario.name.replace('_', '-')}"


def _with_timeouts(order: Order, injected: int) -> Order:
    if not injected:
        return order
    faults: Faults = order.faults.model_copy(
        update={"payment_transient_errors": order.faults.payment_transient_errors + injected}
    )
    return order.model_copy(update={"faults": faults})
