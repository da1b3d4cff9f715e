"""Stable `ApplicationError.type` names.

Business failures are raised non-retryable under these names, so a workflow (or a person reading
a history) can tell "the card was declined" from "the gateway timed out" without parsing text.
"""

from __future__ import annotations

from enum import StrEnum

from domain.status import CancelReason


class BusinessError(StrEnum):
    """Non-retryable: retrying cannot change the answer."""

    OUT_OF_STOCK = "OutOfStock"
    UNKNOWN_SKU = "UnknownSku"
    PAYMENT_DECLINED = "PaymentDeclined"
    CARRIER_REJECTED = "CarrierRejected"
    NOTHING_TO_CAPTURE = "NothingToCapture"
    ORDER_CLOSED = "OrderClosed"
    """The order's step was already compensated: a late attempt may not redo it."""
    ALREADY_DISPATCHED = "AlreadyDispatched"
    """Cancelling or re-addressing a shipment that has left."""
    VOID_REFUSED = "VoidRefused"
    """The gateway refuses to void the authorization: a compensation that cannot succeed by
    retrying on its own; the order parks it for a person (no reason to cancel: it already is)."""


class ContractError(StrEnum):
    """Refusals that mean the caller broke the contract (a bug), not that the business said no."""

    IDEMPOTENCY_CONFLICT = "IdempotencyConflict"
    STEP_OUT_OF_ORDER = "StepOutOfOrder"
    INVALID_REQUEST = "InvalidRequest"


class TransientError(StrEnum):
    """Retryable: the next attempt may succeed."""

    PAYMENT_GATEWAY_UNAVAILABLE = "PaymentGatewayUnavailable"
    STORE_BUSY = "StoreBusy"
    PAYMENT_KEY_MISMATCH = "PaymentKeyMismatch"
    """The payment token is sealed for another key than the payments worker holds: a
    deployment's mistake, retried like a service that is down, so the order waits (nothing
    charged, nothing lost) until the worker is given the right key."""


CANCEL_REASON_BY_ERROR: dict[BusinessError, CancelReason] = {
    BusinessError.OUT_OF_STOCK: CancelReason.OUT_OF_STOCK,
    BusinessError.UNKNOWN_SKU: CancelReason.OUT_OF_STOCK,
    BusinessError.PAYMENT_DECLINED: CancelReason.PAYMENT_DECLINED,
    BusinessError.CARRIER_REJECTED: CancelReason.CARRIER_REJECTED,
}
