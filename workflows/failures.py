"""Why a step failed, in business terms."""

from __future__ import annotations

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
    is_cancelled_exception,
)
from temporalio.exceptions import (
    TimeoutError as OutOfTimeError,
)

from domain.errors import CANCEL_REASON_BY_ERROR, BusinessError
from domain.status import CancelReason


class OrderCancelledError(Exception):
    """Raised inside a workflow to stop the order and compensate what was done."""

    def __init__(self, reason: CancelReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def workflow_cancelled() -> OrderCancelledError:
    return OrderCancelledError(CancelReason.WORKFLOW_CANCELLED, "the workflow was cancelled")


def stopped_by(error: BaseException) -> OrderCancelledError | None:
    """Why the order stops for `error`, raised before the pivot; None when it is no reason to
    stop the order but a bug, to fail the workflow task with.

    A cancel of the workflow reaches its code in several forms: `asyncio.CancelledError` where it
    waits on a timer or a condition, an `ActivityError` or `ChildWorkflowError` caused by a
    `CancelledError` where it waits on an activity or a child (the SDK cancels those and reports
    their end), and the SDK's own `CancelledError`. Every one of them is the same cancel.
    """
    if isinstance(error, OrderCancelledError):
        return error
    if is_cancelled_exception(error):
        return workflow_cancelled()
    if isinstance(error, ActivityError | ChildWorkflowError):
        return business_failure(error)
    return None


def business_failure(error: FailureError) -> OrderCancelledError:
    """Map a failed activity or child workflow to the reason the order is cancelled.

    A business error (non-retryable, with a known type) keeps its reason; a step cut short by a
    cancel of the workflow was cancelled, whichever service it waited for; anything else means a
    service stayed unavailable past the step's time budget.
    """
    if is_cancelled_exception(error):
        return workflow_cancelled()
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


def failure_message(error: FailureError) -> str:
    """What went wrong, in a line a person acts on: the business refusal, or a step out of time
    with the last failure before it."""
    cause: BaseException | None = error
    while isinstance(cause, ActivityError | ChildWorkflowError):
        cause = cause.cause
    if isinstance(cause, OutOfTimeError):
        last = cause.cause
        return f"out of time ({cause.type.name.lower() if cause.type else 'timeout'})" + (
            f"; last failure: {last}" if last is not None else ""
        )
    return str(cause) if cause is not None else str(error)
