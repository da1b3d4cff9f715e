"""Why a step failed, in business terms."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, FailureError

from domain.errors import CANCEL_REASON_BY_ERROR, BusinessError
from domain.status import CancelReason


class OrderCancelledError(Exception):
    """Raised inside a workflow to stop the order and compensate what was done."""

    def __init__(self, reason: CancelReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def business_failure(error: FailureError) -> OrderCancelledError:
    """Map a failed activity or child workflow to the reason the order is cancelled.

    A business error (non-retryable, with a known type) keeps its reason; anything else means a
    service stayed unavailable past the step's time budget.
    """
    cause: BaseException | None = error
    while isinstance(cause, ActivityError | ChildWorkflowError):
        cause = cause.cause
    known = {error.value: error for error in BusinessError}
    if isinstance(cause, ApplicationError) and cause.type in known:
        reason = CANCEL_REASON_BY_ERROR.get(known[cause.type])
        if reason is not None:
            return OrderCancelledError(reason, cause.message)
    detail = str(cause) if cause is not None else str(error)
    return OrderCancelledError(CancelReason.SERVICE_UNAVAILABLE, detail)
