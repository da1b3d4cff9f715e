"""How an order's lifecycle ends when it stops before the pivot, the same in every style."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio.exceptions import CancelledError

from domain.status import CancelReason
from domain.views import OrderOutcome
from workflows.failures import OrderCancelledError, stopped_by
from workflows.saga import to_the_end
from workflows.tracking import OrderTracker


async def stop_the_order(
    error: BaseException,
    undo_and_end: Callable[[OrderCancelledError], Awaitable[OrderOutcome]],
    tracker: OrderTracker,
) -> OrderOutcome:
    """Undo what was done and end the order, for the reason `error` stands for, to the end
    whatever cancel comes meanwhile; re-raise `error` when it stands for none (a bug).

    An order stopped by a cancel of its workflow then closes the workflow as cancelled (the Web
    UI shows what the operator did); every other reason completes it, with the outcome.
    """
    stopped = stopped_by(error)
    if stopped is None:
        raise error
    outcome = await to_the_end(undo_and_end(stopped), tracker.note_cancel_while_undoing)
    if stopped.reason is CancelReason.WORKFLOW_CANCELLED:
        raise CancelledError(stopped.detail) from None
    return outcome
