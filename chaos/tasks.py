"""Running things at once, and cleaning up after them, the way a run that can be interrupted at
any moment needs: the first failure stops the rest and is raised as itself, and a cleanup runs
to its end even through a second Ctrl-C."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def together(*calls: Coroutine[Any, Any, T]) -> list[T]:
    """The calls' results, in order; the first to fail cancels the others, and its own error is
    raised (a refusal stays a refusal the command reports on one line, not an exception
    group)."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


async def uninterrupted(cleanup: Coroutine[Any, Any, None]) -> None:
    """Run a cleanup to its end even if the run is cancelled (again) meanwhile, then pass the
    cancellation on: a second Ctrl-C must not leave a worker or the dev server behind. The
    cleanup bounds itself (each stop has its grace, then a kill)."""
    task = asyncio.ensure_future(cleanup)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    task.result()
    if cancelled:
        raise asyncio.CancelledError


async def cancelled(*tasks: asyncio.Task[Any]) -> None:
    """Cancel background tasks and wait until they have stopped."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
