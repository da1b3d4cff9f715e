"""Every service's store over one data directory, and the questions the workflow tests ask of
them about one order: one set of helpers for every style's tests."""

from __future__ import annotations

from pathlib import Path

from domain.messages.notifications import NotificationKind
from domain.order import Order
from domain.services import Service
from stores import store_path
from stores.inventory import InventoryStore, ReservationState
from stores.notifications import NotificationsStore
from stores.orders import OrdersStore
from stores.payments import LedgerKind, PaymentsStore
from stores.shipping import ShippingStore


class ServiceStores:
    def __init__(self, data_dir: Path) -> None:
        self.orders = OrdersStore(store_path(data_dir, Service.ORDERS))
        self.inventory = InventoryStore(store_path(data_dir, Service.INVENTORY))
        self.payments = PaymentsStore(store_path(data_dir, Service.PAYMENTS))
        self.shipping = ShippingStore(store_path(data_dir, Service.SHIPPING))
        self.notifications = NotificationsStore(store_path(data_dir, Service.NOTIFICATIONS))

    def reservation_states(self, order_id: str) -> set[ReservationState]:
        return {r.state for r in self.inventory.reservations(order_id)}

    def reserved_units(self, order: Order) -> dict[str, int]:
        """Units still held of each of the order's SKUs, by any order."""
        return {item.sku: self.inventory.stock(item.sku).reserved for item in order.items}

    def ledger(self, order_id: str) -> list[LedgerKind]:
        return [entry.kind for entry in self.payments.ledger(order_id)]

    def notification_kinds(self, order_id: str) -> set[NotificationKind]:
        return {message.kind for message in self.notifications.messages(order_id)}

    def notifications_of(self, order_id: str, kind: NotificationKind) -> int:
        return sum(1 for m in self.notifications.messages(order_id) if m.kind is kind)
