from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from domain.messages.resolution import Compensation
from domain.services import Service
from stores.database import (
    IdempotencyConflictError,
    InvalidRequestError,
    StoreLocation,
    is_postgres,
)
from stores.payments import (
    GatewayUnavailableError,
    LedgerKind,
    NothingToCaptureError,
    PaymentClosedError,
    PaymentDeclinedError,
    PaymentsStore,
    PaymentState,
    VoidRefusedError,
)
from tests.resolutions import by_hand
from tests.stores.conftest import Locate

TOKEN = SecretStr("tok_visa_4242424242424242")


def kinds(store: PaymentsStore, order_id: str) -> list[LedgerKind]:
    return [entry.kind for entry in store.ledger(order_id)]


def everything_stored(location: StoreLocation) -> bytes:
    """Every byte the payments store keeps: its SQLite files, or every row of its schema."""
    if not is_postgres(location):
        path = Path(location)
        return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))
    assert isinstance(location, str)
    with psycopg.connect(location) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (Service.PAYMENTS.value,),
        ).fetchall()
        rows = [
            connection.execute(
                sql.SQL("SELECT row_to_json(t)::text FROM {} t").format(
                    sql.Identifier(Service.PAYMENTS.value, table)
                )
            ).fetchall()
            for (table,) in tables
        ]
    return "\n".join(str(row) for table_rows in rows for row in table_rows).encode()


def test_authorize_keeps_a_fingerprint_never_the_token(
    payments: PaymentsStore, locate: Locate
) -> None:
    result = payments.authorize("order-1", 5_000, TOKEN)
    payment = payments.payment("order-1")
    assert payment is not None
    assert payment.state is PaymentState.AUTHORIZED
    assert payment.authorization_id == result.authorization_id
    assert payment.token_fingerprint
    assert len(payment.token_fingerprint) == 16
    stored = everything_stored(locate(Service.PAYMENTS))
    assert payment.token_fingerprint.encode() in stored  # what was read is the store's
    assert TOKEN.get_secret_value().encode() not in stored


def test_a_repeated_authorize_returns_the_same_authorization(payments: PaymentsStore) -> None:
    first = payments.authorize("order-1", 5_000, TOKEN)
    second = payments.authorize("order-1", 5_000, TOKEN)
    assert first == second
    assert kinds(payments, "order-1") == [LedgerKind.AUTHORIZE]
    assert payments.gateway_calls("order-1") == 1


def test_a_repeated_authorize_for_another_amount_is_a_conflict(payments: PaymentsStore) -> None:
    payments.authorize("order-1", 5_000, TOKEN)
    with pytest.raises(IdempotencyConflictError, match="5000"):
        payments.authorize("order-1", 6_000, TOKEN)


def test_the_gateway_times_out_then_answers(payments: PaymentsStore) -> None:
    for call in (1, 2):
        with pytest.raises(GatewayUnavailableError, match=f"failure {call} of 2"):
            payments.authorize("order-1", 5_000, TOKEN, simulate_transient_errors=2)
    result = payments.authorize("order-1", 5_000, TOKEN, simulate_transient_errors=2)
    assert result.amount_cents == 5_000
    assert payments.gateway_calls("order-1") == 3


def test_a_decline_is_recorded_and_repeated(payments: PaymentsStore) -> None:
    with pytest.raises(PaymentDeclinedError, match="order-1"):
        payments.authorize("order-1", 5_000, TOKEN, simulate_decline=True)
    with pytest.raises(PaymentDeclinedError):
        payments.authorize("order-1", 5_000, TOKEN)
    payment = payments.payment("order-1")
    assert payment is not None
    assert payment.state is PaymentState.DECLINED
    assert payments.ledger("order-1") == []
    assert payments.reverse("order-1").action == "nothing"


def test_capture_takes_the_money_once(payments: PaymentsStore) -> None:
    payments.authorize("order-1", 5_000, TOKEN)
    assert payments.capture("order-1").amount_cents == 5_000
    assert payments.capture("order-1").amount_cents == 5_000
    assert kinds(payments, "order-1") == [LedgerKind.AUTHORIZE, LedgerKind.CAPTURE]
    assert payments.net_captured("order-1") == 5_000


def test_capture_needs_an_open_authorization(payments: PaymentsStore) -> None:
    with pytest.raises(NothingToCaptureError, match="no payment"):
        payments.capture("order-1")
    payments.authorize("order-2", 5_000, TOKEN)
    payments.reverse("order-2")
    with pytest.raises(NothingToCaptureError, match="voided"):
        payments.capture("order-2")


def test_reverse_voids_an_open_authorization_once(payments: PaymentsStore) -> None:
    payments.authorize("order-1", 5_000, TOKEN)
    first = payments.reverse("order-1")
    second = payments.reverse("order-1")
    assert first == second
    assert (first.action, first.amount_cents) == ("voided", 5_000)
    assert kinds(payments, "order-1") == [LedgerKind.AUTHORIZE, LedgerKind.VOID]


def test_reverse_refunds_a_capture_once(payments: PaymentsStore) -> None:
    payments.authorize("order-1", 5_000, TOKEN)
    payments.capture("order-1")
    first = payments.reverse("order-1")
    assert first == payments.reverse("order-1")
    assert (first.action, first.amount_cents) == ("refunded", 5_000)
    assert kinds(payments, "order-1").count(LedgerKind.REFUND) == 1
    assert payments.net_captured("order-1") == 0


