"""Plays the person in a scenario: waits until the order reaches the stage where they act, then
approves, rejects or cancels through the same updates the command-line tools send."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import Client

from domain.commands import UPDATE_APPROVE, UPDATE_CANCEL, UPDATE_REJECT, Approve, Cancel, Reject
from domain.scenarios import Actor, Scenario
from domain.status import OrderStatus
from infra.cli import RefusedError
from starters.order_client import order_status, send_update

POLL_INTERVAL = timedelta(milliseconds=200)

_ACTIONS: dict[Actor, tuple[str, BaseModel]] = {
    Actor.APPROVER_APPROVES: (UPDATE_APPROVE, Approve(approver="demo-approver", comment="fine")),
    Actor.APPROVER_REJECTS: (UPDATE_REJECT, Reject(approver="demo-approver", reason="too large")),
    Actor.CUSTOMER_CANCELS: (UPDATE_CANCEL, Cancel(requested_by="customer", reason="changed mind")),
}


async def play_actor(
    client: Client, scenario: Scenario, order_id: str, patience: timedelta = timedelta(minutes=2)
) -> None:
    if scenario.actor is Actor.NOBODY or scenario.acts_at is None:
        return
    await wait_for_status(client, order_id, scenario.acts_at, patience)
    if scenario.actor is Actor.APPROVER_APPROVES:
        await send_update(
            client,
            order_id,
            UPDATE_APPROVE,
            Approve(approver="demo-approver", comment="looks fine"),
        )
    elif scenario.actor is Actor.APPROVER_REJECTS:
        await send_update(
            client, order_id, UPDATE_REJECT, Reject(approver="demo-approver", reason="too large")
        )
    elif scenario.actor is Actor.CUSTOMER_CANCELS:
        await send_update(
            client,
            order_id,
            UPDATE_CANCEL,
            Cancel(requested_by="customer", reason="changed my mind"),
        )


async def wait_for_status(
    client: Client, order_id: str, status: OrderStatus, patience: timedelta
) -> None:
    """Poll the status query, as a person refreshing a page would."""
    async with asyncio.timeout(patience.total_seconds()):
        while True:
            view = await order_status(client, order_id)
            if view.status is status:
                return
            if view.status.is_final:
                raise RefusedError(
                    f"order {order_id} ended ({view.status.value}) before reaching {status.value}"
                )
            await asyncio.sleep(POLL_INTERVAL.total_seconds())
