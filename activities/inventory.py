"""inventory's activities: reserve stock, release it (compensation), consume it at dispatch, and
record a release a person did by hand when the saga could not."""

from __future__ import annotations

from temporalio import activity

from activities.common import record_resolution, service_activities, store_activity, store_failures
from domain.messages.common import OrderRef
from domain.messages.inventory import (
    ConsumeResult,
    ReleaseResult,
    ReservationResult,
    ReserveStock,
    StockLine,
)
from domain.messages.resolution import RecordResolvedByHand
from domain.services import Service
from infra.metrics import count_compensation
from stores.inventory import InventoryStore


@service_activities(Service.INVENTORY)
class InventoryActivities:
    def __init__(self, store: InventoryStore) -> None:
        self._store = store

    @store_activity
    def reserve_stock(self, request: ReserveStock) -> ReservationResult:
        with store_failures(request.order_id):
            result = self._store.reserve(
                request.order_id, request.lines, request.simulate_out_of_stock
            )
        activity.logger.info("order %s: reserved %s", request.order_id, _describe(result.lines))
        return result

    @store_activity
    def release_stock(self, request: OrderRef) -> ReleaseResult:
        with store_failures(request.order_id):
            result = self._store.release(request.order_id)
        count_compensation("release_stock", undid=result.released_units > 0)
        activity.logger.info("order %s: released %d units", request.order_id, result.released_units)
        return result

    @store_activity
    def consume_stock(self, request: OrderRef) -> ConsumeResult:
        with store_failures(request.order_id):
            result = self._store.consume(request.order_id)
        activity.logger.info("order %s: consumed %d units", request.order_id, result.consumed_units)
        return result

    @store_activity
    def record_resolved_by_hand(self, request: RecordResolvedByHand) -> None:
        """The stock a person put back outside the system: on record, the stock untouched."""
        record_resolution(self._store, request)


def _describe(lines: list[StockLine]) -> str:
    return ", ".join(f"{line.quantity} x {line.sku}" for line in lines)
