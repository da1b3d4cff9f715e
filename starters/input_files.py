"""Reading an order or an address from a JSON file, with errors that name the field and why."""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

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
    """The `--order-id` option's type: checked before anything is read or placed."""
    try:
        return _ORDER_ID.validate_python(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an order id: use 3 to 63 lower-case letters, digits and dashes"
        ) from error


def read_order(path: Path, order_id: str | None = None) -> Order:
    """An order file may leave out `order_id`; one is made up (or taken from `order_id`)."""
    data = _read_json_object(path)
    if order_id is not None:
        data["order_id"] = order_id
    data.setdefault("order_id", new_order_id())
    return _validate(Order, data, path)


def read_address(path: Path) -> Address:
    return _validate(Address, _read_json_object(path), path)


def describe_validation_error(error: ValidationError) -> str:
    """`items.0.quantity: Input should be greater than 0 (got 0)`, one problem after another."""
    problems = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "(the whole document)"
        secret = any(part in _SECRET_FIELDS for part in problem["loc"])
        shown = problem["type"] == "missing" or secret
        got = "" if shown else f" (got {_short(problem.get('input'))})"
        problems.append(f"{where}: {problem['msg']}{got}")
    return "; ".join(problems)


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BadInputError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInputError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    if not isinstance(data, dict):
        raise BadInputError(f"{path} must hold a JSON object, not {type(data).__name__}")
    return data


def _validate(model: type[ModelT], data: dict[str, Any], path: Path) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadInputError(f"{path}: {describe_validation_error(error)}") from error


def _short(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
