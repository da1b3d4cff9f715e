"""The order's trace for people (a table in time order, indented by what each workflow did
because of what), for Mermaid (a sequence diagram) and for programs (JSON)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from insight.causal_trace import STARTED_BY_SIGNAL, EntryKind, OrderTrace, TraceEntry

_CLOSED_OK = frozenset({"completed", "received", "delivered", "fired"})
_MERMAID_KEYWORDS = frozenset(
    {
        "participant", "actor", "loop", "alt", "else", "opt", "par", "and", "rect", "end",
        "note", "over", "activate", "deactivate", "autonumber", "critical", "break", "box",
        "title", "links", "link", "properties", "details", "create", "destroy", "left", "right",
        "of", "as",
    }
)  # fmt: skip
CLIENT = "client"
"""Whoever acts from outside any workflow: a person's update, the carrier's report."""


def alias_of(workflow_id: str, order_id: str) -> str:
    """`inventory-ord-1` → `inventory`: the order id is the same for every workflow."""
    return workflow_id.removesuffix(f"-{order_id}") or workflow_id


# -- JSON --------------------------------------------------------------------------------------


def render_json(trace: OrderTrace) -> dict[str, Any]:
    return trace.model_dump(mode="json")


# -- text --------------------------------------------------------------------------------------


def render_text(trace: OrderTrace) -> str:
    """One line per entry, in time order, numbered; `← #n` names the cause. What a workflow did
    because of something in the same workflow is indented under it."""
    numbers = {entry.id: index for index, entry in enumerate(trace.entries, start=1)}
    depths = _depths(trace)
    start = trace.entries[0].at if trace.entries else None
    lines = [_heading(trace), *_workflow_lines(trace), ""]
    lines.append(f"{'#':>3}  {'at':>8}  {'took':>8}  {'try':>3}  {'workflow':<13} {'service':<13} "
                 f"{'kind':<15}  what")  # fmt: skip
    for entry in trace.entries:
        assert start is not None
        lines.append(_text_line(entry, numbers, depths, start, trace.order_id))
    return "\n".join(lines)


def _heading(trace: OrderTrace) -> str:
    compensations = sum(entry.compensation for entry in trace.entries)
    return (
        f"order {trace.order_id}: {len(trace.workflows)} workflow(s), "
        f"{len(trace.entries)} entries, {compensations} compensation(s)"
    )


def _workflow_lines(trace: OrderTrace) -> list[str]:
    return [
        f"  {alias_of(w.workflow_id, trace.order_id):<13} {w.workflow_id}  "
        f"{w.workflow_type} on {w.task_queue}: {w.status}"
        for w in trace.workflows
    ]


def _depths(trace: OrderTrace) -> dict[str, int]:
    """How many causes in the same workflow lead to each entry (entries are in time order, so a
    cause, which comes first, has its depth already)."""
    by_id = {entry.id: entry for entry in trace.entries}
    depths: dict[str, int] = {}
    for entry in trace.entries:
        cause = by_id.get(entry.caused_by or "")
        same = cause is not None and cause.workflow_id == entry.workflow_id
        depths[entry.id] = depths.get(cause.id, 0) + 1 if same and cause else 0
    return depths


def _text_line(
    entry: TraceEntry,
    numbers: dict[str, int],
    depths: dict[str, int],
    start: datetime,
    order_id: str,
) -> str:
    indent = "  " * min(depths[entry.id], 6)
    cause = numbers.get(entry.caused_by or "")
    tries = str(entry.attempts) if entry.attempts else ""
    return (
        f"{numbers[entry.id]:>3}  {_offset(entry.at - start):>8}  {_took(entry):>8}  {tries:>3}  "
        f"{alias_of(entry.workflow_id, order_id):<13} {entry.service:<13} {entry.kind.value:<15}  "
        f"{indent}{describe(entry)}" + (f"  ← #{cause}" if cause else "")
    )


def describe(entry: TraceEntry) -> str:
    """What happened, its outcome when not the usual one, its detail, and a compensation mark."""
    text = entry.what
    if entry.compensation and "compensation" not in text:
        text = f"compensation: {text}"
    if entry.status not in _CLOSED_OK:
        text += f" [{entry.status}]"
    if entry.detail:
        text += f" ({entry.detail})"
    return text


def _offset(delta: timedelta) -> str:
    return f"+{delta.total_seconds():.3f}"


def _took(entry: TraceEntry) -> str:
    if entry.duration is None:
        return "…" if entry.status == "running" else ""
    return f"{entry.duration.total_seconds():.3f}s"


# -- Mermaid -----------------------------------------------------------------------------------


def render_mermaid(trace: OrderTrace) -> str:
    """A `sequenceDiagram`: a participant per workflow, arrows for what went from one workflow
    to another (events, signals, child starts), notes for what a workflow did itself
    (activities, timers), compensations in a red box."""
    aliases = _mermaid_aliases(trace)
    by_id = {entry.id: entry for entry in trace.entries}
    lines = ["sequenceDiagram"]
    lines.extend(_participants(trace, aliases))
    for entry in trace.entries:
        lines.extend(_mermaid_lines(entry, by_id, aliases))
    return "\n".join(lines) + "\n"


def _mermaid_aliases(trace: OrderTrace) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for workflow in trace.workflows:
        base = re.sub(r"\W", "_", alias_of(workflow.workflow_id, trace.order_id)) or "wf"
        if not base[0].isalpha() or base.lower() in _MERMAID_KEYWORDS:
            base = f"wf_{base}"
        alias = base
        while alias in aliases.values() or alias == CLIENT:
            alias += "_"
        aliases[workflow.workflow_id] = alias
    return aliases


def _participants(trace: OrderTrace, aliases: dict[str, str]) -> list[str]:
    lines = [f"    participant {CLIENT} as {CLIENT} or carrier"]
    lines.extend(_external_producers(trace))
    for workflow in trace.workflows:
        label = _safe(f"{workflow.workflow_id} ({workflow.workflow_type})")
        lines.append(f"    participant {aliases[workflow.workflow_id]} as {label}")
    return lines


def _external_producers(trace: OrderTrace) -> list[str]:
    """Who published an event from outside every workflow (the storefront)."""
    found = {_external_producer(entry) for entry in trace.entries}
    producers = sorted(p for p in found if p is not None and p != CLIENT)
    return [f"    participant {_producer_alias(p)} as {_safe(p)}" for p in producers]


def _external_producer(entry: TraceEntry) -> str | None:
    if entry.kind is EntryKind.EVENT_RECEIVED and entry.caused_by is None:
        match = re.search(r" from (\S+)$", entry.what)
        return match.group(1) if match else CLIENT
    return None


def _producer_alias(producer: str) -> str:
    return "ext_" + re.sub(r"\W", "_", producer)


def _mermaid_lines(
    entry: TraceEntry, by_id: dict[str, TraceEntry], aliases: dict[str, str]
) -> list[str]:
    here = aliases[entry.workflow_id]
    cause = by_id.get(entry.caused_by or "")
    source = aliases[cause.workflow_id] if cause else None
    match entry.kind:
        case EntryKind.EVENT_RECEIVED:
            producer = _external_producer(entry)
            sender = source or (_producer_alias(producer) if producer else CLIENT)
            arrow = "--)" if entry.compensation else "-)"
            return _boxed(entry, [f"    {sender}{arrow}{here}: {_safe(entry.name)}"])
        case EntryKind.SIGNAL_RECEIVED | EntryKind.CANCEL_REQUESTED | EntryKind.UPDATE:
            label = entry.what if entry.kind is not EntryKind.SIGNAL_RECEIVED else entry.name
            if entry.detail:
                label += f" {entry.detail}"
            return [f"    {source or CLIENT}->>{here}: {_safe(label)}"]
        case EntryKind.WORKFLOW:
            if cause is not None and cause.kind is EntryKind.CHILD:
                return [f"    {source}->>+{here}: start {_safe(entry.name)}"]
            if cause is None and not (entry.detail or "").startswith(STARTED_BY_SIGNAL):
                return [f"    {CLIENT}->>{here}: start {_safe(entry.name)}"]
            return []  # started by the event its first receipt draws
        case EntryKind.ACTIVITY | EntryKind.TIMER | EntryKind.EVENT_PUBLISHED:
            return _boxed(entry, [f"    Note over {here}: {_safe(_note(entry))}"])
        case EntryKind.CHILD if entry.status not in ("running", "completed"):
            return [f"    Note over {here}: {_safe(describe(entry))}"]
        case EntryKind.SIGNAL_SENT if entry.status == "failed":
            return [f"    Note over {here}: {_safe(describe(entry))}"]
    return []


def _note(entry: TraceEntry) -> str:
    took = _took(entry)
    tries = f", {entry.attempts} attempts" if entry.attempts and entry.attempts > 1 else ""
    if entry.kind is EntryKind.EVENT_PUBLISHED:
        return f"{describe(entry)}{tries}"
    return f"{describe(entry)}" + (f" {took}" if took else "") + tries


def _boxed(entry: TraceEntry, lines: list[str]) -> list[str]:
    if not entry.compensation:
        return lines
    return ["    rect rgb(255, 225, 225)", *(f"    {line}" for line in lines), "    end"]


def _safe(text: str) -> str:
    """Mermaid reads `;`, `#` and `<>` as syntax, and a line break ends the message."""
    return re.sub(r"[;#<>\n\r]+", " ", text).strip()
