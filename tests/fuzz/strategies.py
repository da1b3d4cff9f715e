"""Hypothesis strategies that break a valid order, a valid address or a command's arguments in
one place, and say where: the field (or argument) the refusal must name.

A mutation drops a required field, gives a field a value of the wrong type, a well-typed value
out of its range, a huge string, text that is no Unicode, an unknown field, nested junk in place
of a value, or a SKU the shop does not sell.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from enum import Enum
from types import ModuleType
from typing import Any

from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from domain.order import OrderId
from starters import approve_order, cancel_order, reject_order, resolve_order
from tests.fuzz.corpus import MB, Path, changed, dropped, valid_address, valid_order


class Kind(Enum):
    TEXT = "text"
    COUNT = "count"
    DURATION = "duration"
    FLAG = "flag"
    OBJECT = "object"
    LIST = "list"


@dataclass(frozen=True)
class Spec:
    """One field of the document: where, of what kind, whether a document without it is
    malformed, whether null is a value it takes, and well-typed values it refuses."""

    path: Path
    kind: Kind
    required: bool = False
    nullable: bool = False
    invalid: tuple[object, ...] = ()
    secret: bool = False


_WAITS = ("-PT1S", "P366D", "P999999999D", 10**12, "PT0S")
_COUNTS = (-1, 21, 10**9)


def _address_specs(prefix: Path, required: bool) -> list[Spec]:
    return [
        Spec(prefix, Kind.OBJECT, required=required),
        Spec((*prefix, "recipient"), Kind.TEXT, True, invalid=("", "  ")),
        Spec((*prefix, "line1"), Kind.TEXT, True, invalid=("",)),
        Spec((*prefix, "line2"), Kind.TEXT, nullable=True),
        Spec((*prefix, "city"), Kind.TEXT, True, invalid=("",)),
        Spec((*prefix, "postal_code"), Kind.TEXT, True, invalid=("1", "!!", "x" * 13)),
        Spec((*prefix, "country"), Kind.TEXT, True, invalid=("gb", "GBR", "", "1A")),
    ]


def _item_specs(index: int) -> list[Spec]:
    return [
        Spec(("items", index), Kind.OBJECT),
        Spec(("items", index, "sku"), Kind.TEXT, True, invalid=("kb-001", "A", "X" * 33, "")),
        Spec(("items", index, "quantity"), Kind.COUNT, True, invalid=(0, -1, 1001, 10**20)),
        Spec(("items", index, "unit_price_cents"), Kind.COUNT, True, invalid=(0, -5, 10**7 + 1)),
    ]


ORDER_SPECS: tuple[Spec, ...] = (
    Spec(("order_id",), Kind.TEXT, invalid=("AB", "Not An Id", "-abc", "a" * 64)),
    Spec(("customer",), Kind.OBJECT, True),
    Spec(("customer", "id"), Kind.TEXT, True, invalid=("", " ")),
    Spec(("customer", "email"), Kind.TEXT, True, invalid=("no-at-sign", "a@b", "a b@c.de")),
    Spec(("items",), Kind.LIST, True, invalid=([],)),
    *_item_specs(0),
    *_item_specs(1),
    *_address_specs(("shipping_address",), True),
    Spec(("payment_token",), Kind.TEXT, True, invalid=("short", ""), secret=True),
    Spec(("timeouts",), Kind.OBJECT),
    *(
        Spec(("timeouts", name), Kind.DURATION, invalid=_WAITS)
        for name in ("approval_window", "delivery_deadline", "lost_after", "compensation_budget")
    ),
    Spec(("timeouts", "handling_time"), Kind.DURATION, invalid=("-PT1S", "P366D", 10**12)),
    Spec(("faults",), Kind.OBJECT),
    *(Spec(("faults", name), Kind.FLAG) for name in ("out_of_stock", "payment_decline")),
    Spec(("faults", "carrier_rejects"), Kind.FLAG),
    Spec(("faults", "payment_transient_errors"), Kind.COUNT, invalid=_COUNTS),
    Spec(("faults", "void_refusals"), Kind.COUNT, invalid=_COUNTS),
    Spec(("faults", "carrier_booking_latency"), Kind.DURATION, invalid=("PT10M1S", "-PT1S")),
    Spec(("faults", "carrier"), Kind.OBJECT),
    Spec(("faults", "carrier", "pickup_after"), Kind.DURATION, invalid=_WAITS[:3]),
    Spec(("faults", "carrier", "deliver_after"), Kind.DURATION, nullable=True, invalid=_WAITS[:3]),
)
ADDRESS_SPECS: tuple[Spec, ...] = tuple(_address_specs((), True)[1:])

_WRONG_TYPES: dict[Kind, tuple[object, ...]] = {
    Kind.TEXT: (7, 1.5, True, [], {}, None),
    Kind.COUNT: ("many", 1.5, [], {}, None),
    Kind.DURATION: ("soon", "P1X", [], {}, None),
    Kind.FLAG: ("maybe", 2, 0.5, [], {}, None),
    Kind.OBJECT: (7, "x", [], True, None),
    Kind.LIST: (7, "x", {}, True, None),
}


@dataclass(frozen=True)
class Mutation:
    """A broken document, what was done to it, and what its refusal must name."""

    document: dict[str, Any]
    what: str
    where: str
    secret: str | None = None

    def __repr__(self) -> str:
        return f"Mutation({self.what} at {self.where})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How Hypothesis prints a failing example: not megabytes of it."""
        printer.text(repr(self))


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def _nested(depth: int, objects: bool) -> object:
    value: object = {} if objects else []
    for _ in range(depth):
        value = {"a": value} if objects else [value]
    return value


