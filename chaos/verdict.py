"""The invariants a chaos run holds the system to, checked once it has settled.

- **lost**: every order placed exists and has ended, or waits legitimately (parked, waiting
  for a person);
- **stuck**: no workflow task failing, no activity retrying past its budget, no workflow of an
  ended order still running;
- **double charge**: no order captured twice, authorized twice, or charged more than its total;
- **leaked reservation**: no stock held or card authorized for an order that has ended (or was
  never placed), stock that adds up;
- **effects mismatch**: what the stores say happened agrees with how each order ended
  (`stores/effects.py`, and the audit's rules on it);
- **unexpected outcome**: an order nobody interfered with (kills, the restart, transient faults
  and re-delivered events are no interference) ends as its scenario says;
- **conflicting decisions**: an approval and a rejection sent together are never both taken.

The audit (`starters.audit`) answers most of the store rules; this module sorts its violations
into the invariants and adds what only the run knows (its plan, its requests, the histories).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHistory,
)
from temporalio.service import RPCError, RPCStatusCode

from chaos.orders import Placement
from chaos.plan import OrderPlan
from chaos.resilience import patiently
from chaos.tally import Tally
from chaos.tracker import Tracker
from client.orders import lifecycle_workflow_id
from domain import search_attributes
from domain.messages.audit import AuditReport, AuditRule, Violation
from domain.messages.notifications import NotificationKind
from domain.services import Service
from insight.audit import run_audit
from insight.order_histories import workflows_of
from stores.effects import StoreEffects, effects_of
from stores.payments import LedgerKind

HISTORY_READERS = 8
"""Histories fetched at once at the end: enough to be quick, few enough not to crowd the
server."""
ATTEMPT_SLACK = 2
"""Attempts an activity may take beyond its faults and the run's kills and restart (a busy
store, a slow worker) before it counts as retrying past its budget."""

_BENIGN_TASK_FAILURES = frozenset(
    {
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_UPDATE,
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND,
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FAILOVER_CLOSE_COMMAND,
    }
)
"""The server's own retries (something new arrived while the task completed, a sticky worker
went away): no code of the project failed."""


class Invariant(StrEnum):
    LOST = "lost"
    STUCK = "stuck"
    DOUBLE_CHARGE = "double_charge"
    LEAKED_RESERVATION = "leaked_reservation"
    EFFECTS_MISMATCH = "effects_mismatch"
    UNEXPECTED_OUTCOME = "unexpected_outcome"
    CONFLICTING_DECISIONS = "conflicting_decisions"

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    Invariant.LOST: "every order placed exists and has ended or waits for a person",
    Invariant.STUCK: "no workflow task failing, no activity retrying past its budget",
    Invariant.DOUBLE_CHARGE: "nothing captured or authorized twice, or above the total",
    Invariant.LEAKED_RESERVATION: "no stock held or card authorized after the order ended",
    Invariant.EFFECTS_MISMATCH: "what the stores say happened matches each outcome",
    Invariant.UNEXPECTED_OUTCOME: "an order left alone ends as its scenario says",
    Invariant.CONFLICTING_DECISIONS: "an approval and a rejection are never both taken",
}

_LEAKS = frozenset(
    {
        AuditRule.STOCK_NOT_NEGATIVE,
        AuditRule.RESERVED_WITHIN_ON_HAND,
        AuditRule.RESERVED_MATCHES_HOLDS,
        AuditRule.NO_HOLD_AFTER_END,
        AuditRule.NO_HOLD_WITHOUT_ORDER,
        AuditRule.NO_OPEN_AUTHORIZATION,
    }
)


@dataclass(frozen=True)
class Breach:
    invariant: Invariant
    order_id: str | None
    detail: str


@dataclass(frozen=True)
class Evidence:
    """What the verdict is drawn from."""

    client: Client
    data_dir: Path
    tracker: Tracker
    placements: Sequence[Placement]
    tally: Tally

    def plan(self, order_id: str) -> OrderPlan:
        return self.tracker.plans[order_id]


async def judge(evidence: Evidence) -> list[Breach]:
    breaches = [
        *_not_placed(evidence),
        *await _unsettled(evidence),
        *await _stuck(evidence),
    ]
    report, _ = await patiently(lambda: run_audit(evidence.client))
    lost = {b.order_id for b in breaches if b.invariant is Invariant.LOST}
    breaches += _from_audit(report, lost)
    effects = await asyncio.to_thread(_effects, evidence.data_dir, sorted(evidence.tracker.placed))
    breaches += _charges(evidence, effects)
    breaches += _contradictions(evidence, effects)
    breaches += _unexpected(evidence)
    breaches += [
        Breach(Invariant.CONFLICTING_DECISIONS, order_id, "approve and reject both accepted")
        for order_id in evidence.tally.conflicting_decisions
    ]
    return breaches


def _not_placed(evidence: Evidence) -> Iterator[Breach]:
    for placement in evidence.placements:
        if placement.error is not None:
            yield Breach(
                Invariant.LOST, placement.plan.order_id, f"never placed: {placement.error}"
            )


async def _unsettled(evidence: Evidence) -> list[Breach]:
    tracker = evidence.tracker
    return [
        Breach(Invariant.LOST, order_id, await _where_it_stands(evidence, order_id))
        for order_id in sorted(tracker.placed)
        if order_id not in tracker.ended and order_id not in tracker.parked
    ]


async def _where_it_stands(evidence: Evidence, order_id: str) -> str:
    plan = evidence.plan(order_id)
    handle = evidence.client.get_workflow_handle(lifecycle_workflow_id(plan.style, order_id))
    try:
        description = await patiently(handle.describe)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        return f"its workflow {handle.id} does not exist"
    if description.status != WorkflowExecutionStatus.RUNNING:
        closed = description.status.name.lower() if description.status else "closed"
        return f"its workflow {handle.id} is {closed} and the order recorded no outcome"
    status = description.typed_search_attributes.get(search_attributes.ORDER_STATUS)
    pending = ", ".join(
        f"{activity.activity_type.name} (attempt {activity.attempt})"
        for activity in description.raw_description.pending_activities
    )
    gone = await _closed_abnormally(evidence.client, order_id)
    return (
        f"still {status} when the run stopped waiting"
        + (f"; pending: {pending}" if pending else "")
        + (f"; {gone}" if gone else "")
    )


_ABNORMAL = frozenset(
    {
        WorkflowExecutionStatus.CANCELED,
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.FAILED,
        WorkflowExecutionStatus.TIMED_OUT,
    }
)


async def _closed_abnormally(client: Client, order_id: str) -> str:
    """The order's other workflows that closed without finishing their part (a participant
    cancelled, say): often why the order waits."""
    closed = [
        f"{execution.id} is {execution.status.name.lower()}"
        for execution in await patiently(lambda: workflows_of(client, order_id))
        if execution.status in _ABNORMAL
    ]
    return ", ".join(closed)


async def _stuck(evidence: Evidence) -> list[Breach]:
    """Every workflow of every order, from its history (a failed workflow task) and, while it
    runs, its description (activities past their budget; still running though its order has
    ended)."""
    plans = evidence.tracker.plans
    executions = [
        execution
        async for execution in evidence.client.list_workflows()
        if execution.typed_search_attributes.get(search_attributes.ORDER_ID) in plans
    ]
    readers = asyncio.Semaphore(HISTORY_READERS)

    async def look(execution: WorkflowExecution) -> list[Breach]:
        async with readers:
            return await patiently(lambda: _stuck_workflow(evidence, execution))

    found = await asyncio.gather(*(look(execution) for execution in executions))
    return [breach for breaches in found for breach in breaches]


async def _stuck_workflow(evidence: Evidence, execution: WorkflowExecution) -> list[Breach]:
    order_id = execution.typed_search_attributes.get(search_attributes.ORDER_ID)
    assert order_id is not None
    handle = evidence.client.get_workflow_handle(execution.id, run_id=execution.run_id)
    breaches = list(_failed_tasks(order_id, execution.id, await handle.fetch_history()))
    if execution.status != WorkflowExecutionStatus.RUNNING:
        return breaches
    description = await handle.describe()
    if description.status != WorkflowExecutionStatus.RUNNING:
        return breaches
    budget = _attempt_budget(evidence, order_id)
    for activity in description.raw_description.pending_activities:
        if activity.attempt > budget:
            failure = activity.last_failure.message or "no failure recorded"
            breaches.append(
                Breach(
                    Invariant.STUCK,
                    order_id,
                    f"{execution.id}: {activity.activity_type.name} at attempt "
                    f"{activity.attempt}, past its budget of {budget}: {failure}",
                )
            )
    tracker = evidence.tracker
    if order_id not in tracker.parked and (order_id in tracker.ended or order_id in tracker.closed):
        how = "ended" if order_id in tracker.ended else "closed without an outcome"
        breaches.append(
            Breach(
                Invariant.STUCK,
                order_id,
                f"{execution.id} ({execution.workflow_type}) still runs though its order {how}",
            )
        )
    return breaches


def _failed_tasks(order_id: str, workflow_id: str, history: WorkflowHistory) -> Iterator[Breach]:
    failures = [
        event.workflow_task_failed_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and event.workflow_task_failed_event_attributes.cause not in _BENIGN_TASK_FAILURES
    ]
    if failures:
        last = failures[-1]
        cause = WorkflowTaskFailedCause.Name(last.cause).removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")
        yield Breach(
            Invariant.STUCK,
            order_id,
            f"{workflow_id}: {len(failures)} workflow task(s) failed; the last: "
            f"{cause.lower()}: {last.failure.message}",
        )


def _attempt_budget(evidence: Evidence, order_id: str) -> int:
    """One attempt, one more per injected gateway time-out, per kill or restart the run
    caused, and a little slack."""
    timeouts = evidence.plan(order_id).order.faults.payment_transient_errors
    return 1 + timeouts + evidence.tally.disruptions + ATTEMPT_SLACK


def _from_audit(report: AuditReport, lost: set[str | None]) -> Iterator[Breach]:
    for violation in report.violations:
        invariant = _invariant_of(violation)
        if invariant is Invariant.LOST and violation.order_id in lost:
            continue  # named already, with where it stands
        yield Breach(invariant, violation.order_id, f"audit: {violation.detail}")


def _invariant_of(violation: Violation) -> Invariant:
    if violation.rule is AuditRule.ENDED_OR_WAITING:
        return Invariant.LOST
    if violation.rule in _LEAKS:
        return Invariant.LEAKED_RESERVATION
    if violation.rule is AuditRule.EFFECT_ONCE and violation.store is Service.PAYMENTS:
        return Invariant.DOUBLE_CHARGE
    return Invariant.EFFECTS_MISMATCH


def _effects(data_dir: Path, order_ids: Iterable[str]) -> dict[str, StoreEffects]:
    return {order_id: effects_of(data_dir, order_id) for order_id in order_ids}


def _charges(evidence: Evidence, effects: dict[str, StoreEffects]) -> Iterator[Breach]:
    for order_id, effect in effects.items():
        total = evidence.plan(order_id).order.total_cents
        kinds = [kind for kind, _ in effect.ledger]
        captured = sum(amount for kind, amount in effect.ledger if kind == LedgerKind.CAPTURE)
        refunded = sum(amount for kind, amount in effect.ledger if kind == LedgerKind.REFUND)
        once_only = (LedgerKind.AUTHORIZE, LedgerKind.CAPTURE)
        twice = [kind.value for kind in once_only if kinds.count(kind) > 1]
        if twice or captured - refunded > total:
            yield Breach(
                Invariant.DOUBLE_CHARGE,
                order_id,
                f"ledger {effect.ledger} for a total of {total} cents"
                + (f": {', '.join(twice)} booked more than once" if twice else ""),
            )


def _contradictions(evidence: Evidence, effects: dict[str, StoreEffects]) -> Iterator[Breach]:
    """The customer is never told the opposite of how the order ended."""
    opposite = {
        "completed": NotificationKind.ORDER_CANCELLED,
        "cancelled": NotificationKind.ORDER_DELIVERED,
    }
    for order_id, record in evidence.tracker.ended.items():
        assert record.outcome is not None
        told = opposite[record.outcome.status]
        if any(kind == told for kind, _ in effects.get(order_id, _NO_EFFECTS).notifications):
            yield Breach(
                Invariant.EFFECTS_MISMATCH,
                order_id,
                f"{record.outcome.status} order, but the customer was sent {told.value}",
            )


_NO_EFFECTS = StoreEffects((), None, (), 0, None, (), ())


def _unexpected(evidence: Evidence) -> Iterator[Breach]:
    tracker = evidence.tracker
    for order_id in sorted(tracker.placed):
        plan = evidence.plan(order_id)
        if plan.may_change_outcome or order_id in evidence.tally.actor_failures:
            continue
        expected = plan.scenario.expected_status.value + (
            f" ({plan.scenario.expected_reason.value})" if plan.scenario.expected_reason else ""
        )
        record = tracker.ended.get(order_id)
        if record is not None and record.outcome is not None:
            outcome = record.outcome
            got = outcome.status + (f" ({outcome.reason.value})" if outcome.reason else "")
            if got != expected:
                yield Breach(
                    Invariant.UNEXPECTED_OUTCOME,
                    order_id,
                    f"{plan.scenario.name} ended {got}, expected {expected}"
                    + (f": {outcome.detail}" if outcome.detail else ""),
                )
        elif order_id in tracker.parked:
            yield Breach(
                Invariant.UNEXPECTED_OUTCOME,
                order_id,
                f"{plan.scenario.name} is parked (needs attention), expected {expected}",
            )
