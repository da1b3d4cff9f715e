from __future__ import annotations

from domain.messages.common import OrderRef
from domain.messages.payments import (
    AuthorizationResult,
    AuthorizePayment,
    CaptureResult,
    ReversalResult,
)
from domain.money import format_cents
from domain.order import Order
from domain.services import Service
from workflows.retry_policies import UNTIL_DONE
from workflows.services.call import call


async def authorize_payment(order: Order) -> AuthorizationResult:
    request = AuthorizePayment(
        order_id=order.order_id,
        amount_cents=order.total_cents,
        payment_token=order.payment_token,
        simulate_decline=order.faults.payment_decline,
        simulate_transient_errors=order.faults.payment_transient_errors,
    )
    return await call(
        Service.PAYMENTS,
        "authorize_payment",
        request,
        AuthorizationResult,
        summary=f"authorize {format_cents(order.total_cents)}",
    )


async def capture_payment(order_id: str) -> CaptureResult:
    return await call(
        Service.PAYMENTS,
        "capture_payment",
        OrderRef(order_id=order_id),
        CaptureResult,
        policy=UNTIL_DONE,
        summary="capture the payment",
    )


async def reverse_payment(order_id: str, *, why: str) -> ReversalResult:
    """Void the authorization, or refund the capture: whichever the ledger says applies."""
    return await call(
        Service.PAYMENTS,
        "reverse_payment",
        OrderRef(order_id=order_id),
        ReversalResult,
        policy=UNTIL_DONE,
        summary=why,
    )
