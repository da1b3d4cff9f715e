"""What an order left in the service stores, in terms that do not depend on its id: what the
parity of the styles is measured by."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domain.services import Service
from stores import store_location
from stores.inventory import InventoryStore
from stores.notifications import NotificationsStore
from stores.payments import PaymentsStore, PaymentState
from stores.shipping import ShippingStore


@dataclass(frozen=True)
class StoreEffects:
    reservations: tuple[tuple[str, int, str], ...]
    """(sku, quantity, state) per line."""
    payment_state: str | None
    """`closed` (a tombstone: reversed before anything was authorized) counts as no payment."""
    ledger: tuple[tuple[str, int], ...]
    gateway_calls: int
    shipment_state: str | None
    carrier_events: tuple[str, ...]
    notifications: tuple[tuple[str, str], ...]
    """(kind, recipient) per message."""


def effects_of(data_dir: Path, order_id: str) -> StoreEffects:
    inventory = InventoryStore(store_location(data_dir, Service.INVENTORY))
    payments = PaymentsStore(store_location(data_dir, Service.PAYMENTS))
    shipping = ShippingStore(store_location(data_dir, Service.SHIPPING))
    notifications = NotificationsStore(store_location(data_dir, Service.NOTIFICATIONS))
    payment = payments.payment(order_id)
    shipment = shipping.shipment(order_id)
    return StoreEffects(
        reservations=tuple(
            sorted((r.sku, r.quantity, str(r.state)) for r in inventory.reservations(order_id))
        ),
        payment_state=(
            None if payment is None or payment.state is PaymentState.CLOSED else str(payment.state)
        ),
        ledger=tuple(sorted((str(e.kind), e.amount_cents) for e in payments.ledger(order_id))),
        gateway_calls=payments.gateway_calls(order_id),
        shipment_state=None if shipment is None else str(shipment.state),
        carrier_events=tuple(sorted(str(r.kind) for r in shipping.carrier_events(order_id))),
        notifications=tuple(
            sorted((str(m.kind), m.recipient) for m in notifications.messages(order_id))
        ),
    )
