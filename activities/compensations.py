"""What compensates what, declared once: the activity that undoes each step an order may need
undone, and the activity by which each service puts on record a compensation a person did by
hand. The workflows reach these through their service calls (`workflows.services`); this
table is what the trace reads to mark them as compensations, and a test holds that every
`Compensation` has one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.common import activity_name
from activities.inventory import InventoryActivities
from activities.payments import PaymentsActivities
from activities.shipping import ShippingActivities
from domain.messages.resolution import Compensation, RecordResolvedByHand
from domain.services import Service

COMPENSATING_ACTIVITY: dict[Compensation, Callable[..., Any]] = {
    Compensation.RELEASE_STOCK: InventoryActivities.release_stock,
    Compensation.VOID_PAYMENT: PaymentsActivities.reverse_payment,
    Compensation.CANCEL_SHIPMENT: ShippingActivities.cancel_shipment,
}
"""`reverse_payment` also refunds a captured payment (a lost parcel): an undoing too, after the
pivot, which the trace shows as one."""

COMPENSATING_ACTIVITY_NAMES = frozenset(map(activity_name, COMPENSATING_ACTIVITY.values()))

RECORD_RESOLVED_BY_HAND: dict[Service, Callable[[Any, RecordResolvedByHand], None]] = {
    Service.INVENTORY: InventoryActivities.record_resolved_by_hand,
    Service.PAYMENTS: PaymentsActivities.record_resolved_by_hand,
}
"""The services whose compensations may be parked for a person (shipping's is retried until
done), each with its own activity: the same name, on its own task queue."""
