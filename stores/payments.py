"""payments: authorizations, captures, voids and refunds, and the simulated gateway behind them.

The `payments` table says where each order's payment stands; the `ledger` has one row per money
effect, keyed `<order id>:<kind>` so that no effect can be booked twice. The payment token itself
is never stored: only a fingerprint, enough to tell two cards apart in an investigation.

The simulated gateway may refuse to void an authorization (`faults.void_refusals`): a business
failure the saga parks for a person, who retries it or voids by hand (`resolved_by_hand`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import SecretStr

from domain.errors import BusinessError, TransientError
from domain.messages.payments import AuthorizationResult, CaptureResult, ReversalResult
from domain.messages.resolution import RecordResolvedByHand
from domain.services import Service
from stores.database import (
    AUTO_ID,
    Connection,
    IdempotencyConflictError,
    ServiceStore,
    StoreError,
    from_text,
    one_of,
    retried_on_conflict,
)
from stores.resolutions import read_resolutions, record_resolution, resolutions_schema


class PaymentState(StrEnum):
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    REFUNDED = "refunded"
    DECLINED = "declined"
    CLOSED = "closed"
    """Reversed before anything was authorized: the tombstone that refuses a late authorize."""


class LedgerKind(StrEnum):
    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


_WITH_AUTHORIZATION = (
    PaymentState.AUTHORIZED,
    PaymentState.CAPTURED,
    PaymentState.VOIDED,
    PaymentState.REFUNDED,
)

_REVERSAL = {
    PaymentState.AUTHORIZED: (PaymentState.VOIDED, LedgerKind.VOID),
    PaymentState.CAPTURED: (PaymentState.REFUNDED, LedgerKind.REFUND),
}
_ACTION: dict[PaymentState, Literal["voided", "refunded"]] = {
    PaymentState.VOIDED: "voided",
    PaymentState.REFUNDED: "refunded",
}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS payments (
    order_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK ({one_of("state", PaymentState)}),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    authorization_id TEXT UNIQUE,
    token_fingerprint TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((authorization_id IS NOT NULL) = ({one_of("state", _WITH_AUTHORIZATION)}))
);
CREATE TABLE IF NOT EXISTS ledger (
    entry_id {AUTO_ID},
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK ({one_of("kind", LedgerKind)}),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    idempotency_key TEXT NOT NULL UNIQUE CHECK (idempotency_key = order_id || ':' || kind),
    at TEXT NOT NULL
);
-- How often the simulated gateway was called per order, so "fail the first N calls" survives
-- worker restarts and is shared by every worker using this store.
CREATE TABLE IF NOT EXISTS gateway_calls (
    order_id TEXT PRIMARY KEY,
    calls INTEGER NOT NULL CHECK (calls > 0)
);
-- How many voids the gateway refuses for an authorization (`faults.void_refusals`), kept with it
-- at authorize time and counted down by each refusal, so the plan survives worker restarts.
CREATE TABLE IF NOT EXISTS void_refusals (
    order_id TEXT PRIMARY KEY REFERENCES payments (order_id),
    planned INTEGER NOT NULL CHECK (planned > 0),
    refused INTEGER NOT NULL DEFAULT 0 CHECK (refused BETWEEN 0 AND planned)
);
{resolutions_schema(Service.PAYMENTS)}"""


class GatewayUnavailableError(StoreError):
    error_type = TransientError.PAYMENT_GATEWAY_UNAVAILABLE.value
    retryable = True


class PaymentDeclinedError(StoreError):
    error_type = BusinessError.PAYMENT_DECLINED.value


class NothingToCaptureError(StoreError):
    error_type = BusinessError.NOTHING_TO_CAPTURE.value


class VoidRefusedError(StoreError):
    """The gateway refuses to void the authorization: retrying on its own cannot change that, a
    person must (`starters.resolve_order`)."""

    error_type = BusinessError.VOID_REFUSED.value


class PaymentClosedError(StoreError):
    """Tombstone: the order's payment was reversed, so a late (zombie) authorize is refused."""

    # The closest existing type until domain.errors has one for a closed order.
    error_type = BusinessError.ORDER_CLOSED.value


@dataclass(frozen=True)
class Payment:
    order_id: str
    state: PaymentState
    amount_cents: int
    authorization_id: str | None
    token_fingerprint: str | None


@dataclass(frozen=True)
class LedgerEntry:
    order_id: str
    kind: LedgerKind
    amount_cents: int
    idempotency_key: str
    at: datetime


def fingerprint(token: SecretStr) -> str:
    """Enough of a hash to recognise a card again, not enough to recover or brute-force it."""
    return hashlib.sha256(token.get_secret_value().encode()).hexdigest()[:16]


