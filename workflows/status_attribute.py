"""The `OrderStatus` search attribute of a workflow, written once for a run of changes.

A list query (`OrderStatus = "dispatched"`) sees a workflow only as its last completed workflow
task left it: two status changes in one task (the payment authorized, then dispatch begins) are
one change to anyone listing orders, yet each upsert is a history event and a billable action.
So a change is written once the code that made it has run as far as it can without waiting
(the end of the current round of the workflow's event loop), and only if the status differs
from the one already written: changes made one after another with no wait between them are
one write. Changes split by a wait that the same task resolves (a condition already true, a
local activity) may still be written one each; none is ever lost.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

from domain import search_attributes
from domain.status import OrderStatus


class StatusAttribute:
    """Written at every `set` (as workflows started before `LEAN_HISTORY` and `LEAN_EVENTS`
    did, whose histories must replay), until `coalesce` makes it write once for a run of
    changes, and never the status already written."""

    def __init__(self) -> None:
        self._coalescing = False
        self._written: OrderStatus | None = None
        self._wanted: OrderStatus | None = None
        self._pending = False

    def coalesce(self) -> None:
        """From now on, write once for a run of changes; the workflow's current value counts as
        written."""
        written = workflow.info().typed_search_attributes.get(search_attributes.ORDER_STATUS)
        self._written = self._wanted = OrderStatus(written) if written else None
        self._coalescing = True

    def set(self, status: OrderStatus) -> None:
        """Write `status`: at once, or (coalescing) once the code running now waits, unless a
        later one replaces it."""
        self._wanted = status
        if not self._coalescing:
            self._write()
        elif not self._pending:
            self._pending = True
            # The workflow's event loop runs this after every callback already scheduled, which
            # is before the task's commands go out and before the workflow's completion (itself
            # a callback, scheduled once the run returns: after this one).
            asyncio.get_running_loop().call_soon(self._write)

    def _write(self) -> None:
        self._pending = False
        if self._wanted is None or (self._coalescing and self._wanted == self._written):
            return
        workflow.upsert_search_attributes(
            [search_attributes.ORDER_STATUS.value_set(self._wanted.value)]
        )
        self._written = self._wanted
