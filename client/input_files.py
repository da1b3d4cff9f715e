"""Reading an order or an address from a JSON file, with errors that name the field and why."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from domain.catalog import catalogue_skus, unknown_skus
from domain.order import Address, Order, OrderId
from domain.scenarios import Scenario
from infra.cli import BadInputError

ModelT = TypeVar("ModelT", bound=BaseModel)

_SECRET_FIELDS = frozenset({"payment_token"})
"""Fields whose rejected value is never echoed in an error message."""


def new_order_id(prefix: str = "ord") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def scenario_order_id(scenario: Scenario) -> str:
    """A fresh id that names the scenario: `approval-granted-1a2b3c4d`."""
    return new_order_id(scenario.name.replace("_", "-"))


_ORDER_ID: TypeAdapter[str] = TypeAdapter(OrderId)


def order_id_argument(text: str) -> str:
    """The type of `--order-id` and of every command's `ORDER_ID`: checked before anything is
    read, placed or looked up (an id no order can have is no unknown order: it is bad input)."""
    try:
        return _ORDER_ID.validate_python(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(
            f"{_short(text)} is not an order id: use 3 to 63 lower-case letters, digits and dashes"
        ) from error


def read_order(path: Path, order_id: str | None = None) -> Order:
    """An order file may leave out `order_id`; one is made up (or taken from `order_id`)."""
    data = _read_json_object(path)
    if order_id is not None:
        data["order_id"] = order_id
    data.setdefault("order_id", new_order_id())
    order = _validate(Order, data, path)
    _refuse_unknown_skus(order, path)
    return order


def read_address(path: Path) -> Address:
    return _validate(Address, _read_json_object(path), path)


MAX_PROBLEMS_SHOWN = 5
"""A document wrong in a thousand places (a thousand unknown fields) is told in one readable
line: the first few problems, and how many more there are."""


def describe_validation_error(
    error: ValidationError, names: Mapping[str, str] | None = None
) -> str:
    """`items.0.quantity: Input should be greater than 0 (got 0)`, one problem after another.
    `names`: what to call a top-level field instead (the option that set it: `argument --by`)."""
    problems = []
    for problem in error.errors(include_url=False)[:MAX_PROBLEMS_SHOWN]:
        parts = [str(part) for part in problem["loc"]]
        if parts and names:
            parts[0] = names.get(parts[0], parts[0])
        where = ".".join(parts) or "(the whole document)"
        secret = any(part in _SECRET_FIELDS for part in problem["loc"])
        shown = problem["type"] == "missing" or secret
        got = "" if shown else f" (got {_short(problem.get('input'))})"
        problems.append(f"{where}: {problem['msg']}{got}")
    more = error.error_count() - len(problems)
    return "; ".join(problems) + (f"; and {more} more problem(s)" if more > 0 else "")


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BadInputError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise BadInputError(
            f"{path} is not UTF-8 text: byte {error.start} is {error.object[error.start]:#04x}"
        ) from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInputError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    except RecursionError as error:  # `[[[[...]]]]` thousands deep: the decoder gives up
        raise BadInputError(f"{path} is nested too deeply to be an order or an address") from error
    except ValueError as error:  # the only other: a number too long to be read as an int
        raise BadInputError(
            f"{path} holds a number of more than {sys.get_int_max_str_digits()} digits"
        ) from error
    if not isinstance(data, dict):
        raise BadInputError(f"{path} must hold a JSON object, not {_json_kind(data)}")
    return data


def _json_kind(data: object) -> str:
    """What a JSON document holds instead of an object, in JSON's words: `an array`, `null`."""
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "a boolean"
    kinds = {list: "an array", str: "a string", int: "a number", float: "a number"}
    return kinds.get(type(data), type(data).__name__)


def _validate(model: type[ModelT], data: dict[str, Any], path: Path) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadInputError(f"{path}: {describe_validation_error(error)}") from error


def _refuse_unknown_skus(order: Order, path: Path) -> None:
    """An order for something the shop does not sell is refused here, before it is placed: once
    placed, it would reserve nothing and end cancelled."""
    unknown = unknown_skus(item.sku for item in order.items)
    if unknown:
        where = "; ".join(
            f"items.{index}.sku: unknown SKU {item.sku}"
            for index, item in enumerate(order.items)
            if item.sku in unknown
        )
        raise BadInputError(f"{path}: {where}: not in the catalogue ({catalogue_skus()})")


def _short(value: object) -> str:
    """The rejected value, cut short. A parsed value (a duration) is shown as Python prints it."""
    try:
        text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    except RecursionError:  # a list in a list... nearly as deep as the decoder reads
        return "a value nested too deeply to show"
    return text if len(text) <= 40 else text[:37] + "..."
