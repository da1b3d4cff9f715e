"""One order's life in the run: placed (once, whatever the outage did to the answer), its
scenario's person and its disturbance set going, and held until it settles, so that the run
keeps a bounded number of orders in flight."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from chaos.disturb import Hands, disturb, play_person
from chaos.plan import OrderPlan
from chaos.resilience import patiently
from client.orders import PlacedOrder, lifecycle_workflow_id, place_order
from infra.cli import BadInputError


@dataclass(frozen=True)
class Placement:
    plan: OrderPlan
    error: str | None = None
    """Why the order could not be placed; None once it was."""


async def place(hands: Hands, plan: OrderPlan) -> PlacedOrder:
    """Place the order, trying again through an outage. A retry told that the order exists
    already was preceded by an attempt that placed it and lost its answer: it is placed."""
    attempts = 0

    async def once() -> PlacedOrder:
        nonlocal attempts
        attempts += 1
        try:
            return await place_order(hands.client, plan.order, plan.style)
        except BadInputError:
            if attempts == 1:
                raise
            workflow_id = lifecycle_workflow_id(plan.style, plan.order_id)
            return PlacedOrder(plan.order_id, workflow_id, plan.style)

    return await patiently(once)


async def run_order(
    hands: Hands,
    plan: OrderPlan,
    slots: asyncio.Semaphore,
    patience: float,
    on_placed: Callable[[], None],
) -> Placement:
    """Place the order when a slot is free and hold the slot until the order settles (or
    `patience` seconds have passed since it was placed: the run goes on, the verdict will name
    it)."""
    async with slots:
        try:
            placed = await place(hands, plan)
        except Exception as error:  # the verdict counts it as lost, with this
            return Placement(plan, f"{type(error).__name__}: {error}")
        hands.tracker.mark_placed(plan.order_id)
        on_placed()
        deadline = time.monotonic() + patience
        person = asyncio.create_task(play_person(hands, plan, placed))
        disturbance = asyncio.create_task(disturb(hands, plan, placed))
        try:
            await hands.tracker.until_settled(plan.order_id, deadline - time.monotonic())
            await _let_the_person_finish(hands, plan, person, deadline)
        finally:
            for task in (person, disturbance):
                await _end(hands, plan, task)
    return Placement(plan)


async def _end(hands: Hands, plan: OrderPlan, task: asyncio.Task[None]) -> None:
    """Stop what still acts on a settled order; what failed is reported, not raised (one
    order's trouble must not stop the run)."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception as error:
        hands.tally.request_errors.append(f"order {plan.order_id}: {error!r}")


async def _let_the_person_finish(
    hands: Hands, plan: OrderPlan, person: asyncio.Task[None], deadline: float
) -> None:
    """A parked order's scenario may have a person still to act on it (an operator who retries
    the stuck compensation): wait for them, until the deadline. Not for an order the run
    interfered with (the person may wait for a stage it will never reach), nor for one that has
    ended: it needs nobody any more."""
    parked = plan.order_id in hands.tracker.parked
    if parked and not plan.may_change_outcome and not person.done():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(person), max(deadline - time.monotonic(), 0))
