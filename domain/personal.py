"""Personal data, declared on the field that holds it, so that the event contract can check who
is handed what (`domain/events/checks.py`) instead of trusting each payload's author.

A field says what it holds with a marker in its annotation: `Annotated[str, PersonalData.EMAIL]`.
A model that holds a marked field, however deep, carries that personal data.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Union

from pydantic import BaseModel


class PersonalData(StrEnum):
    EMAIL = "email"
    ADDRESS = "address"
    PAYMENT_TOKEN = "payment token"


@dataclass(frozen=True)
class Carried:
    path: str
    """Where in the payload: `order.customer.email`."""
    kind: PersonalData


def _unwrapped(annotation: Any) -> tuple[list[Any], list[Any]]:
    """The markers on an annotation and the types inside it (`X | None`, `list[X]`, Annotated)."""
    markers: list[Any] = []
    inner: list[Any] = []
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *extra = typing.get_args(annotation)
        markers.extend(extra)
        more_markers, more_inner = _unwrapped(base)
        return markers + more_markers, inner + more_inner
    if origin in (Union, types.UnionType, list, tuple, set, frozenset):
        for arg in typing.get_args(annotation):
            more_markers, more_inner = _unwrapped(arg)
            markers += more_markers
            inner += more_inner
        return markers, inner
    return markers, [annotation]


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's annotation holds (`Address | None` -> [Address])."""
    return [
        t for t in _unwrapped(annotation)[1] if isinstance(t, type) and issubclass(t, BaseModel)
    ]


def carried_by(model: type[BaseModel], prefix: str = "") -> list[Carried]:
    """Every piece of personal data a payload of this model may carry, and where."""
    found: list[Carried] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        markers = [*field.metadata, *_unwrapped(field.annotation)[0]]
        found += [Carried(path, marker) for marker in markers if isinstance(marker, PersonalData)]
        for nested in models_in(field.annotation):
            found += carried_by(nested, f"{path}.")
    return found
