"""The business rules every style shares, at their edges."""

from __future__ import annotations

import pytest

from domain.policy import APPROVAL_THRESHOLD_CENTS, needs_approval


@pytest.mark.parametrize(
    ("total_cents", "waits_for_a_person"),
    [(APPROVAL_THRESHOLD_CENTS - 1, False), (APPROVAL_THRESHOLD_CENTS, False), (100_001, True)],
)
def test_only_an_order_above_1000_00_waits_for_approval(
    total_cents: int, waits_for_a_person: bool
) -> None:
    assert APPROVAL_THRESHOLD_CENTS == 100_000
    assert needs_approval(total_cents) is waits_for_a_person
