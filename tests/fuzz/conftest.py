"""What the fuzz tests share: the commands run in this process, and the count, at the end of a
run that tried any: `fuzz: N malformed inputs tried, N refused cleanly`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzz.harness import TALLY, InProcess


@pytest.fixture(scope="module")
def commands() -> Iterator[InProcess]:
    runner = InProcess()
    yield runner
    runner.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.tried:
        terminalreporter.write_line(TALLY.summary())
        for category in sorted(TALLY.tried):
            terminalreporter.write_line(
                f"  {category}: {len(TALLY.tried[category])} tried, {TALLY.count(category)} refused"
            )
