"""Printing results for people (plain lines) or for scripts (one JSON object)."""

from __future__ import annotations

import json
from typing import Any

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
            f"    {entry.at:%H:%M:%S.%f}"[:-3]
            + f"  {entry.kind.value:<12} {service}{entry.what}{detail}"
        )
    return "\n".join(lines)
