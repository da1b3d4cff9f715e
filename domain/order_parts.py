"""The parts of an order a service needs, for the events that hand them over: each is a cut of
`Order` (the same fields, fewer of them), so an event carries no personal data to a service
that does not use it (`domain/personal.py`, checked by the contract)."""

from __future__ import annotations

from domain.base import Model
from domain.faults import Faults
from domain.order import Customer, CustomerId, LineItem, OrderId, OrderTimeouts
from domain.payment_token import PaymentToken


class CustomerRef(Model):
    """Who the customer is, as the search attribute `CustomerId` shows: not how to reach them."""

    id: CustomerId


class OrderLines(Model):
    """What inventory needs: the lines and the order's terms."""

    order_id: OrderId
    customer: CustomerRef
    items: list[LineItem]
    timeouts: OrderTimeouts = OrderTimeouts()
    faults: Faults = Faults()

    @property
    def total_cents(self) -> int:
        return sum(item.total_cents for item in self.items)


class PaymentOrder(OrderLines):
    """What payments needs: the lines (the total) and the token, sealed for it."""

    payment_token: PaymentToken


class ContactOrder(Model):
    """What notifications needs to write to the customer."""

    order_id: OrderId
    customer: Customer
