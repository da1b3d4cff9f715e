"""Printing results for people (plain lines) or for scripts (one JSON object)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from client.participants import Participants
from domain.events.records import ParticipantView, RefusedEvent
from domain.money import format_cents
from domain.views import OrderView


def print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, default=str, sort_keys=False), flush=True)


def describe_view(view: OrderView) -> str:
    lines = [
        f"order {view.order_id} ({view.style.value}): {view.status.value}"
        + (f", reason {view.reason.value}" if view.reason else ""),
        f"  customer {view.customer_id}, total {format_cents(view.total_cents)}"
        + (", needs approval" if view.needs_approval else ""),
        f"  ship to {view.shipping_address}",
    ]
    if view.waiting_for:
        until = f" until {view.deadline:%Y-%m-%d %H:%M:%S} UTC" if view.deadline else ""
        lines.append(f"  waiting for {view.waiting_for}{until}")
    lines.append("  timeline:")
    for entry in view.timeline:
        service = f"[{entry.service.value}] " if entry.service else ""
        detail = f": {entry.detail}" if entry.detail else ""
        lines.append(
            f"    {_clock(entry.at)}  {entry.kind.value:<12} {service}{entry.what}{detail}"
        )
    return "\n".join(lines)


def describe_participants(participants: Participants) -> list[str]:
    """One line per participant and one per event it refused: the refusals are what a person
    looks for here, and nothing else records them."""
    lines = ["  participants:"]
    for view in participants.answered:
        lines.append(f"    {view.service.value}: {_participant_summary(view)}")
        lines.extend(_refusal(refused) for refused in view.refused)
    lines.extend(
        f"    {silent.service.value}: did not answer ({silent.reason})"
        for silent in participants.silent
    )
    return lines


def _participant_summary(view: ParticipantView) -> str:
    return (
        f"{'done' if view.done else 'running'}; received {len(view.received)}, "
        f"published {len(view.published)}, {len(view.waiting)} waiting, "
        f"{view.duplicates_dropped} duplicate(s) dropped, {len(view.refused)} refused"
    )


def _refusal(refused: RefusedEvent) -> str:
    return (
        f"      refused {_clock(refused.received_at)}  event {refused.event_id or '(no id)'}, "
        f"type {refused.type or '(no type)'}: {refused.reason}"
    )


def _clock(at: datetime) -> str:
    """Milliseconds, as the timeline shows them."""
    return f"{at:%H:%M:%S.%f}"[:-3]
