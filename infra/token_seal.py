"""The payment token sealed for the payments service alone, on by default.

Whoever places an order (the storefront, `starters.place_order`, the demo) seals the token with
the payments service's *public* key before anything reaches Temporal; only the payments worker
holds the private key and opens it, inside the authorize activity. So the workflow input, every
event, activity argument, query result and log line outside payments carries a sealed box that
nobody else can open, whether or not `ORDERS_PAYLOAD_KEY` encrypts the payloads too, while the
rest of the order stays readable in the Web UI.

The box is X25519 + HKDF-SHA256 + AES-256-GCM (an ephemeral key per token, as libsodium's
sealed boxes): a process that can seal cannot open, and the key id in the clear says which key a
token was sealed for, so a mismatch is named instead of failing as garbage.

Keys: `ORDERS_PAYMENTS_KEY` (the private key, URL-safe base64 of 32 bytes; the payments worker
only) and `ORDERS_PAYMENTS_PUBLIC_KEY` (what the placing side needs). Without them a development
key pair is made on first use in the data directory (`payments-seal.key`, mode 0600), which every
process of one machine shares. `python -m starters.payment_keys` prints a new pair.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

from domain.payment_token import SEALED_PREFIX, is_sealed

PRIVATE_KEY_VARIABLE = "ORDERS_PAYMENTS_KEY"
PUBLIC_KEY_VARIABLE = "ORDERS_PAYMENTS_PUBLIC_KEY"
DEV_KEY_FILE = "payments-seal.key"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_INFO = b"order-fulfilment-styles payment token v1"


class SealKeyError(ValueError):
    """A key is malformed, or a token was sealed for another key than the one held."""


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_id(public: X25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def _box_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> AESGCM:
    derived = HKDF(hashes.SHA256(), _KEY_BYTES, salt=None, info=_INFO + ephemeral + recipient)
    return AESGCM(derived.derive(shared))


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _decode(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise SealKeyError(f"{what} is not URL-safe base64") from error


@dataclass(frozen=True)
class SealingKey:
    """What the placing side holds: it can seal, not open."""

    public: X25519PublicKey

    @property
    def key_id(self) -> str:
        return _key_id(self.public)

    @property
    def encoded(self) -> str:
        """As `ORDERS_PAYMENTS_PUBLIC_KEY` holds it."""
        return _encode(_raw(self.public))

    def seal(self, token: SecretStr) -> SecretStr:
        """A sealed token is left as it is: placing an order twice seals it once."""
        if is_sealed(token):
            return token
        ephemeral = X25519PrivateKey.generate()
        ephemeral_raw = _raw(ephemeral.public_key())
        box = _box_key(ephemeral.exchange(self.public), ephemeral_raw, _raw(self.public))
        nonce = os.urandom(_NONCE_BYTES)
        sealed = box.encrypt(nonce, token.get_secret_value().encode(), self.key_id.encode())
        return SecretStr(f"{SEALED_PREFIX}{self.key_id}:{_encode(ephemeral_raw + nonce + sealed)}")


@dataclass(frozen=True)
class UnsealingKey:
    """What the payments worker holds."""

    private: X25519PrivateKey

    @property
    def sealing(self) -> SealingKey:
        return SealingKey(self.private.public_key())

    def unseal(self, token: SecretStr) -> SecretStr:
        """The token in clear. A token that was never sealed (an order placed before sealing,
        still in flight) is returned as it is; the caller decides what to say about it."""
        if not is_sealed(token):
            return token
        key_id, _, box_text = token.get_secret_value().removeprefix(SEALED_PREFIX).partition(":")
        mine = self.sealing.key_id
        if key_id != mine:
            raise SealKeyError(
                f"the payment token is sealed for key {key_id}; this payments worker holds "
                f"{mine}: give it the {PRIVATE_KEY_VARIABLE} the storefront seals for"
            )
        box = _decode(box_text, "the sealed payment token")
        ephemeral_raw, nonce = box[:_KEY_BYTES], box[_KEY_BYTES : _KEY_BYTES + _NONCE_BYTES]
        sealed = box[_KEY_BYTES + _NONCE_BYTES :]
        mine_raw = _raw(self.private.public_key())
        try:
            ephemeral = X25519PublicKey.from_public_bytes(ephemeral_raw)
            opened = _box_key(self.private.exchange(ephemeral), ephemeral_raw, mine_raw).decrypt(
                nonce, sealed, key_id.encode()
            )
        except (InvalidTag, ValueError) as error:
            raise SealKeyError("the sealed payment token failed its integrity check") from error
        return SecretStr(opened.decode())


def new_private_key() -> str:
    """A fresh private key, as `ORDERS_PAYMENTS_KEY` holds it."""
    private = X25519PrivateKey.generate()
    return _encode(
        private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    )


def public_key_of(private_text: str) -> str:
    """The public key that goes with a private one, as `ORDERS_PAYMENTS_PUBLIC_KEY` holds it."""
    return SealingKey(_private_key(private_text, PRIVATE_KEY_VARIABLE).public_key()).encoded


def _private_key(text: str, what: str) -> X25519PrivateKey:
    raw = _decode(text.strip(), what)
    if len(raw) != _KEY_BYTES:
        raise SealKeyError(f"{what} must be {_KEY_BYTES} bytes, got {len(raw)}")
    return X25519PrivateKey.from_private_bytes(raw)


def _dev_private_key(data_dir: Path) -> str:
    """The data directory's development key, made by whichever process needs it first; two
    processes starting at once agree on one (the file is linked into place, never overwritten)."""
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        descriptor, staged = tempfile.mkstemp(dir=data_dir, prefix=f".{DEV_KEY_FILE}.")  # 0600
        with os.fdopen(descriptor, "w") as file:
            file.write(new_private_key() + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(staged, path)
        os.unlink(staged)
    return path.read_text().strip()


def unsealing_key(data_dir: Path) -> UnsealingKey:
    """The payments worker's key: `ORDERS_PAYMENTS_KEY`, or the data directory's dev key."""
    text = os.environ.get(PRIVATE_KEY_VARIABLE, "").strip()
    if text:
        return UnsealingKey(_private_key(text, PRIVATE_KEY_VARIABLE))
    return UnsealingKey(_private_key(_dev_private_key(data_dir), str(data_dir / DEV_KEY_FILE)))


def sealing_key(data_dir: Path) -> SealingKey:
    """The placing side's key: `ORDERS_PAYMENTS_PUBLIC_KEY`, else the public half of
    `ORDERS_PAYMENTS_KEY` or of the data directory's dev key. Read once per setting, not per
    order placed (a dev key file is never rewritten, only made)."""
    return _sealing_key(
        data_dir,
        os.environ.get(PUBLIC_KEY_VARIABLE, "").strip(),
        os.environ.get(PRIVATE_KEY_VARIABLE, "").strip(),
    )


@functools.lru_cache(maxsize=8)
def _sealing_key(data_dir: Path, text: str, private_text: str) -> SealingKey:
    """`private_text` is part of the cache key only: `unsealing_key` reads it again."""
    if not text:
        return unsealing_key(data_dir).sealing
    raw = _decode(text, PUBLIC_KEY_VARIABLE)
    if len(raw) != _KEY_BYTES:
        raise SealKeyError(f"{PUBLIC_KEY_VARIABLE} must be {_KEY_BYTES} bytes, got {len(raw)}")
    return SealingKey(X25519PublicKey.from_public_bytes(raw))
