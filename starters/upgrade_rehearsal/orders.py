"""The orders the rehearsal places on each build, what each waits for across the upgrade, and
what it must show once it has ended: every one of its workflows on the build it started on, and
that build's behaviour."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from temporalio.client import Client

from client.event_signals import event_signals
from client.orders import PlacedOrder, order_status, place_order
from domain.events.contract import EventType
from domain.events.envelope import EventEnvelope, Party
from domain.faults import Faults
from domain.messages.notifications import NotificationKind
from domain.order import Order, OrderTimeouts
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style, order_workflow_id, shipment_workflow_id
from domain.status import OrderStatus
from starters.upgrade_rehearsal.builds import V2, V2_EVENT_FIELD, V2_NOTICE
from stores.notifications import NotificationsStore
from workflows.choreography.inbox import single_event


class Wait(StrEnum):
    """What an order placed before the upgrade is waiting for while the upgrade happens."""

    APPROVAL = "approval"
    CARRIER = "carrier"

    @property
    def status(self) -> OrderStatus:
        """The order's status while it waits."""
        return OrderStatus.AWAITING_APPROVAL if self is Wait.APPROVAL else OrderStatus.DISPATCHED


LONG_WAITS = OrderTimeouts(
    approval_window=timedelta(minutes=30),
    handling_time=timedelta(milliseconds=500),
    delivery_deadline=timedelta(minutes=30),
    lost_after=timedelta(hours=1),
)
"""No deadline falls within the rehearsal: an order ends because it was approved or delivered,
never because the upgrade took long."""


def order_that_waits(wait: Wait, build_id: str, style: Style) -> Order:
    """A large order (approval) or a small one (the carrier), with the rehearsal's long waits."""
    scenario = SCENARIOS_BY_NAME["approval_granted" if wait is Wait.APPROVAL else "happy"]
    order_id = f"{build_id}-{style.value[:5]}-{wait.value}-{uuid.uuid4().hex[:6]}"
    return dataclasses.replace(scenario, timeouts=LONG_WAITS, faults=Faults()).order(order_id)


@dataclass(frozen=True)
class RehearsedOrder:
    placed: PlacedOrder
    wait: Wait
    build_id: str
    """The build that was current when it was placed: the one it must run on to the end."""
    when: str
    """At which point of the upgrade it was placed."""

    @property
    def order_id(self) -> str:
        return self.placed.order_id


async def place_orders_that_wait(
    client: Client, build_id: str, when: str, waits: Sequence[Wait] = tuple(Wait)
) -> list[RehearsedOrder]:
    """One order of each style for each of `waits`, placed while `build_id` is current."""
    return [
        RehearsedOrder(
            await place_order(client, order_that_waits(wait, build_id, style), style),
            wait,
            build_id,
            when,
        )
        for style in Style
        for wait in waits
    ]


async def is_waiting(client: Client, order: RehearsedOrder) -> bool:
    return (await order_status(client, order.order_id)).status is order.wait.status


def workflow_ids(order: RehearsedOrder) -> list[str]:
    """Every workflow a delivered order has in its style."""
    order_id = order.order_id
    match order.placed.style:
        case Style.ORCHESTRATED:
            return [order_workflow_id(order_id), shipment_workflow_id(order_id)]
        case Style.HYBRID:
            warehouse = [party for party in Party if party.is_warehouse]
            return [order_workflow_id(order_id), *(p.workflow_id(order_id) for p in warehouse)]
        case Style.CHOREOGRAPHED:
            return [Party(service.value).workflow_id(order_id) for service in Service]


async def builds_run_on(client: Client, order: RehearsedOrder) -> dict[str, str]:
    """Each of the order's workflows, with the build it ran on (as the server recorded it)."""
    builds: dict[str, str] = {}
    for workflow_id in workflow_ids(order):
        description = await client.get_workflow_handle(workflow_id).describe()
        info = description.raw_description.workflow_execution_info.versioning_info
        builds[workflow_id] = info.deployment_version.build_id or "unversioned"
    return builds


def dispatch_notice(store: NotificationsStore, order: RehearsedOrder) -> str | None:
    """The body of the notice that told the customer the parcel left."""
    bodies = [
        m.body
        for m in store.messages(order.order_id)
        if m.kind is NotificationKind.ORDER_DISPATCHED
    ]
    return bodies[0] if bodies else None


async def dispatch_event_fields(client: Client, order: RehearsedOrder) -> set[str] | None:
    """The payload fields of the `ShipmentDispatched` event the notifications participant
    received (the choreographed style's; None in the others, which publish no such event)."""
    if order.placed.style is not Style.CHOREOGRAPHED:
        return None
    workflow_id = Party.NOTIFICATIONS.workflow_id(order.order_id)
    async for signal in event_signals(client, workflow_id):
        envelope = EventEnvelope.model_validate(single_event(signal.arguments))
        if envelope.type == EventType.SHIPMENT_DISPATCHED.value:
            return set(envelope.payload)
    return set()


@dataclass(frozen=True)
class Verdict:
    order: RehearsedOrder
    ended_as: str
    builds: dict[str, str]
    notice: str | None
    event_fields: set[str] | None

    @property
    def surprises(self) -> list[str]:
        """What is not as the rehearsal expects; none for an order that went right."""
        found: list[str] = []
        if self.ended_as != OrderStatus.COMPLETED.value:
            found.append(f"ended {self.ended_as}, not completed")
        elsewhere = {wf: b for wf, b in self.builds.items() if b != self.order.build_id}
        if elsewhere:
            found.append(
                "ran elsewhere: " + ", ".join(f"{wf} on {b}" for wf, b in elsewhere.items())
            )
        on_v2 = self.order.build_id == V2
        if self.notice is None:
            found.append("no dispatch notice")
        elif (V2_NOTICE in self.notice) != on_v2:
            found.append(f"dispatch notice of the other build: {self.notice!r}")
        if self.event_fields is not None and (V2_EVENT_FIELD in self.event_fields) != on_v2:
            found.append(
                f"ShipmentDispatched of the other build: fields {sorted(self.event_fields)}"
            )
        return found
