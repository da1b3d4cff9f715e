"""Optional encryption of every payload Temporal stores: workflow inputs (the order, with its
payment token), activity arguments and results, signals, updates, queries' answers.

Off unless `ORDERS_PAYLOAD_KEY` holds a key (32 bytes, URL-safe base64:
`python -c "import os, base64; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`),
the same in every process. Then the server, its database and the Web UI only ever see
ciphertext; the project's own tools decrypt with the key, and the Web UI can through
`python -m starters.codec_server`. Payloads written before the key was set stay readable: a
payload that is not encrypted passes through. Failures are encrypted too: their message and stack
trace (a decline's wording, a refusal naming a value) move into an encoded attribute, which the
codec encrypts, and only the failure's type stays in clear.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

KEY_VARIABLE = "ORDERS_PAYLOAD_KEY"
ENCODING = b"binary/encrypted"
_NONCE_BYTES = 12


class PayloadKeyError(ValueError):
    """The key is missing, malformed or not the one the payload was encrypted with."""


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over the whole serialized payload (data and metadata), with the key's id in
    the metadata so that a wrong key is named, not a garbled payload."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise PayloadKeyError(f"{KEY_VARIABLE} must be 32 bytes, got {len(key)}")
        self._cipher = AESGCM(key)
        self.key_id = hashlib.sha256(key).hexdigest()[:16].encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, "encryption-key-id": self.key_id},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was turned on
        key_id = payload.metadata.get("encryption-key-id", b"?")
        if key_id != self.key_id:
            raise PayloadKeyError(
                f"a payload was encrypted with key {key_id.decode(errors='replace')}, "
                f"not with {KEY_VARIABLE} ({self.key_id.decode()})"
            )
        nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
        try:
            return Payload.FromString(self._cipher.decrypt(nonce, sealed, None))
        except InvalidTag as error:
            raise PayloadKeyError("a payload failed its integrity check") from error


def codec_from_environment() -> EncryptionCodec | None:
    text = os.environ.get(KEY_VARIABLE, "").strip()
    if not text:
        return None
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise PayloadKeyError(f"{KEY_VARIABLE} is not URL-safe base64: {error}") from error
    return EncryptionCodec(key)


def data_converter() -> DataConverter:
    """pydantic v2 for values; encrypted at rest when `ORDERS_PAYLOAD_KEY` is set."""
    codec = codec_from_environment()
    if codec is None:
        return pydantic_data_converter
    return encrypted_converter(codec)


def encrypted_converter(codec: PayloadCodec) -> DataConverter:
    """Every payload through `codec`, failures' messages and stack traces included."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def decrypt_in_place(messages: Iterable[Message], codec: PayloadCodec | None) -> None:
    """Decrypt every payload inside these messages (a history's events), wherever it sits: a
    history is read as it is stored, so tools that read histories decrypt them first."""
    if not isinstance(codec, EncryptionCodec):
        return
    for message in messages:
        _decrypt_message(message, codec)


def _decrypt_message(message: Message, codec: EncryptionCodec) -> None:
    if isinstance(message, Payload):
        message.CopyFrom(codec.decrypt(message))
        return
    if isinstance(message, Failure):
        _decrypt_fields(message, codec)
        _restore_common_attributes(message)
        return
    _decrypt_fields(message, codec)


def _restore_common_attributes(failure: Failure) -> None:
    """Put a failure's message and stack trace back where a reader of the history looks, once
    its encoded attributes are decrypted (what the SDK's failure converter does on decode)."""
    if not failure.HasField("encoded_attributes"):
        return
    try:
        attributes = json.loads(failure.encoded_attributes.data)
    except ValueError:  # still encrypted (another key) or not ours: left as it is
        return
    if isinstance(attributes, dict):
        failure.message = str(attributes.get("message", failure.message))
        failure.stack_trace = str(attributes.get("stack_trace", failure.stack_trace))
        failure.ClearField("encoded_attributes")


def _decrypt_fields(message: Message, codec: EncryptionCodec) -> None:
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is not None:
                for item in value.values():
                    _decrypt_message(item, codec)
        elif field.is_repeated:
            for item in value:
                _decrypt_message(item, codec)
        else:
            _decrypt_message(value, codec)
