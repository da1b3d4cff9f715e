"""How many distinct malformed inputs the fuzz tests try: the hand-written cases, and the least
number of distinct examples each Hypothesis test asserts it tried."""

from __future__ import annotations

from tests.fuzz.corpus import (
    ADDRESS_FILES,
    ORDER_FILES,
    PLACE_ARGUMENTS,
    RAW_UPDATES,
    SIGNALS,
    UPDATE_ARGUMENTS,
)

ORDER_EXAMPLES, ORDER_EXAMPLES_DISTINCT = 130, 110
"""Hypothesis tries this many mutated order files, at least this many of them distinct."""
ADDRESS_EXAMPLES, ADDRESS_EXAMPLES_DISTINCT = 50, 40
ARGUMENT_EXAMPLES, ARGUMENT_EXAMPLES_DISTINCT = 70, 60

AT_LEAST = 200


def malformed_inputs() -> dict[str, int]:
    """By category, as the summary line counts them (`fuzz: N malformed inputs tried, ...`)."""
    return {
        "order files": len(ORDER_FILES),
        "order files, generated": ORDER_EXAMPLES_DISTINCT,
        "address files": len(ADDRESS_FILES),
        "address files, generated": ADDRESS_EXAMPLES_DISTINCT,
        "place_order arguments": len(PLACE_ARGUMENTS),
        **{f"{update} arguments": len(cases) for update, cases in UPDATE_ARGUMENTS.items()},
        "update arguments, generated": ARGUMENT_EXAMPLES_DISTINCT,
        "raw updates (Temporal CLI)": len(RAW_UPDATES),
        "event signals (Temporal CLI)": len(SIGNALS),
    }
