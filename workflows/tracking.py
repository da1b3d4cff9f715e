"""An order's status and timeline as the workflow that owns its lifecycle sees them.

Every change of status is also written to the `OrderStatus` search attribute and to the
workflow's current details, so the Temporal UI's list and the workflow's page stay current.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from domain import search_attributes
from domain.events.progress import moves_forward
from domain.money import format_cents
from domain.order import Address, Order
from domain.policy import needs_approval
from domain.services import Service, Style
from domain.status import CancelReason, OrderStatus
from domain.views import EntryKind, OrderOutcome, OrderView, TimelineEntry
from workflows.choreography.versions import CANCEL_SAFE
from workflows.status_attribute import StatusAttribute


class OrderTracker:
    def __init__(self, order: Order, style: Style) -> None:
        self._order = order
        self._style = style
        self.status = OrderStatus.PLACED
        self.reason: CancelReason | None = None
        self.reason_detail: str | None = None
        self.address: Address = order.shipping_address
        self._waiting_for: str | None = None
        self._deadline: datetime | None = None
        self._timeline: list[TimelineEntry] = []
        self._status_attribute = StatusAttribute()
        self._lean = False
        """`go_lean` was called: `LEAN_HISTORY` or `LEAN_EVENTS`, each of which implies
        `CANCEL_SAFE`."""

    def start(self) -> None:
        """Tag the workflow with the order's search attributes (a starter may already have)."""
        if workflow.info().typed_search_attributes.get(search_attributes.ORDER_ID) is None:
            workflow.upsert_search_attributes(
                [
                    search_attributes.ORDER_ID.value_set(self._order.order_id),
                    search_attributes.ORDER_STYLE.value_set(self._style.value),
                    search_attributes.CUSTOMER_ID.value_set(self._order.customer.id),
                    search_attributes.ORDER_STATUS.value_set(self.status.value),
                ]
            )
        self.record(EntryKind.STEP, "order placed", Service.ORDERS, self._summary())
        self._publish_details()

    def go_lean(self) -> None:
        """`LEAN_HISTORY` or `LEAN_EVENTS` (each implies `CANCEL_SAFE`): from now on, write the
        status search attribute once for a run of changes (`StatusAttribute`)."""
        self._status_attribute.coalesce()
        self._lean = True

    def advance(
        self,
        status: OrderStatus,
        what: str,
        service: Service | None = None,
        detail: str | None = None,
    ) -> None:
        self.status = status
        self._waiting_for = None
        self._deadline = None
        self.record(EntryKind.STEP, what, service, detail)
        self._status_attribute.set(status)
        self._publish_details()

    def advance_if_forward(
        self, status: OrderStatus, what: str, service: Service, detail: str | None = None
    ) -> None:
        """Advance to `status` if it is ahead of where the order stands, else only record the
        report: one that comes late (a pickup after the deadline passed, a hand-over heard after
        the parcel travels) never takes the order back. (Orders placed before `CANCEL_SAFE`
        took any report's status.)"""
        cancel_safe = self._lean or workflow.patched(CANCEL_SAFE)
        ahead = moves_forward(self.status, status) or not cancel_safe
        if ahead and not self.status.is_final:
            self.advance(status, what, service, detail)
        else:
            self.record(EntryKind.SIGNAL, what, service, detail)

    def waiting(self, for_what: str, deadline: datetime | None) -> None:
        self._waiting_for = for_what
        self._deadline = deadline
        self._publish_details()

    def cancelled(self, reason: CancelReason, detail: str) -> None:
        self.reason = reason
        self.reason_detail = detail
        self.advance(OrderStatus.CANCELLED, f"cancelled: {reason.value}", Service.ORDERS, detail)

    def completed(self, late: bool) -> OrderOutcome:
        """The parcel arrived: the order is complete."""
        detail = "delivered late" if late else "delivered on time"
        self.advance(OrderStatus.COMPLETED, "order completed", Service.ORDERS, detail)
        return OrderOutcome(
            order_id=self._order.order_id,
            status="completed",
            total_cents=self._order.total_cents,
            delivered_late=late,
        )

    def lost(self, refund_action: str, refund_cents: int) -> OrderOutcome:
        """The parcel never arrived and the customer was refunded: the order is cancelled."""
        self.record(
            EntryKind.STEP,
            "payment refunded",
            Service.PAYMENTS,
            f"{refund_action} {format_cents(refund_cents)}",
        )
        self.cancelled(CancelReason.LOST_IN_TRANSIT, "the carrier lost the parcel")
        return self.cancelled_outcome()

    def cancelled_outcome(self) -> OrderOutcome:
        return OrderOutcome(
            order_id=self._order.order_id,
            status="cancelled",
            reason=self.reason or CancelReason.WORKFLOW_CANCELLED,
            detail=self.reason_detail,
            total_cents=self._order.total_cents,
        )

    def note_ignored_cancel(self) -> None:
        """A cancellation of the workflow after the pivot: noted, and the order goes on."""
        self.record(
            EntryKind.DECISION,
            "workflow cancellation ignored",
            Service.ORDERS,
            "the order is past dispatch: it can only go forward",
        )

    def note_cancel_while_undoing(self) -> None:
        """A cancellation of the workflow while the order is being undone or ended: noted, and
        every compensation left and the order's end still run."""
        self.record(
            EntryKind.DECISION,
            "workflow cancellation noted",
            Service.ORDERS,
            "the order is already being cancelled: every compensation and its end still run",
        )

    def record(
        self,
        kind: EntryKind,
        what: str,
        service: Service | None = None,
        detail: str | None = None,
    ) -> None:
        self._timeline.append(
            TimelineEntry(at=workflow.now(), kind=kind, what=what, service=service, detail=detail)
        )

    def view(self) -> OrderView:
        return OrderView(
            order_id=self._order.order_id,
            style=self._style,
            status=self.status,
            reason=self.reason,
            customer_id=self._order.customer.id,
            total_cents=self._order.total_cents,
            needs_approval=needs_approval(self._order.total_cents),
            shipping_address=self.address.one_line(),
            waiting_for=self._waiting_for,
            deadline=self._deadline,
            timeline=list(self._timeline),
        )

    def _summary(self) -> str:
        items = ", ".join(f"{item.quantity} x {item.sku}" for item in self._order.items)
        return f"{items}; total {format_cents(self._order.total_cents)}"

    def _publish_details(self) -> None:
        lines = [f"**{self.status.value}**"]
        if self.reason:
            lines.append(f"reason: {self.reason.value}")
        if self._waiting_for:
            until = f" until {self._deadline.isoformat()}" if self._deadline else ""
            lines.append(f"waiting for {self._waiting_for}{until}")
        lines.append(f"order {self._order.order_id} ({self._style.value}): {self._summary()}")
        workflow.set_current_details("\n\n".join(lines))
