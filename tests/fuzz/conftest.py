"""The fuzz tests' count, at the end of a run that tried any: `fuzz: N malformed inputs tried, N
refused cleanly`."""

from __future__ import annotations

import pytest

from tests.fuzz.harness import TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.tried:
        terminalreporter.write_line(TALLY.summary())
        for category in sorted(TALLY.tried):
            terminalreporter.write_line(
                f"  {category}: {len(TALLY.tried[category])} tried, {TALLY.count(category)} refused"
            )
