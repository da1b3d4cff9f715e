"""payments' activities: authorize, capture at dispatch, reverse (void or refund: compensation),
and record a void a person did by hand when the gateway kept refusing it.

The payment token reaches the store masked (a SecretStr) and is never logged."""

from __future__ import annotations

from temporalio import activity

from activities.common import record_resolution, store_activity, store_failures
from domain.messages.common import OrderRef
from domain.messages.payments import (
    AuthorizationResult,
    AuthorizePayment,
    CaptureResult,
    ReversalResult,
)
from domain.messages.resolution import RecordResolvedByHand
from infra.metrics import count_compensation
from stores.payments import PaymentsStore


class PaymentsActivities:
    def __init__(self, store: PaymentsStore) -> None:
        self._store = store

    @store_activity
    def authorize_payment(self, request: AuthorizePayment) -> AuthorizationResult:
        with store_failures(request.order_id):
            result = self._store.authorize(
                request.order_id,
                request.amount_cents,
                request.payment_token,
                simulate_decline=request.simulate_decline,
                simulate_transient_errors=request.simulate_transient_errors,
                simulate_void_refusals=request.simulate_void_refusals,
            )
        activity.logger.info(
            "order %s: authorized %d cents (%s)",
            request.order_id,
            result.amount_cents,
            result.authorization_id,
        )
        return result

    @store_activity
    def capture_payment(self, request: OrderRef) -> CaptureResult:
        with store_failures(request.order_id):
            result = self._store.capture(request.order_id)
        activity.logger.info("order %s: captured %d cents", request.order_id, result.amount_cents)
        return result

    @store_activity
    def reverse_payment(self, request: OrderRef) -> ReversalResult:
        with store_failures(request.order_id):
            result = self._store.reverse(request.order_id)
        if result.action != "refunded":  # a refund (a lost parcel) moves forward: no compensation
            count_compensation("void_payment", undid=result.action == "voided")
        activity.logger.info(
            "order %s: payment reversal: %s (%d cents)",
            request.order_id,
            result.action,
            result.amount_cents,
        )
        return result

    @store_activity
    def record_resolved_by_hand(self, request: RecordResolvedByHand) -> None:
        """The void a person did in the gateway's console: on record, the ledger untouched."""
        record_resolution(self._store, request)
