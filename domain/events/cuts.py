"""Cutting a payload down to what one consumer sees: the fields of its cut, at every depth.

Applied twice: by the bus, so that the consumer's history holds only its cut, and by the
consumer's inbox, so that an event published before payloads were cut (a history that holds the
whole payload) still reads as the cut. A field the payload's model does not know is kept, for
the cut's model to refuse: a malformed event is refused, not silently trimmed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from domain.personal import models_in


def cut(view: type[BaseModel], whole: type[BaseModel], data: Any) -> Any:
    """`data` (a payload of `whole`, as JSON) with only what `view` declares."""
    if view is whole or not isinstance(data, dict):
        return data
    kept: dict[str, Any] = {}
    for key, value in data.items():
        seen = view.model_fields.get(key)
        known = whole.model_fields.get(key)
        if seen is None:
            if known is None:
                kept[key] = value
            continue
        kept[key] = _cut_value(seen.annotation, known.annotation if known else None, value)
    return kept


def _cut_value(seen: Any, known: Any, value: Any) -> Any:
    views, wholes = models_in(seen), models_in(known)
    if not views or not wholes:
        return value
    if isinstance(value, list):
        return [cut(views[0], wholes[0], item) for item in value]
    return cut(views[0], wholes[0], value)


def missing_from(view: type[BaseModel], whole: type[BaseModel], prefix: str = "") -> list[str]:
    """The fields of `view` that `whole` lacks, at any depth: a cut may only leave out."""
    missing: list[str] = []
    for name, field in view.model_fields.items():
        known = whole.model_fields.get(name)
        if known is None:
            missing.append(f"{prefix}{name}")
            continue
        views, wholes = models_in(field.annotation), models_in(known.annotation)
        if views and wholes:
            missing += missing_from(views[0], wholes[0], f"{prefix}{name}.")
        elif views:
            missing.append(f"{prefix}{name}")
    return missing
