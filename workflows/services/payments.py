from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from domain.messages.common import OrderRef
from domain.messages.payments import (
    AuthorizationResult,
    AuthorizePayment,
    CaptureResult,
    ReversalResult,
)
from domain.money import format_cents
from domain.order import Order
from domain.order_parts import PaymentOrder
from workflows.retry_policies import UNTIL_DONE, within_budget
from workflows.services.call import call

with workflow.unsafe.imports_passed_through():
    from activities.payments import PaymentsActivities


async def authorize_payment(order: Order | PaymentOrder) -> AuthorizationResult:
    request = AuthorizePayment(
        order_id=order.order_id,
        amount_cents=order.total_cents,
        payment_token=order.payment_token,
        simulate_decline=order.faults.payment_decline,
        simulate_transient_errors=order.faults.payment_transient_errors,
        simulate_void_refusals=order.faults.void_refusals,
    )
    return await call(
        PaymentsActivities.authorize_payment,
        request,
        summary=f"authorize {format_cents(order.total_cents)}",
    )


async def capture_payment(order_id: str) -> CaptureResult:
    return await call(
        PaymentsActivities.capture_payment,
        OrderRef(order_id=order_id),
        policy=UNTIL_DONE,
        summary="capture the payment",
    )


async def reverse_payment(
    order_id: str, *, why: str, budget: timedelta | None = None
) -> ReversalResult:
    """Void the authorization, or refund the capture: whichever the ledger says applies. As a
    compensation (a void), within `budget`; a refund after the pivot is retried until done."""
    return await call(
        PaymentsActivities.reverse_payment,
        OrderRef(order_id=order_id),
        policy=UNTIL_DONE if budget is None else within_budget(budget),
        summary=why,
    )
