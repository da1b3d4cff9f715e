"""The payment token as an order carries it: sealed for the payments service, or (an order
placed before sealing existed, still in flight) in clear.

The sealing itself is `infra.token_seal`; the domain knows only the shape, so that an order, an
event or an activity argument can say whether what it carries is readable by anyone but
payments. The value stays a `SecretStr` either way: masked in every repr, log line and view.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, SecretStr

from domain.personal import PersonalData

SEALED_PREFIX = "sealed:v1:"
"""`sealed:v1:<key id>:<sealed box, URL-safe base64>`; nothing else starts with it."""

PLAIN_LENGTHS = range(8, 129)
"""A gateway's token, as the customer's card form returns it: 8 to 128 characters."""
_SEALED = re.compile(r"^sealed:v1:[0-9a-f]{16}:[A-Za-z0-9_-]{80,400}$")


def is_sealed(token: SecretStr) -> bool:
    return token.get_secret_value().startswith(SEALED_PREFIX)


def _well_formed(token: SecretStr) -> SecretStr:
    """Refuse without echoing the value: the message names the rule, never the token."""
    text = token.get_secret_value()
    if text.startswith(SEALED_PREFIX):
        if not _SEALED.match(text):
            raise ValueError("a sealed token must read sealed:v1:<key id>:<sealed box>")
    elif len(text) not in PLAIN_LENGTHS:
        raise ValueError(
            f"a payment token has {PLAIN_LENGTHS.start} to {PLAIN_LENGTHS.stop - 1} characters"
        )
    return token


def _reveal(token: SecretStr) -> str:
    return token.get_secret_value()


PaymentToken = Annotated[
    SecretStr,
    AfterValidator(_well_formed),
    PersonalData.PAYMENT_TOKEN,
    # pydantic masks a SecretStr as '**********' when it serializes to JSON. The payments
    # activity needs the (sealed) token, so it is revealed on the wire (the Temporal payload)
    # only; repr(), str() and every view the project prints keep it masked.
    PlainSerializer(_reveal, return_type=str, when_used="json"),
]
