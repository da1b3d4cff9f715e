"""`python -m starters.audit [--json]`: check the invariants across every service store, and ask
Temporal about each order that has not ended. Exit 0 when all hold, 1 with each violation listed.

The invariants: no stock below zero or leaked reservation; payments net to the order total for a
completed order and to zero for a cancelled one; no effect twice for one idempotency key; every
order placed has ended or has a running workflow (legitimately waiting)."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain import search_attributes
from domain.messages.audit import AuditReport, AuditRule, OpenOrder, Violation, WaitingOrder
from domain.services import Service
from infra import cli
from infra.client import ConnectionFailedError, connect
from infra.data_dir import data_dir
from starters.output import print_json
from stores.audit import audit_stores


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
    return report.model_copy(update={"violations": report.violations + violations}), waiting


def describe(report: AuditReport, waiting: Sequence[WaitingOrder]) -> str:
    head = (
        f"audit of {data_dir()}: {report.orders_placed} order(s) placed, "
        f"{report.orders_checked} ended, {len(waiting)} waiting"
    )
    if report.clean:
        return f"{head}: every invariant holds"
    lines = [f"{head}: {len(report.violations)} violation(s)"]
    lines += [
        f"  [{v.store.value}] {v.rule.value}: {v.detail}"
        + (f" (order {v.order_id})" if v.order_id and v.order_id not in v.detail else "")
        for v in report.violations
    ]
    return "\n".join(lines)


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m starters.audit", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    report, waiting = await run_audit(client)
    if args.json:
        print_json(
            {
                **report.model_dump(mode="json"),
                "clean": report.clean,
                "waiting": [order.model_dump(mode="json") for order in waiting],
            }
        )
    else:
        print(describe(report, waiting))
    return cli.EXIT_OK if report.clean else cli.EXIT_REFUSED


if __name__ == "__main__":
    cli.run(main)
