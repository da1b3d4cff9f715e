"""A saga: the compensations of the steps taken so far, undone in reverse when the order fails.

Each compensation is registered *before* its step runs. If the step's outcome is unknown (it
timed out, or the workflow was cancelled while it ran) the compensation still runs; every
compensation is idempotent and a no-op when its step never happened, so registering early is
always safe, and registering late could leak an effect.

A compensation that cannot succeed (a business refusal, or failing past its budget) does not stop
the others: it is parked, and the order waits for a person (`workflows.parking`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

from domain.messages.resolution import Compensation
from workflows.failures import failure_message

T = TypeVar("T")


@dataclass(frozen=True)
class Step:
    compensation: Compensation
    undo: Callable[[], Awaitable[object]]

    @property
    def what(self) -> str:
        return self.compensation.what


@dataclass(frozen=True)
class Parked:
    """A compensation that failed, why, and since when: it waits for a person."""

    step: Step
    why: str
    since: datetime


class Saga:
    def __init__(self, on_compensated: Callable[[str], None] | None = None) -> None:
        self._stack: list[Step] = []
        self._on_compensated = on_compensated

    def before_step(
        self, compensation: Compensation, undo: Callable[[], Awaitable[object]]
    ) -> None:
        """Register how to undo the step about to run."""
        self._stack.append(Step(compensation, undo))

    def pivot(self) -> None:
        """The point of no return: what is done now stays done, the process only goes forward."""
        self._stack.clear()

    @property
    def pending(self) -> list[str]:
        return [step.what for step in reversed(self._stack)]

    async def compensate(self) -> list[Parked]:
        """Undo in reverse order; return the compensations that failed, parked. Each undo
        retries transient failures within its budget (its activity's policy); one that fails
        does not stop those after it."""
        parked = []
        while self._stack:
            step = self._stack.pop()
            failed = await self.attempt(step)
            if failed is not None:
                parked.append(failed)
        return parked

    async def attempt(self, step: Step) -> Parked | None:
        """Run one undo: None once done, or the step parked with why it failed. A cancel of the
        workflow is no failure of the undo, and is raised as it came."""
        try:
            await step.undo()
        except ActivityError as failure:
            if is_cancelled_exception(failure):
                raise
            return Parked(step, failure_message(failure), workflow.now())
        if self._on_compensated:
            self._on_compensated(step.what)
        return None


async def to_the_end(awaitable: Awaitable[T], on_cancel: Callable[[], None]) -> T:
    """Run `awaitable` to its end, whatever cancel of the workflow comes meanwhile; each cancel
    that comes is noted (`on_cancel`) and changes nothing.

    What must not be cut short runs so: the process past the pivot (once the parcel is on its
    way, cancelling the workflow cannot bring it back: the order is driven to its end), the undo
    of an order and its end (a cancel that comes while the saga compensates must not skip the
    compensations left, nor the outcome), and the order's first record.
    """
    task = asyncio.ensure_future(awaitable)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            on_cancel()