def test_reverse_of_nothing_closes_the_order(payments: PaymentsStore) -> None:
    """The zombie: authorize commits after the compensation found nothing to reverse."""
    result = payments.reverse("order-1")
    assert (result.action, result.amount_cents) == ("nothing", 0)
    with pytest.raises(PaymentClosedError, match="refused"):
        payments.authorize("order-1", 5_000, TOKEN)
    assert payments.ledger("order-1") == []
    assert payments.gateway_calls("order-1") == 0


def test_a_late_authorize_after_a_void_is_refused(payments: PaymentsStore) -> None:
    payments.authorize("order-1", 5_000, TOKEN)
    payments.reverse("order-1")
    with pytest.raises(PaymentClosedError):
        payments.authorize("order-1", 5_000, TOKEN)
    assert kinds(payments, "order-1") == [LedgerKind.AUTHORIZE, LedgerKind.VOID]


# The gateway refusing voids (`faults.void_refusals`), and a void done by hand.


def test_the_gateway_refuses_to_void_as_planned_then_voids(payments: PaymentsStore) -> None:
    authorization = payments.authorize("order-1", 5_000, TOKEN, simulate_void_refusals=2)
    for refusal in (1, 2):
        with pytest.raises(VoidRefusedError) as raised:
            payments.reverse("order-1")
        assert str(raised.value) == (
            f"the gateway refused to void authorization {authorization.authorization_id} of "
            f"order order-1 (refusal {refusal} of 2)"
        )
        payment = payments.payment("order-1")
        assert payment is not None
        assert payment.state is PaymentState.AUTHORIZED
    assert payments.gateway_calls("order-1") == 3  # the authorize, then each refusal
    result = payments.reverse("order-1")
    assert (result.action, result.amount_cents) == ("voided", 5_000)
    assert payments.reverse("order-1") == result
    assert kinds(payments, "order-1") == [LedgerKind.AUTHORIZE, LedgerKind.VOID]
    assert payments.gateway_calls("order-1") == 3
    with pytest.raises(PaymentClosedError):
        payments.authorize("order-1", 5_000, TOKEN, simulate_void_refusals=2)


def test_a_refund_of_a_capture_is_never_refused(payments: PaymentsStore) -> None:
    payments.authorize("order-1", 5_000, TOKEN, simulate_void_refusals=3)
    payments.capture("order-1")
    assert payments.reverse("order-1").action == "refunded"
    assert payments.net_captured("order-1") == 0
    assert payments.gateway_calls("order-1") == 1


def test_a_repeated_authorize_keeps_the_first_plan(payments: PaymentsStore) -> None:
    """A retried authorize returns the authorization, refusals planned and all: no second plan."""
    payments.authorize("order-1", 5_000, TOKEN, simulate_void_refusals=1)
    payments.authorize("order-1", 5_000, TOKEN, simulate_void_refusals=1)
    with pytest.raises(VoidRefusedError, match="refusal 1 of 1"):
        payments.reverse("order-1")
    assert payments.reverse("order-1").action == "voided"


def test_a_decline_or_nothing_to_void_is_never_refused(payments: PaymentsStore) -> None:
    with pytest.raises(PaymentDeclinedError):
        payments.authorize("order-1", 5_000, TOKEN, simulate_decline=True, simulate_void_refusals=2)
    assert payments.reverse("order-1").action == "nothing"
    assert payments.reverse("order-2").action == "nothing"


def test_a_void_by_hand_is_recorded_once_and_leaves_the_ledger(payments: PaymentsStore) -> None:
    payments.authorize("order-1", 5_000, TOKEN, simulate_void_refusals=1)
    with pytest.raises(VoidRefusedError):
        payments.reverse("order-1")
    payments.record_resolved_by_hand(by_hand(Compensation.VOID_PAYMENT))
    payments.record_resolved_by_hand(by_hand(Compensation.VOID_PAYMENT))
    assert payments.resolutions("order-1") == [by_hand(Compensation.VOID_PAYMENT)]
    payment = payments.payment("order-1")
    assert payment is not None
    assert payment.state is PaymentState.AUTHORIZED
    assert kinds(payments, "order-1") == [LedgerKind.AUTHORIZE]


def test_a_void_by_hand_with_another_note_is_a_conflict(payments: PaymentsStore) -> None:
    payments.record_resolved_by_hand(by_hand(Compensation.VOID_PAYMENT))
    with pytest.raises(IdempotencyConflictError, match="already resolved by hand by ada"):
        payments.record_resolved_by_hand(
            by_hand(Compensation.VOID_PAYMENT, note="no, it was refunded")
        )
    assert payments.resolutions("order-1") == [by_hand(Compensation.VOID_PAYMENT)]


def test_a_void_by_hand_of_nothing_closes_the_order(payments: PaymentsStore) -> None:
    """Nothing was authorized yet: a late authorize must not hold money for a given-up order."""
    payments.record_resolved_by_hand(by_hand(Compensation.VOID_PAYMENT))
    with pytest.raises(PaymentClosedError):
        payments.authorize("order-1", 5_000, TOKEN)
    assert payments.ledger("order-1") == []


def test_another_services_compensation_is_not_recorded_here(payments: PaymentsStore) -> None:
    with pytest.raises(
        InvalidRequestError, match="release_stock is a compensation of inventory, not of payments"
    ):
        payments.record_resolved_by_hand(by_hand(Compensation.RELEASE_STOCK))
    assert payments.resolutions("order-1") == []
    assert payments.payment("order-1") is None
