"""payments' activities: authorize, capture at dispatch, reverse (void or refund: compensation),
and record a void a person did by hand when the gateway kept refusing it.

The payment token arrives sealed for this service (`infra.token_seal`) and is opened here, with
the key only the payments worker holds; it reaches the store masked (a SecretStr), which keeps a
fingerprint of it, and is never logged."""

from __future__ import annotations

from pydantic import SecretStr
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.common import record_resolution, service_activities, store_activity, store_failures
from domain.errors import TransientError
from domain.messages.common import OrderRef
from domain.messages.payments import (
    AuthorizationResult,
    AuthorizePayment,
    CaptureResult,
    ReversalResult,
)
from domain.messages.resolution import RecordResolvedByHand
from domain.payment_token import is_sealed
from domain.services import Service
from infra.metrics import count_compensation
from infra.token_seal import SealKeyError, UnsealingKey
from stores.payments import PaymentsStore


@service_activities(Service.PAYMENTS)
class PaymentsActivities:
    def __init__(self, store: PaymentsStore, key: UnsealingKey) -> None:
        self._store = store
        self._key = key

    def _opened(self, request: AuthorizePayment) -> SecretStr:
        if not is_sealed(request.payment_token):
            activity.logger.warning(
                "order %s: the payment token arrived unsealed (an order placed before sealing, "
                "or by a client that does not seal): it is in the order's history in clear",
                request.order_id,
            )
        try:
            return self._key.unseal(request.payment_token)
        except SealKeyError as error:
            raise ApplicationError(
                f"order {request.order_id}: {error}", type=TransientError.PAYMENT_KEY_MISMATCH
            ) from None

    @store_activity
    def authorize_payment(self, request: AuthorizePayment) -> AuthorizationResult:
        with store_failures(request.order_id):
            result = self._store.authorize(
                request.order_id,
                request.amount_cents,
                self._opened(request),
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
