"""payments: a ledger of authorizations, captures, voids and refunds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from domain.base import Model
from domain.order import Cents, OrderId
from domain.payment_token import PaymentToken


class AuthorizePayment(Model):
    order_id: OrderId
    amount_cents: Annotated[int, Field(gt=0)]
    payment_token: PaymentToken
    simulate_decline: bool = False
    simulate_transient_errors: Annotated[int, Field(ge=0)] = 0
    simulate_void_refusals: Annotated[int, Field(ge=0)] = 0
    """How many times the gateway will refuse to void this authorization (`faults.void_refusals`);
    kept with it by the store, since the void comes later and carries only the order id."""


class AuthorizationResult(Model):
    order_id: str
    authorization_id: str
    amount_cents: Cents


class CaptureResult(Model):
    order_id: str
    amount_cents: Cents


class ReversalResult(Model):
    """What reversing a payment did: void an open authorization, refund a capture, or nothing."""

    order_id: str
    action: Literal["voided", "refunded", "nothing"]
    amount_cents: Cents
