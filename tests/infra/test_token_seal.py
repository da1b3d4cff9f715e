"""The payment token sealed for payments: only the payments key opens it, a wrong key is named,
and a machine without keys agrees on one development key however many processes start at once."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import SecretStr, ValidationError

from client.orders import sealed_for_payments
from domain.order import Order
from domain.scenarios import DEMO_TOKEN, SCENARIOS_BY_NAME
from infra.cli import BadInputError
from infra.token_seal import (
    DEV_KEY_FILE,
    PRIVATE_KEY_VARIABLE,
    PUBLIC_KEY_VARIABLE,
    SealKeyError,
    UnsealingKey,
    unsealing_key,
)
from tests.support import one_line_error, run_module
from tests.token_traces import holds

TOKEN = SecretStr(DEMO_TOKEN)


def fresh_key() -> UnsealingKey:
    return UnsealingKey(X25519PrivateKey.generate())


def test_only_the_payments_key_opens_a_sealed_token() -> None:
    payments, elsewhere = fresh_key(), fresh_key()
    sealed = payments.sealing.seal(TOKEN)

    assert not holds(sealed.get_secret_value().encode(), DEMO_TOKEN)
    assert payments.unseal(sealed) == TOKEN
    with pytest.raises(SealKeyError) as refused:
        elsewhere.unseal(sealed)
    assert payments.sealing.key_id in str(refused.value)
    assert elsewhere.sealing.key_id in str(refused.value)


def test_a_token_is_sealed_once_and_each_seal_is_unlinkable() -> None:
    key = fresh_key().sealing
    sealed = key.seal(TOKEN)
    assert key.seal(sealed) == sealed  # placing the same order again seals nothing twice
    assert key.seal(TOKEN) != sealed  # two orders with one card do not share a value


def test_a_tampered_seal_is_refused_not_opened() -> None:
    payments = fresh_key()
    text = payments.sealing.seal(TOKEN).get_secret_value()
    flipped = text[:-3] + ("A" if text[-3] != "A" else "B") + text[-2:]
    with pytest.raises(SealKeyError, match="integrity"):
        payments.unseal(SecretStr(flipped))


def test_an_order_carries_the_seal_of_the_longest_token_and_refuses_a_forged_shape() -> None:
    order = SCENARIOS_BY_NAME["happy"].order("seal-1").model_dump(mode="json")
    longest = fresh_key().sealing.seal(SecretStr("t" * 128))
    carried = Order.model_validate({**order, "payment_token": longest.get_secret_value()})
    assert carried.payment_token == longest
    forged = "sealed:v1:" + "x" * 120
    with pytest.raises(ValidationError) as refused:
        Order.model_validate({**order, "payment_token": forged})
    assert forged not in str(refused.value)


def test_the_placing_side_needs_only_the_public_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payments = unsealing_key(tmp_path)  # the session's ORDERS_PAYMENTS_KEY
    monkeypatch.delenv(PRIVATE_KEY_VARIABLE)
    monkeypatch.setenv(PUBLIC_KEY_VARIABLE, payments.sealing.encoded)
    monkeypatch.setenv("ORDERS_DATA_DIR", str(tmp_path))

    placed = sealed_for_payments(SCENARIOS_BY_NAME["happy"].order("seal-2"))

    assert payments.unseal(placed.payment_token) == TOKEN
    assert not (tmp_path / DEV_KEY_FILE).exists()  # no development key made beside a real one


def test_a_malformed_public_key_refuses_the_order_before_anything_is_placed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PUBLIC_KEY_VARIABLE, "not-a-key")
    with pytest.raises(BadInputError, match=PUBLIC_KEY_VARIABLE):
        sealed_for_payments(SCENARIOS_BY_NAME["happy"].order("seal-3"))


@pytest.mark.timeout(60)
async def test_processes_starting_at_once_agree_on_one_development_key(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != PRIVATE_KEY_VARIABLE}
    env["ORDERS_DATA_DIR"] = str(tmp_path)
    results = await asyncio.gather(
        *(run_module(env, "starters.payment_keys", "--current") for _ in range(4))
    )

    assert [result.code for result in results] == [0] * 4
    assert len({result.stdout for result in results}) == 1
    key_file = tmp_path / DEV_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == [DEV_KEY_FILE]  # nothing staged left
    env_with_file_key = {**env, PRIVATE_KEY_VARIABLE: key_file.read_text().strip()}
    again = await run_module(env_with_file_key, "starters.payment_keys", "--current")
    assert again.stdout == results[0].stdout


@pytest.mark.timeout(60)
async def test_a_payments_worker_with_a_malformed_key_refuses_to_start(tmp_path: Path) -> None:
    env = {**os.environ, PRIVATE_KEY_VARIABLE: "c2hvcnQ", "ORDERS_DATA_DIR": str(tmp_path)}
    result = await run_module(env, "workers.run", "--service", "payments")
    assert one_line_error(result, 2, PRIVATE_KEY_VARIABLE, "32 bytes")
