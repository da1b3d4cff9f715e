"""The demo scenarios: one order each, built to drive one path of the process to its outcome.

A scenario's order carries short timeouts so that the demo finishes in seconds; the tests on the
time-skipping server build orders with the real ones. Where a person has to act (approve, reject,
cancel), the scenario says who does what and when, and the scenario player acts for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from domain.catalog import PRODUCTS_BY_SKU
from domain.faults import CarrierBehaviour, Faults
from domain.order import Address, Customer, LineItem, Order, OrderTimeouts
from domain.status import CancelReason, OrderStatus


class Actor(StrEnum):
    """What a person does during the scenario, once the order reaches `acts_at`."""

    NOBODY = "nobody"
    APPROVER_APPROVES = "approver_approves"
    APPROVER_REJECTS = "approver_rejects"
    CUSTOMER_CANCELS = "customer_cancels"
    OPERATOR_RETRIES = "operator_retries"
    """Retries a parked compensation (`starters.resolve_order --retry`)."""


@dataclass(frozen=True)
class FollowUp:
    """A second person acting later in the scenario: `actor` acts `after` the order reached `at`
    (long enough for someone watching to see it there)."""

    actor: Actor
    at: OrderStatus
    after: timedelta = timedelta(0)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    expected_status: OrderStatus
    expected_reason: CancelReason | None
    items: tuple[tuple[str, int], ...]
    timeouts: OrderTimeouts
    faults: Faults = field(default_factory=Faults)
    actor: Actor = Actor.NOBODY
    acts_at: OrderStatus | None = None
    followed_by: FollowUp | None = None

    @property
    def reaches_dispatch(self) -> bool:
        """Whether the order, left alone, gets as far as dispatch (and so wakes shipping or the
        warehouse): it completes, or its cancellation comes at dispatch or after it."""
        return self.expected_status is OrderStatus.COMPLETED or self.expected_reason in (
            CancelReason.LOST_IN_TRANSIT,
            CancelReason.CARRIER_REJECTED,
        )

    def order(self, order_id: str) -> Order:
        return Order(
            order_id=order_id,
            customer=Customer(id=f"customer-{self.name.replace('_', '-')}", email=DEMO_EMAIL),
            items=[
                LineItem(
                    sku=sku,
                    quantity=quantity,
                    unit_price_cents=PRODUCTS_BY_SKU[sku].unit_price_cents,
                )
                for sku, quantity in self.items
            ],
            shipping_address=DEMO_ADDRESS,
            payment_token=DEMO_TOKEN,
            timeouts=self.timeouts,
            faults=self.faults,
        )


DEMO_EMAIL = "ada@example.com"
DEMO_TOKEN = "tok_demo_4242424242"
"""A test card's token, as the payment form would hand it to the storefront."""
DEMO_ADDRESS = Address(
    recipient="Ada Lovelace",
    line1="12 St James's Square",
    city="London",
    postal_code="SW1Y 4JH",
    country="GB",
)

_DEMO = OrderTimeouts(
    approval_window=timedelta(seconds=60),
    handling_time=timedelta(milliseconds=500),
    delivery_deadline=timedelta(seconds=20),
    lost_after=timedelta(seconds=40),
)
_SMALL = (("KB-001", 1), ("MS-002", 2))
_LARGE = (("WS-004", 1), ("MN-003", 2))

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "happy",
        "everything goes right (the carrier takes a second to confirm: heartbeats)",
        OrderStatus.COMPLETED,
        None,
        _SMALL,
        _DEMO,
        Faults(carrier_booking_latency=timedelta(milliseconds=1500)),
    ),
    Scenario(
        "out_of_stock",
        "a line cannot be reserved: nothing is charged",
        OrderStatus.CANCELLED,
        CancelReason.OUT_OF_STOCK,
        (("KB-001", 1), ("LP-005", 1)),
        _DEMO,
    ),
    Scenario(
        "payment_declined",
        "the card is declined: the stock is released",
        OrderStatus.CANCELLED,
        CancelReason.PAYMENT_DECLINED,
        _SMALL,
        _DEMO,
        Faults(payment_decline=True),
    ),
    Scenario(
        "flaky_payment",
        "the gateway times out twice, then authorizes",
        OrderStatus.COMPLETED,
        None,
        _SMALL,
        _DEMO,
        Faults(payment_transient_errors=2),
    ),
    Scenario(
        "approval_granted",
        "a large order is approved by a person",
        OrderStatus.COMPLETED,
        None,
        _LARGE,
        _DEMO,
        actor=Actor.APPROVER_APPROVES,
        acts_at=OrderStatus.AWAITING_APPROVAL,
    ),
    Scenario(
        "approval_rejected",
        "a large order is rejected: stock released, payment voided",
        OrderStatus.CANCELLED,
        CancelReason.APPROVAL_REJECTED,
        _LARGE,
        _DEMO,
        actor=Actor.APPROVER_REJECTS,
        acts_at=OrderStatus.AWAITING_APPROVAL,
    ),
    Scenario(
        "approval_timeout",
        "nobody decides within the approval window",
        OrderStatus.CANCELLED,
        CancelReason.APPROVAL_TIMEOUT,
        _LARGE,
        _DEMO.model_copy(update={"approval_window": timedelta(seconds=3)}),
    ),
    Scenario(
        "stuck_compensation",
        "a large order is rejected, the gateway refuses the void: parked until an operator retries",
        OrderStatus.CANCELLED,
        CancelReason.APPROVAL_REJECTED,
        _LARGE,
        _DEMO,
        Faults(void_refusals=1),
        actor=Actor.APPROVER_REJECTS,
        acts_at=OrderStatus.AWAITING_APPROVAL,
        followed_by=FollowUp(
            Actor.OPERATOR_RETRIES, OrderStatus.NEEDS_ATTENTION, after=timedelta(seconds=3)
        ),
    ),
    Scenario(
        "customer_cancels",
        "the customer cancels while the parcel is prepared",
        OrderStatus.CANCELLED,
        CancelReason.CUSTOMER_CANCELLED,
        _SMALL,
        _DEMO.model_copy(update={"handling_time": timedelta(minutes=5)}),
        actor=Actor.CUSTOMER_CANCELS,
        acts_at=OrderStatus.AWAITING_DISPATCH,
    ),
    Scenario(
        "carrier_rejects",
        "no carrier takes the parcel at dispatch: the booking, payment and stock are undone",
        OrderStatus.CANCELLED,
        CancelReason.CARRIER_REJECTED,
        _SMALL,
        _DEMO,
        Faults(carrier_rejects=True),
    ),
    Scenario(
        "late_delivery",
        "the carrier misses the deadline: escalated, not undone",
        OrderStatus.COMPLETED,
        None,
        _SMALL,
        _DEMO.model_copy(update={"delivery_deadline": timedelta(seconds=2)}),
        Faults(
            carrier=CarrierBehaviour(
                pickup_after=timedelta(seconds=1), deliver_after=timedelta(seconds=3)
            )
        ),
    ),
    Scenario(
        "lost_parcel",
        "the carrier never delivers: escalated, then refunded",
        OrderStatus.CANCELLED,
        CancelReason.LOST_IN_TRANSIT,
        _SMALL,
        _DEMO.model_copy(
            update={"delivery_deadline": timedelta(seconds=2), "lost_after": timedelta(seconds=4)}
        ),
        Faults(carrier=CarrierBehaviour(pickup_after=timedelta(seconds=1), deliver_after=None)),
    ),
)

SCENARIOS_BY_NAME: dict[str, Scenario] = {scenario.name: scenario for scenario in SCENARIOS}
