"""A person's record of a compensation they did by hand, as the store and activity tests
send it."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.messages.resolution import Compensation, RecordResolvedByHand


def by_hand(
    compensation: Compensation, note: str = "undone in the console"
) -> RecordResolvedByHand:
    """A person's record that they undid `compensation` of order-1 by hand."""
    return RecordResolvedByHand(
        order_id="order-1",
        compensation=compensation,
        resolved_by="ada",
        note=note,
        at=datetime(2030, 1, 1, tzinfo=UTC),
    )