class PaymentsStore(ServiceStore):
    SERVICE = Service.PAYMENTS
    SCHEMA = _SCHEMA

    @retried_on_conflict
    def authorize(
        self,
        order_id: str,
        amount_cents: int,
        token: SecretStr,
        simulate_decline: bool = False,
        simulate_transient_errors: int = 0,
        simulate_void_refusals: int = 0,
    ) -> AuthorizationResult:
        """Ask the (simulated) gateway to hold the amount. A repeated call returns the same
        authorization without calling the gateway again. `simulate_void_refusals` is kept with
        the authorization: how many times the gateway will refuse to void it."""
        now = self._now()
        with self._db.write() as db:
            existing = _payment(db, order_id)
            if existing is not None:
                return _repeat_authorization(existing, amount_cents)
            calls = _count_gateway_call(db, order_id)
            if calls <= simulate_transient_errors:
                failure: StoreError = GatewayUnavailableError(
                    f"order {order_id}: payment gateway timed out "
                    f"(simulated failure {calls} of {simulate_transient_errors})"
                )
            elif simulate_decline:
                _insert_payment(db, order_id, PaymentState.DECLINED, amount_cents, token, None, now)
                failure = PaymentDeclinedError(
                    f"order {order_id}: the gateway declined {amount_cents} cents (simulated)"
                )
            else:
                authorization_id = f"auth-{uuid.uuid4().hex[:16]}"
                _insert_payment(
                    db,
                    order_id,
                    PaymentState.AUTHORIZED,
                    amount_cents,
                    token,
                    authorization_id,
                    now,
                )
                _book(db, order_id, LedgerKind.AUTHORIZE, amount_cents, now)
                _plan_void_refusals(db, order_id, simulate_void_refusals)
                return AuthorizationResult(
                    order_id=order_id, authorization_id=authorization_id, amount_cents=amount_cents
                )
        # Raised after the commit: the gateway call (and a decline) stay on record.
        raise failure

    @retried_on_conflict
    def capture(self, order_id: str) -> CaptureResult:
        """Take the authorized amount at dispatch. A repeated call captures nothing more."""
        now = self._now()
        with self._db.write() as db:
            payment = _payment(db, order_id)
            if payment is None or payment.state not in (
                PaymentState.AUTHORIZED,
                PaymentState.CAPTURED,
            ):
                state = payment.state.value if payment else "no payment"
                raise NothingToCaptureError(
                    f"order {order_id}: nothing to capture, the payment is {state}"
                )
            if payment.state is PaymentState.AUTHORIZED:
                _set_state(db, order_id, PaymentState.CAPTURED, now)
                _book(db, order_id, LedgerKind.CAPTURE, payment.amount_cents, now)
        return CaptureResult(order_id=order_id, amount_cents=payment.amount_cents)

    @retried_on_conflict
    def reverse(self, order_id: str) -> ReversalResult:
        """Undo whatever the payment did: void an open authorization, refund a capture. With
        nothing to undo, close the order so a late authorize is refused. A repeated call reports
        the first effect and books nothing more. The gateway may refuse a void (the order's
        `void_refusals`), never a refund: each refusal is a gateway call, on record."""
        now = self._now()
        with self._db.write() as db:
            payment = _payment(db, order_id)
            if payment is None:
                _close(db, order_id, now)
                return _reversal(order_id, "nothing", 0)
            refusal = _refuse_void(db, payment)
            state = payment.state
            if refusal is None and state in _REVERSAL:
                state, kind = _REVERSAL[state]
                _set_state(db, order_id, state, now)
                _book(db, order_id, kind, payment.amount_cents, now)
        if refusal is not None:
            raise refusal  # after the commit: the refused call stays counted
        action = _ACTION.get(state)
        if action is None:
            return _reversal(order_id, "nothing", 0)
        return _reversal(order_id, action, payment.amount_cents)

    @retried_on_conflict
    def record_resolved_by_hand(self, request: RecordResolvedByHand) -> None:
        """A person voided the authorization outside the system: record who and how, once. The
        ledger and the payment's state stay as they are (the audit reads the record to excuse
        the authorization left open). With no payment at all, the order is closed as a reversal
        closes it, so a late authorize cannot hold money after the order was given up."""
        now = self._now()
        with self._db.write() as db:
            record_resolution(db, Service.PAYMENTS, request)
            if _payment(db, request.order_id) is None:
                _close(db, request.order_id, now)

    def resolutions(self, order_id: str) -> list[RecordResolvedByHand]:
        with self._db.read() as db:
            return read_resolutions(db, order_id)

    def payment(self, order_id: str) -> Payment | None:
        with self._db.read() as db:
            return _payment(db, order_id)

    def ledger(self, order_id: str) -> list[LedgerEntry]:
        with self._db.read() as db:
            rows = db.execute(
                "SELECT * FROM ledger WHERE order_id = ? ORDER BY entry_id", (order_id,)
            ).fetchall()
        return [
            LedgerEntry(
                order_id=row["order_id"],
                kind=LedgerKind(row["kind"]),
                amount_cents=row["amount_cents"],
                idempotency_key=row["idempotency_key"],
                at=from_text(row["at"]),
            )
            for row in rows
        ]

    def net_captured(self, order_id: str) -> int:
        """What the customer has paid and not been refunded: captures minus refunds."""
        with self._db.read() as db:
            return net_captured(db, order_id)

    def gateway_calls(self, order_id: str) -> int:
        with self._db.read() as db:
            row = db.execute(
                "SELECT calls FROM gateway_calls WHERE order_id = ?", (order_id,)
            ).fetchone()
        return 0 if row is None else int(row["calls"])


