"""Payload encryption (ORDERS_PAYLOAD_KEY): what the server stores is ciphertext, the project's
tools still read it, and a wrong or malformed key is a one-line error, not garbage."""

from __future__ import annotations

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from infra.codec import (
    ENCODING,
    KEY_VARIABLE,
    EncryptionCodec,
    PayloadKeyError,
    codec_from_environment,
    data_converter,
    decrypt_in_place,
    encrypted_converter,
)


def a_key() -> bytes:
    return os.urandom(32)


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_a_payload_comes_back_as_it_went_in_and_is_unreadable_between() -> None:
    codec = EncryptionCodec(a_key())
    original = plain('{"payment_token": "tok_visa_4242"}')

    (sealed,) = await codec.encode([original])
    (opened,) = await codec.decode([sealed])

    assert sealed.metadata["encoding"] == ENCODING
    assert b"tok_visa" not in sealed.SerializeToString()
    assert opened == original


async def test_two_encryptions_of_one_payload_differ() -> None:
    codec = EncryptionCodec(a_key())

    first, second = await codec.encode([plain("same"), plain("same")])

    assert first.data != second.data


async def test_a_payload_written_before_encryption_passes_through() -> None:
    codec = EncryptionCodec(a_key())

    assert await codec.decode([plain("old history")]) == [plain("old history")]


async def test_another_key_is_named_not_garbled() -> None:
    (sealed,) = await EncryptionCodec(a_key()).encode([plain("secret")])

    with pytest.raises(PayloadKeyError, match="encrypted with key"):
        await EncryptionCodec(a_key()).decode([sealed])


async def test_a_tampered_payload_fails_its_integrity_check() -> None:
    codec = EncryptionCodec(a_key())
    (sealed,) = await codec.encode([plain("secret")])
    tampered = Payload(
        metadata=sealed.metadata, data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    )

    with pytest.raises(PayloadKeyError, match="integrity"):
        await codec.decode([tampered])


def test_no_key_means_no_encryption(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)

    assert codec_from_environment() is None
    assert data_converter().payload_codec is None


def test_a_key_from_the_environment_turns_encryption_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, base64.urlsafe_b64encode(a_key()).decode().rstrip("="))

    assert isinstance(data_converter().payload_codec, EncryptionCodec)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("not base64!", "not URL-safe base64"),
        (base64.urlsafe_b64encode(b"short").decode(), "32 bytes"),
    ],
    ids=["not-base64", "too-short"],
)
def test_a_malformed_key_says_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, value: str, why: str
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, value)

    with pytest.raises(PayloadKeyError, match=why) as raised:
        codec_from_environment()
    assert KEY_VARIABLE in str(raised.value)


async def test_a_failure_is_stored_unreadable_and_read_back_whole_by_the_projects_tools() -> None:
    """What the server stores of a failed activity: its type in clear, its message and stack
    trace encrypted; a history reader (`decrypt_in_place`) puts them back where it looks."""
    codec = EncryptionCodec(a_key())
    converter = encrypted_converter(codec)
    error = ApplicationError("order o-1: the gateway declined 14700 cents", type="PaymentDeclined")
    stored = Failure()
    await converter.encode_failure(error, stored)

    assert b"declined" not in stored.SerializeToString()
    assert stored.application_failure_info.type == "PaymentDeclined"

    decrypt_in_place([stored], codec)

    assert stored.message == "order o-1: the gateway declined 14700 cents"
    assert not stored.HasField("encoded_attributes")