_KEYS = st.text(string.ascii_lowercase + "_", min_size=1, max_size=8).map(lambda key: f"x_{key}")
_SIZES = st.sampled_from([300, 70_000, 2 * MB])
_NOT_UNICODE = st.tuples(
    st.text(string.ascii_letters, max_size=5),
    st.integers(0xD800, 0xDFFF).map(chr),
    st.text(string.ascii_letters, max_size=5),
).map("".join)


MUTATIONS = (
    "drop",
    "wrong type",
    "invalid",
    "huge text",
    "not unicode",
    "unknown field",
    "nested junk",
    "unknown sku",
)
"""Every way a mutation breaks a document (an address has no SKU to make unknown)."""


@st.composite
def _mutation(draw: st.DrawFn, base: dict[str, Any], specs: tuple[Spec, ...]) -> Mutation:
    """One way to break `base`, at one of its fields."""
    skus = [spec.path for spec in specs if spec.path[-1:] == ("sku",)]
    kind = draw(st.sampled_from([k for k in MUTATIONS if skus or k != "unknown sku"]))
    if kind == "unknown field":
        objects = [spec.path for spec in specs if spec.kind is Kind.OBJECT]
        path = draw(st.sampled_from([(), *objects]))
        key = draw(_KEYS)
        extra = draw(st.one_of(st.integers(), st.text(max_size=5), st.none()))
        return Mutation(changed(base, (*path, key), extra), kind, _dotted((*path, key)))
    if kind == "unknown sku":
        path = draw(st.sampled_from(skus))
        sku = draw(st.integers(0, 99_999).map(lambda n: f"ZZ-{n}"))
        return Mutation(changed(base, path, sku), kind, f"{_dotted(path)}: unknown SKU {sku}")
    spec = draw(st.sampled_from([spec for spec in specs if _applies(kind, spec)]))
    value = draw(_value(kind, spec))
    document = dropped(base, spec.path) if kind == "drop" else changed(base, spec.path, value)
    secret = value if spec.secret and isinstance(value, str) and len(value) >= 4 else None
    return Mutation(document, kind, _dotted(spec.path), secret)


def _applies(kind: str, spec: Spec) -> bool:
    if kind == "drop":
        return spec.required and not isinstance(spec.path[-1], int)
    if kind == "invalid":
        return bool(spec.invalid)
    if kind in ("huge text", "not unicode"):
        return spec.kind is Kind.TEXT
    return True


def _value(kind: str, spec: Spec) -> st.SearchStrategy[object]:
    if kind == "drop":
        return st.none()
    if kind == "wrong type":
        wrong = _WRONG_TYPES[spec.kind]
        return st.sampled_from([value for value in wrong if not (spec.nullable and value is None)])
    if kind == "invalid":
        return st.sampled_from(spec.invalid)
    if kind == "huge text":
        return st.tuples(st.sampled_from("xyz4"), _SIZES).map(
            lambda char_size: char_size[0] * char_size[1]
        )
    if kind == "not unicode":
        return _NOT_UNICODE
    return st.builds(_nested, st.integers(1, 200), st.booleans())  # nested junk


def order_mutations() -> st.SearchStrategy[Mutation]:
    return _mutation(valid_order(), ORDER_SPECS)


def address_mutations() -> st.SearchStrategy[Mutation]:
    return _mutation(valid_address(), ADDRESS_SPECS)


@dataclass(frozen=True)
class BadArguments:
    """A command's arguments with one value it must refuse, and the argument that names it."""

    command: ModuleType
    argv: tuple[str, ...]
    where: str

    def __repr__(self) -> str:
        shown = [arg if len(arg) <= 40 else f"{arg[:20]}...({len(arg)})" for arg in self.argv]
        return f"BadArguments({self.command.__name__} {shown})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


ORDER_ID = "fuzz-order-1"
"""A well-formed id: every malformed argument is refused before any order is looked up."""

_OPTIONS: tuple[tuple[ModuleType, tuple[str, ...], str, int], ...] = (
    (approve_order, (), "--approver", 64),
    (approve_order, (), "--comment", 500),
    (reject_order, (), "--approver", 64),
    (reject_order, (), "--reason", 500),
    (cancel_order, (), "--by", 64),
    (cancel_order, (), "--reason", 500),
    (resolve_order, ("--retry",), "--by", 64),
    (resolve_order, ("--mark-done",), "--note", 500),
)
"""Each update's free-text options, the options they need beside, and their longest value."""

_ORDER_ID: TypeAdapter[str] = TypeAdapter(OrderId)


def _is_order_id(text: str) -> bool:
    try:
        _ORDER_ID.validate_python(text)
    except ValidationError:
        return False
    return True


@st.composite
def bad_arguments(draw: st.DrawFn) -> BadArguments:
    """An option with a value too long, blank, or no Unicode; or an ORDER_ID no order has."""
    if draw(st.integers(0, 4)) == 0:
        command = draw(st.sampled_from([approve_order, reject_order, cancel_order]))
        order_id = draw(st.text(max_size=80).filter(lambda text: not _is_order_id(text)))
        return BadArguments(command, ("--", order_id), "argument ORDER_ID")
    command, beside, option, longest = draw(st.sampled_from(_OPTIONS))
    word = draw(st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=9))
    value = draw(
        st.one_of(
            st.text(" \t\n\r\x0b\x0c", max_size=6),
            st.integers(longest + 1, longest + 10_000).map(lambda n: (word * n)[:n]),
            _NOT_UNICODE,
        )
    )
    return BadArguments(
        command, (*beside, f"{option}={value}", "--", ORDER_ID), f"argument {option}"
    )
