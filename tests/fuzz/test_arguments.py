"""Malformed arguments are refused before any order is looked up: one line naming the argument,
exit 2, no traceback. (Each update's hand-written cases run against real orders, in
tests/fuzz/test_live_orders.py; here, place_order's own, and the updates' generated ones.)"""

from __future__ import annotations

import pytest
from hypothesis import given

from tests.fuzz.corpus import PLACE_ARGUMENTS, UPDATE_ARGUMENTS, ArgvCase
from tests.fuzz.harness import (
    EXIT_BAD_INPUT,
    TALLY,
    InProcess,
    fingerprint,
    fuzz_settings,
    prog_of,
    refused_cleanly,
)
from tests.fuzz.inputs import ARGUMENT_EXAMPLES, ARGUMENT_EXAMPLES_DISTINCT
from tests.fuzz.strategies import BadArguments, bad_arguments


def test_argument_cases_are_distinct() -> None:
    for cases in (PLACE_ARGUMENTS, *UPDATE_ARGUMENTS.values()):
        names = [case.name for case in cases]
        assert len(names) == len(set(names)), names


@pytest.mark.parametrize("case", PLACE_ARGUMENTS, ids=lambda case: case.name)
def test_malformed_place_order_arguments_are_refused(case: ArgvCase, commands: InProcess) -> None:
    with TALLY.trying("place_order arguments", case.name):
        outcome = commands.run(case.command, case.arguments("", ""))
        refused_cleanly(outcome, case.code, prog_of(case.command), *case.says)


def test_generated_update_arguments_are_refused_naming_the_argument(commands: InProcess) -> None:
    tried = set[str]()

    @fuzz_settings(max_examples=ARGUMENT_EXAMPLES)
    @given(bad_arguments())
    def refused(bad: BadArguments) -> None:
        key = fingerprint(bad.command.__name__, *bad.argv)
        tried.add(key)
        with TALLY.trying("update arguments, generated", key):
            outcome = commands.run(bad.command, bad.argv)
            refused_cleanly(outcome, EXIT_BAD_INPUT, prog_of(bad.command), bad.where)

    refused()
    assert len(tried) >= ARGUMENT_EXAMPLES_DISTINCT
