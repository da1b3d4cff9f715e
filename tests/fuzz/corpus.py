"""The hand-written malformed inputs, as data: each with what its refusal must name.

Order files and address files (`FileCase`), the arguments of every command about an order
(`ArgvCase`), and raw `event` signals a client that is not ours sends a participant
(`SignalCase`). Every case is malformed: none may change an order, a store or a workflow.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

from domain.events.envelope import Party
from starters import (
    approve_order,
    cancel_order,
    change_address,
    place_order,
    reject_order,
    resolve_order,
)

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2

TOKEN = "tok_visa_4242424242"
"""The valid order's payment token: never echoed in any refusal."""

MB = 1_000_000


def valid_address() -> dict[str, Any]:
    return {
        "recipient": "Grace Hopper",
        "line1": "1 Navy Yard",
        "line2": "Building 7",
        "city": "Arlington",
        "postal_code": "22202",
        "country": "US",
    }


def valid_order() -> dict[str, Any]:
    """An order every command takes (tests/fuzz checks it is), with every optional part present
    so that each can be broken."""
    return {
        "order_id": "fuzz-order",
        "customer": {"id": "customer-42", "email": "grace@example.com"},
        "items": [
            {"sku": "KB-001", "quantity": 1, "unit_price_cents": 8_900},
            {"sku": "MS-002", "quantity": 2, "unit_price_cents": 2_900},
        ],
        "shipping_address": valid_address(),
        "payment_token": TOKEN,
        "timeouts": {
            "approval_window": "PT30M",
            "handling_time": "PT30S",
            "delivery_deadline": "PT1M",
            "lost_after": "PT5M",
            "compensation_budget": "PT1H",
        },
        "faults": {
            "out_of_stock": False,
            "payment_decline": False,
            "payment_transient_errors": 0,
            "void_refusals": 0,
            "carrier_booking_latency": "PT0S",
            "carrier_rejects": False,
            "carrier": {"pickup_after": "PT1S", "deliver_after": "PT1S"},
        },
    }


Path = tuple[str | int, ...]


def changed(document: dict[str, Any], path: Path, value: object) -> dict[str, Any]:
    """A copy of the document with the value at `path` replaced (or added)."""
    copied = copy.deepcopy(document)
    parent: Any = copied
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return copied


def dropped(document: dict[str, Any], path: Path) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    parent: Any = copied
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return copied


def nested_lists(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a": ' * depth + "{}" + "}" * depth


@dataclass(frozen=True)
class FileCase:
    """A file given to a command; the refusal names the file's path and each of `says`."""

    name: str
    content: Callable[[], str | bytes]
    says: tuple[str, ...]


def as_json(document: object) -> Callable[[], str]:
    return lambda: json.dumps(document)


def order(path: Path, value: object, *says: str) -> FileCase:
    """The valid order with one value changed; the refusal names `path` unless told what."""
    where = ".".join(str(part) for part in path)
    return FileCase(f"{where}={_label(value)}", as_json(changed(valid_order(), path, value)), says)


