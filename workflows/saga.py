"""A saga: the compensations of the steps taken so far, undone in reverse when the order fails.

Each compensation is registered *before* its step runs. If the step's outcome is unknown (it
timed out, or the workflow was cancelled while it ran) the compensation still runs; every
compensation is idempotent and a no-op when its step never happened, so registering early is
always safe, and registering late could leak an effect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Compensation:
    what: str
    undo: Callable[[], Awaitable[object]]


class Saga:
    def __init__(self, on_compensated: Callable[[str], None] | None = None) -> None:
        self._stack: list[Compensation] = []
        self._on_compensated = on_compensated

    def before_step(self, what: str, undo: Callable[[], Awaitable[object]]) -> None:
        """Register how to undo the step about to run."""
        self._stack.append(Compensation(what, undo))

    def pivot(self) -> None:
        """The point of no return: what is done now stays done, the process only goes forward."""
        self._stack.clear()

    @property
    def pending(self) -> list[str]:
        return [compensation.what for compensation in reversed(self._stack)]

    async def compensate(self) -> None:
        """Undo in reverse order. Each undo retries until it succeeds (its activity's policy)."""
        while self._stack:
            compensation = self._stack.pop()
            await compensation.undo()
            if self._on_compensated:
                self._on_compensated(compensation.what)


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
