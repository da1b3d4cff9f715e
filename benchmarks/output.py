"""The form `benchmarks.throughput`'s two reports share, the rows and the soak: a value's text in
a table cell, the JSON object's frame (the machine and the settings first), the console with the
header printed, and the orders that did not complete.

Its own module so that both reports print alike without the soak's importing the command (which
imports the soak).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from benchmarks.measure import machine


def cell_text(value: object) -> str:
    """A value as a table cell shows it: `-` for none, a float without trailing zeros."""
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def print_json(settings: dict[str, Any], **parts: object) -> None:
    """The whole report as one JSON object on stdout: the machine, the settings, then `parts`."""
    print(json.dumps({"machine": machine(), "settings": settings, **parts}, indent=2))


def console_with(header: Sequence[str], width: int) -> Console:
    """A console at least `width` wide, the header's lines already printed on it."""
    console = Console(width=max(Console().width, width))
    for line in header:
        console.print(line, highlight=False)
    return console


def print_failures(console: Console, found: Sequence[dict[str, str]]) -> None:
    """Each order not completed, by id, with what it came to."""
    for failure in found:
        console.print(
            f"[red]not completed[/]: {failure['order_id']} "
            f"({failure.get('subject', '')} {failure.get('mode', '')}): {failure['outcome']}",
            highlight=False,
        )
