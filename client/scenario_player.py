"""Plays the person in a scenario: waits until the order reaches the stage where they act, then
approves, rejects or cancels through the same updates the command-line tools send."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import Client

from client.orders import PlacedOrder, find_order, status_of, update_order
from domain.commands import (
    UPDATE_APPROVE,
    UPDATE_CANCEL,
    UPDATE_REJECT,
    UPDATE_RESOLVE,
    Approve,
    Cancel,
    Reject,
    Resolution,
    Resolve,
)
from domain.scenarios import Actor, Scenario
from domain.status import OrderStatus
from infra.cli import RefusedError

POLL_INTERVAL = timedelta(milliseconds=200)

_ACTIONS: dict[Actor, tuple[str, BaseModel]] = {
    Actor.APPROVER_APPROVES: (
        UPDATE_APPROVE,
        Approve(approver="demo-approver", comment="looks fine"),
    ),
    Actor.APPROVER_REJECTS: (UPDATE_REJECT, Reject(approver="demo-approver", reason="too large")),
    Actor.CUSTOMER_CANCELS: (
        UPDATE_CANCEL,
        Cancel(requested_by="customer", reason="changed my mind"),
    ),
    Actor.OPERATOR_RETRIES: (
        UPDATE_RESOLVE,
        Resolve(action=Resolution.RETRY, resolved_by="demo-operator"),
    ),
}


async def play_actor(
    client: Client,
    scenario: Scenario,
    placed: PlacedOrder,
    patience: timedelta = timedelta(minutes=2),
) -> None:
    if scenario.actor is Actor.NOBODY or scenario.acts_at is None:
        return
    await _act(client, placed, scenario.actor, scenario.acts_at, patience)
    follow_up = scenario.followed_by
    if follow_up is not None:
        await _act(client, placed, follow_up.actor, follow_up.at, patience, follow_up.after)


async def _act(
    client: Client,
    placed: PlacedOrder,
    actor: Actor,
    at: OrderStatus,
    patience: timedelta,
    after: timedelta = timedelta(0),
) -> None:
    await _wait_for(client, placed, at, patience)
    await asyncio.sleep(after.total_seconds())
    update, request = _ACTIONS[actor]
    await update_order(client, placed, update, request)


async def wait_for_status(
    client: Client, order_id: str, status: OrderStatus, patience: timedelta
) -> None:
    """Poll the status query, as a person refreshing a page would."""
    await _wait_for(client, await find_order(client, order_id), status, patience)


async def _wait_for(
    client: Client, placed: PlacedOrder, status: OrderStatus, patience: timedelta
) -> None:
    async with asyncio.timeout(patience.total_seconds()):
        while True:
            try:
                view = await status_of(client, placed)
            except RefusedError:  # not answered (its worker restarts): ask again, as a person would
                await asyncio.sleep(POLL_INTERVAL.total_seconds())
                continue
            if view.status is status:
                return
            if view.status.is_final:
                raise RefusedError(
                    f"order {placed.order_id} ended ({view.status.value}) "
                    f"before reaching {status.value}"
                )
            await asyncio.sleep(POLL_INTERVAL.total_seconds())
