"""The audit as a person runs it: the stores' invariants (`stores.audit`), Temporal asked about
each order that has not ended (running: legitimately waiting; closed or missing: left behind),
and the report as text: each violation, the orders waiting for a person, the holds a person
resolved by hand."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes
from domain.messages.audit import (
    AuditReport,
    AuditRule,
    OpenOrder,
    ParkedOrder,
    ResolvedByHand,
    Violation,
    WaitingOrder,
)
from domain.services import Service
from infra import cli
from infra.client import ConnectionFailedError, connect
from infra.data_dir import data_dir
from stores.audit import audit_stores, stores_place


async def check_open_orders(
    client: Client, open_orders: Sequence[OpenOrder]
) -> tuple[list[WaitingOrder], list[Violation]]:
    """An open order is fine while its workflow runs; closed or missing, it was left behind."""
    waiting: list[WaitingOrder] = []
    violations: list[Violation] = []
    for order in open_orders:
        try:
            description = await client.get_workflow_handle(order.workflow_id).describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            violations.append(_left_behind(order, "its workflow does not exist"))
            continue
        if description.status == WorkflowExecutionStatus.RUNNING:
            status = description.typed_search_attributes.get(search_attributes.ORDER_STATUS)
            waiting.append(WaitingOrder(**order.model_dump(), status=status or "unknown"))
        else:
            closed = description.status.name.lower() if description.status else "closed"
            violations.append(_left_behind(order, f"its workflow is {closed}"))
    return waiting, violations


def _left_behind(order: OpenOrder, why: str) -> Violation:
    return Violation(
        store=Service.ORDERS,
        order_id=order.order_id,
        rule=AuditRule.ENDED_OR_WAITING,
        detail=f"order {order.order_id} never recorded an outcome and {why}",
    )


async def run_audit(client: Client | None) -> tuple[AuditReport, list[WaitingOrder]]:
    report = audit_stores(data_dir())
    if not report.open_orders:
        return report, []
    try:
        client = client or await connect()
    except ConnectionFailedError as error:
        raise cli.RefusedError(
            f"{len(report.open_orders)} order(s) have not ended and Temporal cannot be asked "
            f"whether they are waiting: {error}"
        ) from error
    waiting, violations = await check_open_orders(client, report.open_orders)
    return _with_temporal(report, waiting, violations), waiting


def _with_temporal(
    report: AuditReport, waiting: Sequence[WaitingOrder], violations: Sequence[Violation]
) -> AuditReport:
    """The stores' report with what Temporal said: an order waits for a person only while its
    workflow runs; a parked order whose workflow closed was left behind, and its violation says
    what it was waiting for."""
    running = {order.order_id for order in waiting}
    parked = {order.order_id: order for order in report.waiting_for_a_person}
    return report.model_copy(
        update={
            "violations": report.violations
            + [_what_it_waited_for(v, parked.get(v.order_id or "")) for v in violations],
            "waiting_for_a_person": [
                o for o in report.waiting_for_a_person if o.order_id in running
            ],
        }
    )


def _what_it_waited_for(violation: Violation, parked: ParkedOrder | None) -> Violation:
    if parked is None:
        return violation
    what = ", ".join(p.compensation.what for p in parked.parked)
    detail = f"{violation.detail}; it was waiting for a person ({what})"
    return violation.model_copy(update={"detail": detail})


def describe(report: AuditReport, waiting: Sequence[WaitingOrder]) -> str:
    head = (
        f"audit of {stores_place(data_dir())}: {report.orders_placed} order(s) placed, "
        f"{report.orders_checked} ended, {len(waiting)} waiting"
    )
    if report.waiting_for_a_person:
        head += f" ({len(report.waiting_for_a_person)} for a person)"
    if report.clean:
        lines = [f"{head}: every invariant holds"]
    else:
        lines = [f"{head}: {len(report.violations)} violation(s)"]
        lines += [
            f"  [{v.store.value}] {v.rule.value}: {v.detail}"
            + (f" (order {v.order_id})" if v.order_id and v.order_id not in v.detail else "")
            for v in report.violations
        ]
    lines += _waiting_for_a_person(report.waiting_for_a_person, waiting)
    lines += _resolved_by_hand(report.resolved_by_hand)
    return "\n".join(lines)


def _waiting_for_a_person(
    parked: Sequence[ParkedOrder], waiting: Sequence[WaitingOrder]
) -> list[str]:
    if not parked:
        return []
    status = {order.order_id: order.status for order in waiting}
    lines = [f"waiting for a person: {len(parked)} order(s)"]
    for order in parked:
        lines.append(
            f"  order {order.order_id} ({order.style.value}, "
            f"{status.get(order.order_id, 'unknown')}): python -m starters.resolve_order "
            f"{order.order_id} (--retry | --mark-done --note TEXT)"
        )
        lines += [
            f"    {p.compensation.what}, parked since {p.since.isoformat(timespec='seconds')}: "
            f"{p.why}"
            for p in order.parked
        ]
    return lines


def _resolved_by_hand(resolved: Sequence[ResolvedByHand]) -> list[str]:
    if not resolved:
        return []
    lines = [f"resolved by hand: {len(resolved)} compensation(s)"]
    for r in resolved:
        lines.append(
            f"  order {r.order_id}: {r.compensation.what}, by {r.resolved_by} at "
            f"{r.at.isoformat(timespec='seconds')}: {r.note}"
        )
        lines += [f"    excuses [{v.store.value}] {v.rule.value}: {v.detail}" for v in r.excused]
    return lines