def _label(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 20 else f"{text[:12]}...({len(text)})"


def _items(*skus_quantities_prices: tuple[str, int, int]) -> list[dict[str, Any]]:
    return [
        {"sku": sku, "quantity": quantity, "unit_price_cents": price}
        for sku, quantity, price in skus_quantities_prices
    ]


_ORDER = valid_order()
_HUGE = "x" * (5 * MB)

ORDER_FILES: tuple[FileCase, ...] = (
    # Not a JSON object at all.
    FileCase("empty", lambda: "", ("is not valid JSON",)),
    FileCase("truncated", lambda: '{"customer": ', ("is not valid JSON", "line 1")),
    FileCase("trailing-comma", lambda: json.dumps(_ORDER)[:-1] + ",}", ("is not valid JSON",)),
    FileCase("an-array", lambda: "[]", ("must hold a JSON object, not an array",)),
    FileCase("a-string", lambda: '"order"', ("not a string",)),
    FileCase("a-number", lambda: "42", ("not a number",)),
    FileCase("null", lambda: "null", ("not null",)),
    FileCase("true", lambda: "true", ("not a boolean",)),
    FileCase("nested-lists-10000", lambda: nested_lists(10_000), ("nested too deeply",)),
    FileCase("nested-objects-10000", lambda: nested_objects(10_000), ("nested too deeply",)),
    FileCase(
        "nested-10000-in-a-field",
        lambda: json.dumps(_ORDER)[:-1] + ', "junk": ' + nested_lists(10_000) + "}",
        ("nested too deeply",),
    ),
    FileCase(
        "latin-1",
        lambda: json.dumps(_ORDER).replace("Grace", "Gr\xe2ce").encode("latin-1"),
        ("is not UTF-8 text", "byte"),
    ),
    FileCase("utf-16", lambda: json.dumps(_ORDER).encode("utf-16"), ("is not UTF-8 text",)),
    FileCase("utf-8-bom", lambda: "\ufeff" + json.dumps(_ORDER), ("Unexpected UTF-8 BOM",)),
    FileCase(
        "number-of-5000-digits",
        lambda: json.dumps(_ORDER).replace('"quantity": 1,', '"quantity": ' + "9" * 5000 + ","),
        ("more than 4300 digits",),
    ),
    FileCase(
        "nan-quantity",
        lambda: json.dumps(changed(_ORDER, ("items", 0, "quantity"), float("nan"))),
        ("items.0.quantity", "finite number"),
    ),
    FileCase(
        "infinite-price",
        lambda: json.dumps(changed(_ORDER, ("items", 1, "unit_price_cents"), float("inf"))),
        ("items.1.unit_price_cents",),
    ),
    # Fields: missing, of the wrong type, out of range, unknown.
    FileCase(
        "no-customer", as_json(dropped(_ORDER, ("customer",))), ("customer", "Field required")
    ),
    FileCase("no-items", as_json(dropped(_ORDER, ("items",))), ("items", "Field required")),
    FileCase("no-address", as_json(dropped(_ORDER, ("shipping_address",))), ("shipping_address",)),
    FileCase("no-token", as_json(dropped(_ORDER, ("payment_token",))), ("payment_token",)),
    FileCase("no-email", as_json(dropped(_ORDER, ("customer", "email"))), ("customer.email",)),
    FileCase("no-sku", as_json(dropped(_ORDER, ("items", 1, "sku"))), ("items.1.sku",)),
    order(("items", 0, "quantity"), 0, "items.0.quantity", "greater than 0"),
    order(("items", 0, "quantity"), -1, "items.0.quantity"),
    order(("items", 0, "quantity"), 1001, "items.0.quantity"),
    order(("items", 0, "quantity"), 10**30, "items.0.quantity"),
    order(("items", 0, "quantity"), 1.5, "items.0.quantity"),
    order(("items", 0, "quantity"), "two", "items.0.quantity"),
    order(("items", 0, "quantity"), None, "items.0.quantity"),
    order(("items", 1, "unit_price_cents"), 0, "items.1.unit_price_cents"),
    order(("items", 1, "unit_price_cents"), 10_000_001, "items.1.unit_price_cents"),
    order(
        ("items",),
        _items(("KB-001", 1000, 10_000_000), ("MS-002", 1000, 10_000_000)),
        "items",
        "total",
    ),
    order(("items", 1, "sku"), "ZZ-9", "items.1.sku", "unknown SKU ZZ-9", "catalogue"),
    order(("items",), _items(("NOPE-1", 1, 100), ("KB-001", 1, 8_900)), "items.0.sku", "NOPE-1"),
    order(("items", 0, "sku"), "kb-001", "items.0.sku"),
    order(("items", 0, "sku"), "K" * 33, "items.0.sku"),
    order(("items", 1, "sku"), "KB-001", "items", "appears twice"),
    order(("items",), [], "items"),
    order(("items",), _items(*((f"SKU-{n}", 1, 1) for n in range(51))), "items", "at most 50"),
    order(("items",), {"sku": "KB-001", "quantity": 1}, "items"),
    order(("items", 0), "KB-001", "items.0"),
    order(("customer",), "customer-42", "customer"),
    order(("customer",), [], "customer"),
    order(("customer", "email"), "not-an-email", "customer.email"),
    order(("customer", "email"), 42, "customer.email"),
    order(("customer", "id"), "", "customer.id"),
    order(("customer", "id"), "   ", "customer.id"),
    FileCase(
        "customer.id=5MB",
        lambda: json.dumps(changed(_ORDER, ("customer", "id"), _HUGE)),
        ("customer.id", "at most 64"),
    ),
    order(("payment_token",), "tok_1", "payment_token"),
    order(("payment_token",), 4242424242, "payment_token"),
    FileCase(
        "payment_token=1MB",
        lambda: json.dumps(changed(_ORDER, ("payment_token",), "tok_" + "4" * MB)),
        ("payment_token",),
    ),
    order(("payment_token",), {"token": TOKEN}, "payment_token"),
    order(("coupon",), "FREE", "coupon", "Extra inputs are not permitted"),
    order(("customer", "vip"), True, "customer.vip"),
    order(("items", 0, "colour"), "red", "items.0.colour"),
    order(("shipping_address", "country"), "Germany", "shipping_address.country"),
    order(("shipping_address", "postal_code"), "!!", "shipping_address.postal_code"),
    order(("shipping_address", "recipient"), "\ud800", "shipping_address.recipient"),
    order(("shipping_address", "line1"), None, "shipping_address.line1"),
    order(("order_id",), "Not An Id!", "order_id"),
    FileCase(
        "order_id=5MB",
        lambda: json.dumps(changed(_ORDER, ("order_id",), "o" * (5 * MB))),
        ("order_id",),
    ),
    # Durations: out of range, overflowing, negative, of the wrong type.
    order(("timeouts", "approval_window"), "P999999999D", "timeouts.approval_window", "365 days"),
    order(("timeouts", "approval_window"), "P1000000000000D", "timeouts.approval_window"),
    order(("timeouts", "approval_window"), 10**12 * 86_400, "timeouts.approval_window"),
    order(("timeouts", "approval_window"), 1e308, "timeouts.approval_window"),
    order(("timeouts", "approval_window"), "-P1D", "timeouts.approval_window", "greater than 0"),
    order(("timeouts", "approval_window"), "PT0S", "timeouts.approval_window"),
    order(("timeouts", "approval_window"), "soon", "timeouts.approval_window"),
    order(("timeouts", "handling_time"), "P100000D", "timeouts.handling_time"),
    order(("timeouts", "handling_time"), -1, "timeouts.handling_time"),
    order(("timeouts", "delivery_deadline"), "PT10M", "timeouts", "lost_after"),
    order(("timeouts", "lost_after"), "P366D", "timeouts.lost_after"),
    order(("timeouts", "compensation_budget"), "P400D", "timeouts.compensation_budget"),
    order(("timeouts", "forever"), "P1D", "timeouts.forever"),
    order(("timeouts",), "PT30M", "timeouts"),
    order(("faults", "carrier", "pickup_after"), "P999999999D", "faults.carrier.pickup_after"),
    order(("faults", "carrier", "deliver_after"), "-PT1S", "faults.carrier.deliver_after"),
    order(("faults", "carrier", "deliver_after"), "P1000D", "faults.carrier.deliver_after"),
    order(("faults", "carrier_booking_latency"), "PT11M", "faults.carrier_booking_latency"),
    order(("faults", "payment_transient_errors"), 21, "faults.payment_transient_errors"),
    order(("faults", "void_refusals"), -1, "faults.void_refusals"),
    order(("faults", "out_of_stock"), "maybe", "faults.out_of_stock"),
    order(("faults", "meteor"), True, "faults.meteor"),
    # Many problems at once: the first few, and a count.
    FileCase(
        "1000-unknown-fields",
        as_json({**_ORDER, **{f"x{n}": n for n in range(1000)}}),
        ("x0: Extra inputs are not permitted", "more problem(s)"),
    ),
)


ADDRESS = valid_address()


def address(path: Path, value: object, *says: str) -> FileCase:
    where = ".".join(str(part) for part in path)
    return FileCase(f"{where}={_label(value)}", as_json(changed(ADDRESS, path, value)), says)


ADDRESS_FILES: tuple[FileCase, ...] = (
    FileCase("empty", lambda: "", ("is not valid JSON",)),
    FileCase("an-array", lambda: json.dumps([ADDRESS]), ("not an array",)),
    FileCase("nested-lists-10000", lambda: nested_lists(10_000), ("nested too deeply",)),
    FileCase("nested-objects-10000", lambda: nested_objects(10_000), ("nested too deeply",)),
    FileCase(
        "latin-1",
        lambda: json.dumps(ADDRESS).replace("Grace", "Gr\xe2ce").encode("latin-1"),
        ("is not UTF-8 text",),
    ),
    FileCase(
        "number-of-5000-digits",
        lambda: '{"recipient": ' + "1" * 5000 + "}",
        ("more than 4300 digits",),
    ),
    FileCase("no-recipient", as_json(dropped(ADDRESS, ("recipient",))), ("recipient",)),
    FileCase("no-city", as_json(dropped(ADDRESS, ("city",))), ("city", "Field required")),
    FileCase("wrapped", as_json({"address": ADDRESS}), ("recipient: Field required", "1 more")),
    FileCase("an-order", as_json(_ORDER), ("recipient: Field required", "more problem(s)")),
    FileCase("all-wrong", as_json(dict.fromkeys(ADDRESS, 7)), ("recipient", "more problem(s)")),
    address(("recipient",), "", "recipient"),
    address(("recipient",), "r" * 101, "recipient", "at most 100"),
    FileCase("line1=5MB", lambda: json.dumps(changed(ADDRESS, ("line1",), _HUGE)), ("line1",)),
    address(("line2",), 5, "line2"),
    address(("line2",), "l" * 201, "line2"),
    address(("city",), ["Arlington"], "city"),
    address(("postal_code",), "1234567890123", "postal_code"),
    address(("postal_code",), "22 202!", "postal_code"),
    address(("country",), "us", "country"),
    address(("country",), "USA", "country"),
    address(("country",), None, "country"),
    address(("floor",), 3, "floor", "Extra inputs are not permitted"),
    address(("recipient",), {"name": "Grace"}, "recipient"),
    address(("city",), "\udfff", "city"),
    address(("recipient",), json.loads(nested_lists(50)), "recipient"),
)


ORDER = "<the order's id>"
"""In an argument list: the id of the order the command is sent to."""
ADDRESS_FILE = "<a valid address file>"


@dataclass(frozen=True)
class ArgvCase:
    """A command's arguments; the refusal names each of `says`."""

    name: str
    command: ModuleType
    argv: tuple[str, ...]
    says: tuple[str, ...]
    code: int = EXIT_BAD_INPUT

    def arguments(self, order_id: str, address_file: str) -> list[str]:
        replace = {ORDER: order_id, ADDRESS_FILE: address_file}
        return [replace.get(arg, arg) for arg in self.argv]


def argv(
    command: ModuleType, name: str, *args: str, says: str, code: int = EXIT_BAD_INPUT
) -> ArgvCase:
    return ArgvCase(name, command, args, (says,), code)


_BIG = "y" * (5 * MB)
_SURROGATE = "\udcff"  # what `python -m` makes of a byte that is no UTF-8 in an argument

UPDATE_ARGUMENTS: dict[str, tuple[ArgvCase, ...]] = {
    "approve": (
        argv(approve_order, "empty-approver", ORDER, "--approver", "", says="argument --approver"),
        argv(
            approve_order, "blank-approver", ORDER, "--approver", "   ", says="argument --approver"
        ),
        argv(approve_order, "long-approver", ORDER, "--approver", "a" * 65, says="at most 64"),
        argv(approve_order, "5MB-approver", ORDER, "--approver", _BIG, says="argument --approver"),
        argv(
            approve_order,
            "surrogate-approver",
            ORDER,
            "--approver",
            _SURROGATE,
            says="argument --approver",
        ),
        argv(approve_order, "empty-comment", ORDER, "--comment", "", says="argument --comment"),
        argv(approve_order, "long-comment", ORDER, "--comment", "c" * 501, says="at most 500"),
        argv(approve_order, "5MB-comment", ORDER, "--comment", _BIG, says="argument --comment"),
        argv(approve_order, "bad-id", "Not An Id!", says="argument ORDER_ID"),
        argv(approve_order, "upper-case-id", "ORD-1", says="argument ORDER_ID"),
        argv(approve_order, "5MB-id", "o" * (5 * MB), says="argument ORDER_ID"),
        argv(approve_order, "empty-id", "", says="argument ORDER_ID"),
        argv(approve_order, "no-id", says="ORDER_ID"),
        argv(approve_order, "unknown-option", ORDER, "--force", says="unrecognized arguments"),
        argv(approve_order, "no-approver-value", ORDER, "--approver", says="argument --approver"),
        argv(approve_order, "5MB-unknown-option", ORDER, "--" + _BIG, says="unrecognized"),
        argv(approve_order, "unknown-order", "fuzz-no-such-order", says="no order with id"),
    ),
    "reject": (
        argv(reject_order, "empty-reason", ORDER, "--reason", "", says="argument --reason"),
        argv(reject_order, "long-reason", ORDER, "--reason", "r" * 501, says="argument --reason"),
        argv(reject_order, "5MB-reason", ORDER, "--reason", _BIG, says="argument --reason"),
        argv(
            reject_order,
            "surrogate-reason",
            ORDER,
            "--reason",
            _SURROGATE,
            says="argument --reason",
        ),
        argv(reject_order, "empty-approver", ORDER, "--approver", "", says="argument --approver"),
        argv(reject_order, "two-ids", ORDER, "fuzz-other-order", says="unrecognized arguments"),
        argv(reject_order, "bad-id", "ord_1", says="argument ORDER_ID"),
        argv(reject_order, "unknown-order", "fuzz-no-such-order", says="no order with id"),
    ),
    "cancel": (
        argv(cancel_order, "empty-by", ORDER, "--by", "", says="argument --by"),
        argv(cancel_order, "long-by", ORDER, "--by", "b" * 65, says="argument --by"),
        argv(cancel_order, "5MB-by", ORDER, "--by", _BIG, says="argument --by"),
        argv(cancel_order, "surrogate-by", ORDER, "--by", _SURROGATE, says="argument --by"),
        argv(cancel_order, "empty-reason", ORDER, "--reason", "", says="argument --reason"),
        argv(cancel_order, "long-reason", ORDER, "--reason", "r" * 501, says="argument --reason"),
        argv(cancel_order, "bad-id", "-", says="argument ORDER_ID"),
        argv(cancel_order, "unknown-order", "fuzz-no-such-order", says="no order with id"),
    ),
    "change_address": (
        argv(change_address, "no-file", ORDER, says="--address-file"),
        argv(
            change_address,
            "missing-file",
            ORDER,
            "--address-file",
            "/nonexistent/address.json",
            says="cannot read /nonexistent/address.json",
        ),
        argv(change_address, "a-directory", ORDER, "--address-file", "/", says="cannot read /"),
        argv(
            change_address,
            "bad-id",
            "Not An Id!",
            "--address-file",
            ADDRESS_FILE,
            says="argument ORDER_ID",
        ),
        argv(
            change_address,
            "unknown-order",
            "fuzz-no-such-order",
            "--address-file",
            ADDRESS_FILE,
            says="no order with id",
        ),
    ),
    "resolve": (
        argv(resolve_order, "no-action", ORDER, says="--retry --mark-done"),
        argv(resolve_order, "both-actions", ORDER, "--retry", "--mark-done", says="not allowed"),
        argv(
            resolve_order,
            "mark-done-no-note",
            ORDER,
            "--mark-done",
            says="--mark-done needs --note",
        ),
        argv(resolve_order, "retry-with-note", ORDER, "--retry", "--note", "x", says="--note goes"),
        argv(
            resolve_order, "empty-note", ORDER, "--mark-done", "--note", "", says="argument --note"
        ),
        argv(
            resolve_order,
            "long-note",
            ORDER,
            "--mark-done",
            "--note",
            "n" * 501,
            says="argument --note",
        ),
        argv(resolve_order, "empty-by", ORDER, "--retry", "--by", "", says="argument --by"),
        argv(resolve_order, "5MB-by", ORDER, "--retry", "--by", _BIG, says="argument --by"),
        argv(resolve_order, "bad-id", "Order 1", "--retry", says="argument ORDER_ID"),
        # Well-formed, and refused by the order: nothing is parked while it awaits approval.
        argv(
            resolve_order,
            "nothing-parked-retry",
            ORDER,
            "--retry",
            says="no compensation is parked",
            code=EXIT_REFUSED,
        ),
        argv(
            resolve_order,
            "nothing-parked-mark-done",
            ORDER,
            "--mark-done",
            "--note",
            "undone",
            says="no compensation is parked",
            code=EXIT_REFUSED,
        ),
    ),
}
"""Each update's malformed (or refused) arguments, sent to a real waiting order."""

PLACE_ARGUMENTS: tuple[ArgvCase, ...] = (
    argv(place_order, "no-file-value", "--order-file", says="argument --order-file"),
    argv(place_order, "5MB-style", "--style", _BIG, says="argument --style: invalid choice"),
    argv(place_order, "5MB-order-id", "--order-id", _BIG, says="argument --order-id"),
    argv(
        place_order,
        "file-and-scenario",
        "--order-file",
        "x.json",
        "--scenario",
        "happy",
        says="not allowed with argument",
    ),
    argv(place_order, "unknown-scenario", "--scenario", "apocalypse", says="argument --scenario"),
)
"""place_order's own malformed arguments (its order files are above)."""


class Fate(StrEnum):
    """What a participant does with an `event` signal that does not fit."""

    REFUSED = "refused"
    """Kept in its `participant` query with the reason: the signal reached the inbox."""
    UNDECODABLE = "undecodable"
    """Not even a value: the SDK drops the signal before any handler runs."""


@dataclass(frozen=True)
class SignalCase:
    """An `event` signal sent with `temporal workflow signal`: `inputs` are each `--input`
    (as files when large), `meta` its `--input-meta`. `says`: in the refusal's reason."""

    name: str
    party: Party
    inputs: Callable[[str], tuple[str, ...]]
    fate: Fate
    says: str = ""
    meta: str | None = None


def envelope(for_order: str, **fields: Any) -> dict[str, Any]:
    """An envelope from the inventory as well-formed as the case allows; `fields` break it."""
    base: dict[str, Any] = {
        "event_id": "fuzz-event",
        "type": "StockReserved",
        "order_id": for_order,
        "occurred_at": "2026-01-01T00:00:00Z",
        "producer": "inventory",
        "payload": {"order": {**valid_order(), "order_id": for_order}, "units": 1},
    }
    return {**base, **fields}


def one(build: Callable[[str], object]) -> Callable[[str], tuple[str, ...]]:
    return lambda order_id: (json.dumps(build(order_id)),)


def text(raw: str) -> Callable[[str], tuple[str, ...]]:
    return lambda _: (raw,)


_ORDERS, _INVENTORY, _PAYMENTS = Party.ORDERS, Party.INVENTORY, Party.PAYMENTS
_REFUSED, _UNDECODABLE = Fate.REFUSED, Fate.UNDECODABLE
_MALFORMED = "malformed envelope"

SIGNALS: tuple[SignalCase, ...] = (
    SignalCase("a-string", _ORDERS, text('"StockReserved"'), _REFUSED, _MALFORMED),
    SignalCase("a-number", _ORDERS, text("42"), _REFUSED, _MALFORMED),
    SignalCase("null", _ORDERS, text("null"), _REFUSED, _MALFORMED),
    SignalCase("an-array", _ORDERS, text("[1, 2]"), _REFUSED, _MALFORMED),
    SignalCase("empty-object", _ORDERS, text("{}"), _REFUSED, "event_id: Field required"),
    SignalCase("no-input", _ORDERS, lambda _: (), _REFUSED, _MALFORMED),
    SignalCase(
        "two-inputs", _ORDERS, lambda o: (json.dumps(envelope(o)),) * 2, _REFUSED, _MALFORMED
    ),
    SignalCase(
        "no-type",
        _ORDERS,
        one(lambda o: {k: v for k, v in envelope(o, event_id="fz-1").items() if k != "type"}),
        _REFUSED,
        "type: Field required",
    ),
    SignalCase(
        "unknown-type",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-2", type="OrderTeleported")),
        _REFUSED,
        "unknown event type 'OrderTeleported'",
    ),
    SignalCase(
        "empty-payload",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-3", payload={})),
        _REFUSED,
        "malformed StockReserved payload",
    ),
    SignalCase(
        "payload-a-string",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-4", payload="x")),
        _REFUSED,
        "payload",
    ),
    SignalCase(
        "wrong-payload-types",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-5", payload={"order": 1, "units": "many"})),
        _REFUSED,
        "malformed StockReserved payload",
    ),
    SignalCase(
        "another-order",
        _ORDERS,
        one(
            lambda o: envelope(
                o,
                event_id="fz-6",
                order_id="fuzz-someone-else",
                payload={"order": {**valid_order(), "order_id": "fuzz-someone-else"}, "units": 1},
            )
        ),
        _REFUSED,
        "for order fuzz-someone-else",
    ),
    SignalCase(
        "not-an-order-id",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-7", order_id="NOT AN ID")),
        _REFUSED,
        "order_id",
    ),
    SignalCase(
        "unknown-envelope-field",
        _ORDERS,
        one(lambda o: {**envelope(o, event_id="fz-8"), "priority": 1}),
        _REFUSED,
        "priority: Extra inputs",
    ),
    SignalCase(
        "unknown-payload-field",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-9", payload={**envelope(o)["payload"], "bonus": 1})),
        _REFUSED,
        "bonus",
    ),
    SignalCase(
        "wrong-producer",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-10", producer="payments")),
        _REFUSED,
        "comes from inventory, not from payments",
    ),
    SignalCase(
        "unknown-producer",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-11", producer="martians")),
        _REFUSED,
        "producer",
    ),
    SignalCase(
        "not-for-orders",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-12", type="OrderConfirmed", producer="orders")),
        _REFUSED,
        "OrderConfirmed",
    ),
    SignalCase(
        "event-id-too-long",
        _ORDERS,
        one(lambda o: envelope(o, event_id="e" * 65)),
        _REFUSED,
        "event_id",
    ),
    SignalCase(
        "bad-timestamp",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-13", occurred_at="yesterday")),
        _REFUSED,
        "occurred_at",
    ),
    SignalCase(
        "1MB-payload",
        _ORDERS,
        one(lambda o: envelope(o, event_id="fz-14", payload={"junk": "j" * MB})),
        _REFUSED,
        "malformed StockReserved payload",
    ),
    SignalCase(
        "1MB-event-id", _ORDERS, one(lambda o: envelope(o, event_id="i" * MB)), _REFUSED, "event_id"
    ),
    SignalCase(
        "nested-100",
        _ORDERS,
        lambda o: (
            json.dumps(envelope(o, event_id="fz-15"))[:-1] + ', "junk": ' + nested_lists(100) + "}",
        ),
        _REFUSED,
        "junk",
    ),
    SignalCase("nested-10000", _ORDERS, text(nested_lists(10_000)), _UNDECODABLE),
    SignalCase(
        "number-of-5000-digits",
        _ORDERS,
        text('{"schema_version": ' + "7" * 5000 + "}"),
        _UNDECODABLE,
    ),
    SignalCase(
        "bytes", _ORDERS, text("garbage"), _REFUSED, _MALFORMED, meta="encoding=binary/plain"
    ),
    SignalCase("unknown-encoding", _ORDERS, text("{}"), _UNDECODABLE, meta="encoding=binary/zip"),
    SignalCase("inventory-empty-object", _INVENTORY, text("{}"), _REFUSED, _MALFORMED),
    SignalCase(
        "inventory-not-for-it",
        _INVENTORY,
        one(
            lambda o: envelope(
                o,
                event_id="fz-16",
                type="PaymentAuthorized",
                producer="payments",
                payload={"authorization_id": "auth-1", "amount_cents": 1},
            )
        ),
        _REFUSED,
        "not for inventory",
    ),
    SignalCase(
        "inventory-cancel-with-bad-reason",
        _INVENTORY,
        one(
            lambda o: envelope(
                o,
                event_id="fz-17",
                type="OrderCancelled",
                producer="orders",
                payload={"reason": "meteor", "detail": "boom"},
            )
        ),
        _REFUSED,
        "malformed OrderCancelled payload",
    ),
    SignalCase(
        "payments-another-order",
        _PAYMENTS,
        one(
            lambda o: envelope(
                o,
                event_id="fz-18",
                type="OrderCancelled",
                producer="orders",
                order_id="fuzz-someone-else",
                payload={"reason": "customer_cancelled", "detail": "x"},
            )
        ),
        _REFUSED,
        "for order fuzz-someone-else",
    ),
    SignalCase("payments-nested-5000", _PAYMENTS, text(nested_objects(5_000)), _UNDECODABLE),
)
"""Raw `event` signals, each sent by the Temporal CLI to a participant of a waiting order."""


RAW_UPDATES: tuple[tuple[str, str, str], ...] = (
    ("approve", "{}", "Field required"),
    ("approve", '"yes"', "Input should be an object"),
    ("approve", '{"approver": "grace", "force": true}', "Extra inputs are not permitted"),
    ("change_address", '{"address": {"recipient": "x"}}', "Field required"),
    ("resolve", '{"action": "explode", "resolved_by": "x"}', "'retry' or 'mark_done'"),
    ("cancel", '{"requested_by": "' + "c" * 65 + '"}', "at most 64 characters"),
)
"""Updates sent by the Temporal CLI, with arguments our commands would never build: (update,
its --input, what the refusal says). The SDK refuses them before any handler runs."""
