"""What a customer orders: the input of every style."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from domain.base import Model
from domain.faults import Faults
from domain.limits import MAX_WAIT
from domain.money import format_cents
from domain.payment_token import PaymentToken
from domain.personal import PersonalData

OrderId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{2,62}$"),
    Field(description="lower-case letters, digits and dashes, 3 to 63 characters"),
]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")]
MAX_CENTS = 100_000_000_00
Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]


CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""Who the customer is (the `CustomerId` search attribute): not personal data, unlike how to
reach them."""
Email = Annotated[
    str,
    StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254),
    PersonalData.EMAIL,
]


class Customer(Model):
    id: CustomerId
    email: Email


class LineItem(Model):
    sku: Sku
    quantity: Annotated[int, Field(gt=0, le=1000)]
    unit_price_cents: Annotated[int, Field(gt=0, le=10_000_000)]

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class Address(Model):
    recipient: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    line1: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    line2: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    postal_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{2,12}$")]
    country: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Z]{2}$"),
        Field(description="ISO 3166-1 alpha-2 code, e.g. DE"),
    ]

    def one_line(self) -> str:
        parts = [self.recipient, self.line1, self.line2, f"{self.postal_code} {self.city}"]
        return ", ".join(p for p in parts if p) + f", {self.country}"


class OrderTimeouts(Model):
    """How long the order may wait at each stage.

    The defaults are the business's real values. A demo order carries shorter ones so that it
    finishes in seconds; tests keep the real ones and let the time-skipping server jump over them.
    """

    approval_window: Annotated[timedelta, Field(gt=timedelta(0), le=MAX_WAIT)] = timedelta(hours=24)
    handling_time: Annotated[timedelta, Field(ge=timedelta(0), le=MAX_WAIT)] = timedelta(hours=2)
    delivery_deadline: Annotated[timedelta, Field(gt=timedelta(0), le=MAX_WAIT)] = timedelta(days=5)
    lost_after: Annotated[timedelta, Field(gt=timedelta(0), le=MAX_WAIT)] = timedelta(days=14)
    compensation_budget: Annotated[
        timedelta,
        Field(
            gt=timedelta(0),
            le=MAX_WAIT,
            description="how long one compensation may keep failing (a service down, a gateway "
            "timing out) before it is parked for a person",
        ),
    ] = timedelta(hours=1)

    @model_validator(mode="after")
    def _lost_after_the_deadline(self) -> OrderTimeouts:
        if self.lost_after <= self.delivery_deadline:
            raise ValueError("lost_after must be longer than delivery_deadline")
        return self


class Order(Model):
    order_id: OrderId
    customer: Customer
    items: Annotated[list[LineItem], Field(min_length=1, max_length=50)]
    shipping_address: Annotated[Address, PersonalData.ADDRESS]
    payment_token: PaymentToken
    timeouts: OrderTimeouts = OrderTimeouts()
    faults: Faults = Faults()

    @field_validator("items")
    @classmethod
    def _one_line_per_sku(cls, items: list[LineItem]) -> list[LineItem]:
        seen: set[str] = set()
        for item in items:
            if item.sku in seen:
                raise ValueError(f"sku {item.sku} appears twice; put the quantity on one line")
            seen.add(item.sku)
        total = sum(item.total_cents for item in items)
        if total > MAX_CENTS:  # else placed, and its payment fails at every attempt
            raise ValueError(
                f"the order's total, {format_cents(total)}, is above the most one payment may "
                f"be ({format_cents(MAX_CENTS)})"
            )
        return items

    @property
    def total_cents(self) -> int:
        return sum(item.total_cents for item in self.items)
