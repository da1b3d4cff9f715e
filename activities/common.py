"""What every service's activities share: how they are declared, and how a store's refusal
becomes a failure a workflow can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity
from temporalio.exceptions import ApplicationError

from stores.database import StoreError

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
        activity.logger.warning("%s (%s, %s)", message, error.error_type, retry)
        raise ApplicationError(
            message, type=error.error_type, non_retryable=not error.retryable
        ) from error