NET_CAPTURED = (
    "SUM(CASE kind WHEN 'capture' THEN amount_cents WHEN 'refund' THEN -amount_cents ELSE 0 END)"
)
"""Captures minus refunds over `ledger` rows, in SQL: per order here, per order in the audit."""


def net_captured(db: Connection, order_id: str) -> int:
    row = db.execute(
        f"SELECT COALESCE({NET_CAPTURED}, 0) AS net FROM ledger WHERE order_id = ?", (order_id,)
    ).fetchone()
    return int(row["net"])


def _repeat_authorization(payment: Payment, amount_cents: int) -> AuthorizationResult:
    order_id = payment.order_id
    if payment.state is PaymentState.DECLINED:
        raise PaymentDeclinedError(f"order {order_id}: the gateway already declined this payment")
    if payment.authorization_id is None or payment.state in (
        PaymentState.VOIDED,
        PaymentState.REFUNDED,
    ):
        raise PaymentClosedError(
            f"order {order_id}: authorize refused: the payment was already reversed "
            f"({payment.state.value}); a late attempt must not hold money again"
        )
    if payment.amount_cents != amount_cents:
        raise IdempotencyConflictError(
            f"order {order_id}: already authorized {payment.amount_cents} cents, "
            f"now asked for {amount_cents}"
        )
    return AuthorizationResult(
        order_id=order_id,
        authorization_id=payment.authorization_id,
        amount_cents=payment.amount_cents,
    )


def _plan_void_refusals(db: Connection, order_id: str, refusals: int) -> None:
    if refusals > 0:
        db.execute(
            "INSERT INTO void_refusals (order_id, planned) VALUES (?, ?)", (order_id, refusals)
        )


def _refuse_void(db: Connection, payment: Payment) -> VoidRefusedError | None:
    """The gateway's refusal to void an open authorization while the order's plan has refusals
    left: counted down and counted as a gateway call. None: the void (or refund) may go ahead."""
    if payment.state is not PaymentState.AUTHORIZED:
        return None
    row = db.execute(
        "UPDATE void_refusals SET refused = refused + 1"
        " WHERE order_id = ? AND refused < planned RETURNING refused, planned",
        (payment.order_id,),
    ).fetchone()
    if row is None:
        return None
    _count_gateway_call(db, payment.order_id)
    return VoidRefusedError(
        f"the gateway refused to void authorization {payment.authorization_id} of order "
        f"{payment.order_id} (refusal {row['refused']} of {row['planned']})"
    )


def _close(db: Connection, order_id: str, now: str) -> None:
    """The tombstone: no payment, and none may be authorized any more."""
    db.execute(
        "INSERT INTO payments (order_id, state, amount_cents, created_at, updated_at)"
        " VALUES (?, ?, 0, ?, ?)",
        (order_id, PaymentState.CLOSED, now, now),
    )


def _count_gateway_call(db: Connection, order_id: str) -> int:
    row = db.execute(
        "INSERT INTO gateway_calls (order_id, calls) VALUES (?, 1)"
        " ON CONFLICT (order_id) DO UPDATE SET calls = gateway_calls.calls + 1 RETURNING calls",
        (order_id,),
    ).fetchone()
    return int(row["calls"])


def _insert_payment(
    db: Connection,
    order_id: str,
    state: PaymentState,
    amount_cents: int,
    token: SecretStr,
    authorization_id: str | None,
    now: str,
) -> None:
    db.execute(
        "INSERT INTO payments (order_id, state, amount_cents, authorization_id,"
        " token_fingerprint, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (order_id, state, amount_cents, authorization_id, fingerprint(token), now, now),
    )


def _set_state(db: Connection, order_id: str, state: PaymentState, now: str) -> None:
    db.execute(
        "UPDATE payments SET state = ?, updated_at = ? WHERE order_id = ?", (state, now, order_id)
    )


def _book(db: Connection, order_id: str, kind: LedgerKind, amount: int, now: str) -> None:
    db.execute(
        "INSERT INTO ledger (order_id, kind, amount_cents, idempotency_key, at)"
        " VALUES (?, ?, ?, ?, ?)",
        (order_id, kind, amount, f"{order_id}:{kind}", now),
    )


def _payment(db: Connection, order_id: str) -> Payment | None:
    row = db.execute("SELECT * FROM payments WHERE order_id = ?", (order_id,)).fetchone()
    if row is None:
        return None
    return Payment(
        order_id=row["order_id"],
        state=PaymentState(row["state"]),
        amount_cents=row["amount_cents"],
        authorization_id=row["authorization_id"],
        token_fingerprint=row["token_fingerprint"],
    )


def _reversal(
    order_id: str, action: Literal["voided", "refunded", "nothing"], amount: int
) -> ReversalResult:
    return ReversalResult(order_id=order_id, action=action, amount_cents=amount)
