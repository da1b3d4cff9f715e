"""Which changes to the event contract an event in flight survives.

An order lives for weeks, and its events outlive the build that published them: in a signal not
yet delivered, in a participant's history, in a receiver started on the next build. A change
is compatible when a receiver of the new contract still takes every event the old one let out,
and breaking when it would refuse one or read it wrongly:

| change | verdict |
|---|---|
| an event type, a reaction, an optional field added; a field made optional | compatible |
| an event type removed (or renamed), its producer changed, a reaction removed | breaking |
| a field removed, retyped, made required or added as required; a tighter constraint | breaking* |
| the event's meaning changed (its summary, its payload's description) | breaking* |
| an older schema version no longer read | breaking |

*Unless covered: a payload change is covered when the event's `schema_version` went up and
the receivers still read the version before (`EventSpec.older`, with its upgrade): events of
that version are upgraded, not refused. What a reaction may publish, and the flags, are noted
as compatible: they change what happens next, never whether an event in flight is taken.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.events.snapshot import Snapshot


class Verdict(StrEnum):
    COMPATIBLE = "compatible"
    BREAKING = "breaking"


@dataclass(frozen=True)
class Change:
    verdict: Verdict
    event: str
    what: str

    def __str__(self) -> str:
        return f"{self.verdict.value}: {self.event}: {self.what}"


def changes(before: Snapshot, after: Snapshot) -> list[Change]:
    """Every change from `before` to `after`, event by event in `after`'s order, the removed
    ones first."""
    old, new = before["events"], after["events"]
    found = [*_removed(old, new)]
    for name, event in new.items():
        if name not in old:
            found.append(Change(Verdict.COMPATIBLE, name, "added"))
        else:
            found += _event_changes(name, old[name], event)
    return found


def is_breaking(found: list[Change]) -> bool:
    return any(change.verdict is Verdict.BREAKING for change in found)


def _removed(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Change]:
    added = [name for name in new if name not in old]
    for name, event in old.items():
        if name in new:
            continue
        twins = [other for other in added if new[other]["payload"] == event["payload"]]
        renamed = f" (renamed to {', '.join(twins)}?)" if twins else ""
        yield Change(
            Verdict.BREAKING,
            name,
            f"removed{renamed}: an event of it in flight would be refused",
        )


def _event_changes(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    found: list[Change] = []
    if old["producer"] != new["producer"]:
        found.append(
            Change(
                Verdict.BREAKING,
                name,
                f"producer {old['producer']} -> {new['producer']}: receivers refuse an event "
                "from another producer than the contract's",
            )
        )
    found += _reaction_changes(name, old["reactions"], new["reactions"])
    for flag in ("terminal", "compensable", "compensates"):
        if old[flag] != new[flag]:
            found.append(Change(Verdict.COMPATIBLE, name, f"{flag} {old[flag]} -> {new[flag]}"))
    found += _version_changes(name, old, new)
    return found


def _reaction_changes(
    name: str, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterator[Change]:
    for consumer in old:
        if consumer not in new:
            yield Change(
                Verdict.BREAKING,
                name,
                f"{consumer} no longer reacts: an event of it in flight to {consumer} would be "
                "refused",
            )
    for consumer, reaction in new.items():
        if consumer not in old:
            yield Change(Verdict.COMPATIBLE, name, f"{consumer} reacts too")
            continue
        was, now = set(old[consumer]["publishes"]), set(reaction["publishes"])
        for event in sorted(now - was):
            yield Change(Verdict.COMPATIBLE, name, f"{consumer} may now publish {event}")
        for event in sorted(was - now):
            yield Change(Verdict.COMPATIBLE, name, f"{consumer} no longer publishes {event}")


def _version_changes(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """The payload's and the meaning's changes, covered or not by a version kept readable."""
    was, now = old["schema_version"], new["schema_version"]
    still_read = was in new["versions_read"]
    covered = now > was and still_read
    found: list[Change] = []
    payload = list(_schema_changes(old["payload"], new["payload"]))
    for consumer, reaction in new["reactions"].items():
        was_seen = old["reactions"].get(consumer, {}).get("sees")
        if was_seen is not None and reaction["sees"] is not None:
            seen = _schema_changes(was_seen, reaction["sees"])
            payload += [(breaking, f"{consumer}'s cut: {what}") for breaking, what in seen]
    for what_changed in _meaning_changes(old, new):
        payload.append((True, what_changed))
    for breaking, what in dict.fromkeys(payload):
        if not breaking:
            found.append(Change(Verdict.COMPATIBLE, name, what))
        elif covered:
            found.append(
                Change(
                    Verdict.COMPATIBLE,
                    name,
                    f"{what} (schema version {was} -> {now}; version {was} still read)",
                )
            )
        else:
            found.append(Change(Verdict.BREAKING, name, f"{what}{_remedy(was, now, still_read)}"))
    if now < was:
        found.append(Change(Verdict.BREAKING, name, f"schema version went down: {was} -> {now}"))
    elif now > was and not still_read:
        found.append(
            Change(
                Verdict.BREAKING,
                name,
                f"schema version {was} -> {now}, and version {was} is no longer read: declare "
                f"an upgrade from it (OlderSchema(version={was}, ...))",
            )
        )
    elif now > was and not payload:
        found.append(Change(Verdict.COMPATIBLE, name, f"schema version {was} -> {now}"))
    for version in old["versions_read"]:
        if version != was and version not in new["versions_read"]:
            found.append(
                Change(
                    Verdict.BREAKING,
                    name,
                    f"schema version {version} is no longer read: any event of it in flight "
                    "would be refused",
                )
            )
    return found


def _remedy(was: int, now: int, still_read: bool) -> str:
    if now > was:
        return "" if still_read else f": version {was} must still be read"
    return (
        f": bump its schema_version to {was + 1} and keep a reader for {was} "
        f"(OlderSchema(version={was}, upgrade=...))"
    )


def _meaning_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    if old["summary"] != new["summary"]:
        yield f"meaning changed: summary {old['summary']!r} -> {new['summary']!r}"
    if old["payload"].get("description") != new["payload"].get("description"):
        yield "meaning changed: the payload's description"


# -- JSON schemas, as pydantic writes them ---------------------------------------------------

_LOOSER_WHEN_LARGER = frozenset({"maxLength", "maxItems", "maximum", "exclusiveMaximum"})
_LOOSER_WHEN_SMALLER = frozenset({"minLength", "minItems", "minimum", "exclusiveMinimum"})
_CONSTRAINTS = _LOOSER_WHEN_LARGER | _LOOSER_WHEN_SMALLER | {"pattern", "format", "const"}
"""Compared one by one; titles, descriptions and defaults are wording, not shape (the meaning is
the event's summary and its payload's description: `_meaning_changes`)."""

SchemaChange = tuple[bool, str]
"""Whether it breaks, and what changed."""


@dataclass(frozen=True)
class _Defs:
    """The models each side's `$ref`s name (pydantic's `$defs`)."""

    old: Mapping[str, Any]
    new: Mapping[str, Any]


def _schema_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[SchemaChange]:
    defs = _Defs(old.get("$defs", {}), new.get("$defs", {}))
    yield from _compare(old, new, defs, "", set())


def _compare(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    defs: _Defs,
    path: str,
    visiting: set[tuple[str, str]],
) -> Iterator[SchemaChange]:
    old, old_ref = _resolved(old, defs.old)
    new, new_ref = _resolved(new, defs.new)
    if old_ref and new_ref:
        if (old_ref, new_ref) in visiting:  # a model that holds itself: compared already
            return
        visiting = visiting | {(old_ref, new_ref)}
    old_options, new_options = _options(old), _options(new)
    if len(old_options) > 1 or len(new_options) > 1:
        yield from _compare_options(old_options, new_options, defs, path, visiting)
        return
    if "properties" in old and "properties" in new:
        yield from _compare_objects(old, new, defs, path, visiting)
        return
    if old.get("type") != new.get("type"):
        yield True, f"{_where(path)} retyped: {_kind(old)} -> {_kind(new)}"
        return
    if "items" in old and "items" in new:
        yield from _compare(old["items"], new["items"], defs, f"{path}[]", visiting)
    yield from _constraint_changes(old, new, path)
    if old.get("enum") != new.get("enum"):
        lost = sorted(set(old.get("enum") or []) - set(new.get("enum") or []), key=str)
        if lost or (old.get("enum") is None) != (new.get("enum") is None):
            yield True, f"{_where(path)} no longer takes {', '.join(map(str, lost)) or 'any'}"
        else:
            yield False, f"{_where(path)} takes more values"


def _compare_objects(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    defs: _Defs,
    path: str,
    visiting: set[tuple[str, str]],
) -> Iterator[SchemaChange]:
    old_fields, new_fields = old["properties"], new["properties"]
    old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
    for field in old_fields:
        if field not in new_fields:
            yield True, f"field {path}{field} removed"
    for field, schema in new_fields.items():
        where = f"{path}{field}"
        if field not in old_fields:
            if field in new_required:
                yield True, f"field {where} added as required"
            else:
                yield False, f"field {where} added, optional"
            continue
        if field in new_required and field not in old_required:
            yield True, f"field {where} made required"
        elif field in old_required and field not in new_required:
            yield False, f"field {where} made optional"
        yield from _compare(old_fields[field], schema, defs, f"{where}.", visiting)


def _compare_options(
    old: list[Mapping[str, Any]],
    new: list[Mapping[str, Any]],
    defs: _Defs,
    path: str,
    visiting: set[tuple[str, str]],
) -> Iterator[SchemaChange]:
    """`anyOf` (a `X | None`, a union): each old option must still be taken by a new one."""
    old_null, new_null = _takes_null(old), _takes_null(new)
    if old_null and not new_null:
        yield True, f"{_where(path)} no longer takes null"
    elif new_null and not old_null:
        yield False, f"{_where(path)} takes null too"
    old_rest = [option for option in old if option.get("type") != "null"]
    new_rest = [option for option in new if option.get("type") != "null"]
    if len(old_rest) == 1 and len(new_rest) == 1:
        yield from _compare(old_rest[0], new_rest[0], defs, path, visiting)
        return
    old_kinds = {_kind(_resolved(option, defs.old)[0]) for option in old_rest}
    new_kinds = {_kind(_resolved(option, defs.new)[0]) for option in new_rest}
    if old_kinds - new_kinds:
        yield (
            True,
            f"{_where(path)} retyped: {' | '.join(sorted(old_kinds))} -> "
            + " | ".join(sorted(new_kinds)),
        )
    elif new_kinds - old_kinds:
        yield False, f"{_where(path)} takes {' | '.join(sorted(new_kinds - old_kinds))} too"


def _constraint_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], path: str
) -> Iterator[SchemaChange]:
    for key in sorted(_CONSTRAINTS & (old.keys() | new.keys())):
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        looser = (
            now is None
            or (key in _LOOSER_WHEN_LARGER and was is not None and now > was)
            or (key in _LOOSER_WHEN_SMALLER and was is not None and now < was)
        )
        yield not looser, f"{_where(path)} {key} {was} -> {now}"


def _resolved(
    schema: Mapping[str, Any], defs: Mapping[str, Any]
) -> tuple[Mapping[str, Any], str | None]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema, None
    name = ref.rsplit("/", 1)[-1]
    return defs.get(name, {}), name


def _options(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    options = schema.get("anyOf") or schema.get("oneOf")
    return list(options) if isinstance(options, list) else [schema]


def _takes_null(options: list[Mapping[str, Any]]) -> bool:
    return any(option.get("type") == "null" for option in options)


def _kind(schema: Mapping[str, Any]) -> str:
    if "properties" in schema:
        return str(schema.get("title", "object"))
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_kind(schema.get('items', {}))}"
    return str(kind) + (f" ({schema['format']})" if "format" in schema else "")


def _where(path: str) -> str:
    return f"field {path.rstrip('.')}" if path else "the payload"
