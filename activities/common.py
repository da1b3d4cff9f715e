"""What every service's activities share: how they are declared, and how a store's refusal
becomes a failure a workflow can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.errors import BusinessError, TransientError
from domain.messages.resolution import RecordResolvedByHand
from stores.database import StoreError

_EXPECTED = frozenset(
    {error.value for error in BusinessError} | {TransientError.PAYMENT_GATEWAY_UNAVAILABLE.value}
)
"""Answers the process is built to handle (a decline, a gateway time-out): the SDK logs them at
DEBUG, without a traceback, and keeps them out of its failure metrics. The activity still logs
one line. A contract error or a busy store stays loud."""

store_activity = activity.defn(no_thread_cancel_exception=True)
"""A synchronous activity over a store.

By default the SDK cancels a sync activity by raising CancelledError asynchronously in its thread,
which could land between a SQLite BEGIN and COMMIT. Store writes are short and atomic, so they
run to the end; the one long wait (the carrier booking) checks for cancellation itself."""


@contextmanager
def store_failures(order_id: str) -> Iterator[None]:
    """Raise a store's refusal as an ApplicationError typed with the refusal's stable name:
    non-retryable for a business answer or a contract bug, retryable for a busy store or a
    gateway time-out."""
    try:
        yield
    except StoreError as error:
        message = str(error) if order_id in str(error) else f"order {order_id}: {error}"
        retry = "will retry" if error.retryable else "will not retry"
        log = activity.logger.info if error.error_type in _EXPECTED else activity.logger.warning
        log("%s (%s, %s)", message, error.error_type, retry)
        raise ApplicationError(
            message,
            type=error.error_type,
            non_retryable=not error.retryable,
            category=(
                ApplicationErrorCategory.BENIGN
                if error.error_type in _EXPECTED
                else ApplicationErrorCategory.UNSPECIFIED
            ),
        ) from error


class HandResolutions(Protocol):
    def record_resolved_by_hand(self, request: RecordResolvedByHand) -> None: ...


def record_resolution(store: HandResolutions, request: RecordResolvedByHand) -> None:
    """Put on record what a person undid by hand (the store's effects untouched); a
    compensation of another service is refused (a contract error: wrong task queue)."""
    with store_failures(request.order_id):
        store.record_resolved_by_hand(request)
    activity.logger.info(
        "order %s: %s done by hand, says %s",
        request.order_id,
        request.compensation.what,
        request.resolved_by,
    )
