"""A command whose request the server does not answer in time ends in one line, exit 1: an update
that timed out (as the demo's did on a machine too loaded for its dev server) is no traceback."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from infra.cli import EXIT_REFUSED, TIMED_OUT, exit_code


async def update_not_answered(argv: Sequence[str] | None) -> int:
    raise WorkflowUpdateRPCTimeoutOrCancelledError()


async def test_an_update_not_answered_in_time_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await exit_code(update_not_answered, [], "python -m starters.demo")

    assert code == EXIT_REFUSED
    assert capsys.readouterr().err == f"python -m starters.demo: error: {TIMED_OUT}\n"
