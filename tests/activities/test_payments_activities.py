"""The payments activities: the gateway's answers as typed failures, and a token never logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payments import PaymentsActivities
from domain.errors import BusinessError, ContractError, TransientError
from domain.messages.common import OrderRef
from domain.messages.payments import AuthorizePayment
from domain.messages.resolution import Compensation
from infra.token_seal import UnsealingKey
from stores.payments import PaymentsStore, fingerprint
from tests.resolutions import by_hand

TOKEN = "tok_mastercard_5555555555554444"
ORDER = OrderRef(order_id="order-1")


KEY = UnsealingKey(X25519PrivateKey.generate())


@pytest.fixture
def payments(tmp_path: Path) -> PaymentsActivities:
    return PaymentsActivities(PaymentsStore(tmp_path / "payments.sqlite3"), KEY)


def authorize(token: SecretStr | None = None, **faults: object) -> AuthorizePayment:
    sealed = KEY.sealing.seal(SecretStr(TOKEN)) if token is None else token
    return AuthorizePayment.model_validate(
        {"order_id": "order-1", "amount_cents": 12_345, "payment_token": sealed, **faults}
    )


def test_the_sealed_token_is_opened_for_the_ledger_alone(
    payments: PaymentsActivities, tmp_path: Path
) -> None:
    request = authorize()
    assert TOKEN not in request.model_dump_json()
    ActivityEnvironment().run(payments.authorize_payment, request)
    booked = PaymentsStore(tmp_path / "payments.sqlite3").payment("order-1")
    assert booked is not None
    assert booked.token_fingerprint == fingerprint(SecretStr(TOKEN))


def test_a_token_sealed_for_another_key_waits_for_the_right_one(
    payments: PaymentsActivities, tmp_path: Path
) -> None:
    elsewhere = UnsealingKey(X25519PrivateKey.generate()).sealing
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(
            payments.authorize_payment, authorize(elsewhere.seal(SecretStr(TOKEN)))
        )
    assert raised.value.type == TransientError.PAYMENT_KEY_MISMATCH
    assert not raised.value.non_retryable
    assert elsewhere.key_id in raised.value.message
    assert KEY.sealing.key_id in raised.value.message
    assert PaymentsStore(tmp_path / "payments.sqlite3").payment("order-1") is None


def test_a_token_placed_before_sealing_still_pays_and_is_reported(
    payments: PaymentsActivities, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        result = ActivityEnvironment().run(payments.authorize_payment, authorize(SecretStr(TOKEN)))
    assert result.amount_cents == 12_345
    assert [r.getMessage() for r in caplog.records if "unsealed" in r.getMessage()]


def test_gateway_time_outs_are_retryable_then_it_answers(payments: PaymentsActivities) -> None:
    env = ActivityEnvironment()
    for _ in range(2):
        with pytest.raises(ApplicationError) as raised:
            env.run(payments.authorize_payment, authorize(simulate_transient_errors=2))
        assert raised.value.type == TransientError.PAYMENT_GATEWAY_UNAVAILABLE
        assert not raised.value.non_retryable
    result = env.run(payments.authorize_payment, authorize(simulate_transient_errors=2))
    assert result.amount_cents == 12_345


def test_a_decline_is_not_retryable(payments: PaymentsActivities) -> None:
    with pytest.raises(ApplicationError, match="declined") as raised:
        ActivityEnvironment().run(payments.authorize_payment, authorize(simulate_decline=True))
    assert raised.value.type == BusinessError.PAYMENT_DECLINED
    assert raised.value.non_retryable


def test_capture_then_refund_each_once(payments: PaymentsActivities) -> None:
    env = ActivityEnvironment()
    env.run(payments.authorize_payment, authorize())
    assert env.run(payments.capture_payment, ORDER).amount_cents == 12_345
    assert env.run(payments.capture_payment, ORDER).amount_cents == 12_345
    first = env.run(payments.reverse_payment, ORDER)
    assert first == env.run(payments.reverse_payment, ORDER)
    assert (first.action, first.amount_cents) == ("refunded", 12_345)


def test_capture_without_authorization_is_a_bug_not_a_retry(payments: PaymentsActivities) -> None:
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(payments.capture_payment, ORDER)
    assert raised.value.type == BusinessError.NOTHING_TO_CAPTURE
    assert raised.value.non_retryable


def test_a_zombie_authorize_after_reversal_is_refused(payments: PaymentsActivities) -> None:
    env = ActivityEnvironment()
    assert env.run(payments.reverse_payment, ORDER).action == "nothing"
    with pytest.raises(ApplicationError, match="authorize refused") as raised:
        env.run(payments.authorize_payment, authorize())
    assert raised.value.non_retryable


def test_the_token_never_reaches_the_log(
    payments: PaymentsActivities, caplog: pytest.LogCaptureFixture
) -> None:
    env = ActivityEnvironment()
    with caplog.at_level(logging.DEBUG):
        env.run(payments.authorize_payment, authorize())
        with pytest.raises(ApplicationError) as conflict:
            env.run(payments.authorize_payment, authorize(amount_cents=1))
        env.run(payments.capture_payment, ORDER)
    assert len([r for r in caplog.records if "order-1" in r.getMessage()]) == 3
    assert not [r for r in caplog.records if TOKEN in r.getMessage()]
    assert TOKEN not in str(conflict.value)
    assert TOKEN not in repr(authorize())


def test_a_refused_void_is_a_business_failure_that_says_which(
    payments: PaymentsActivities,
) -> None:
    env = ActivityEnvironment()
    authorization = env.run(payments.authorize_payment, authorize(simulate_void_refusals=1))
    with pytest.raises(ApplicationError) as raised:
        env.run(payments.reverse_payment, ORDER)
    assert raised.value.type == BusinessError.VOID_REFUSED
    assert raised.value.non_retryable
    assert raised.value.message == (
        f"the gateway refused to void authorization {authorization.authorization_id} of order "
        "order-1 (refusal 1 of 1)"
    )
    assert env.run(payments.reverse_payment, ORDER).action == "voided"


def test_a_void_by_hand_is_recorded_once(payments: PaymentsActivities, tmp_path: Path) -> None:
    env = ActivityEnvironment()
    env.run(payments.record_resolved_by_hand, by_hand(Compensation.VOID_PAYMENT))
    env.run(payments.record_resolved_by_hand, by_hand(Compensation.VOID_PAYMENT))
    with pytest.raises(ApplicationError) as raised:
        env.run(payments.record_resolved_by_hand, by_hand(Compensation.VOID_PAYMENT, "other"))
    assert raised.value.type == ContractError.IDEMPOTENCY_CONFLICT
    assert raised.value.non_retryable
    store = PaymentsStore(tmp_path / "payments.sqlite3")
    assert store.resolutions("order-1") == [by_hand(Compensation.VOID_PAYMENT)]


def test_a_release_by_hand_is_not_payments_business(payments: PaymentsActivities) -> None:
    with pytest.raises(ApplicationError, match="not of payments") as raised:
        ActivityEnvironment().run(
            payments.record_resolved_by_hand, by_hand(Compensation.RELEASE_STOCK)
        )
    assert raised.value.type == ContractError.INVALID_REQUEST
    assert raised.value.non_retryable
