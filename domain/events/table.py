"""The event contract as a plain-text table: a row per reaction."""

from __future__ import annotations

from domain.events.contract import Contract, EventSpec

TABLE_HEADER = ("EVENT", "PRODUCER", "FLAGS", "CONSUMER", "PUBLISHES")
"""Flags before the reactions, so the long PUBLISHES column comes last."""


def table(contract: Contract) -> str:
    """One row per reaction; an event's name, producer and flags only on its first row."""
    rows = [TABLE_HEADER]
    for spec in contract.events:
        head = (spec.type.value, spec.producer.value, _flags(spec))
        reactions = [(r.consumer.value, ", ".join(r.publishes) or "-") for r in spec.reactions]
        for index, (consumer, publishes) in enumerate(reactions or [("-", "-")]):
            rows.append((*(head if index == 0 else ("", "", "")), consumer, publishes))
    widths = [max(len(row[column]) for row in rows) for column in range(len(TABLE_HEADER))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in rows
    )


def _flags(spec: EventSpec) -> str:
    flags = [
        *(["terminal"] if spec.terminal else []),
        *(["compensable"] if spec.compensable else []),
        *([f"compensates {spec.compensates}"] if spec.compensates else []),
    ]
    return ", ".join(flags)
