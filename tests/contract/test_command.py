"""`python -m starters.contract` as a user runs it, and its `main` with a contract broken on
purpose."""

from __future__ import annotations

import subprocess
import sys

import pytest

from domain.events.checks import check_contract
from domain.events.contract import ORDER_CONTRACT, Contract, EventType
from domain.events.diagram import mermaid
from starters.contract import main
from tests.contract import with_event
from tests.support import PROJECT_ROOT

TIMEOUT_SECONDS = 60


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "starters.contract", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def broken_contract() -> Contract:
    """Three problems: one never consumed, two compensable steps without an undo."""
    contract = with_event(EventType.PARCEL_PICKED_UP, reactions=())
    contract = with_event(EventType.PAYMENT_VOIDED, contract, compensates=None)
    return with_event(EventType.PAYMENT_REFUNDED, contract, compensates=None)


def test_check_passes_the_real_contract() -> None:
    result = run("check")

    assert result.returncode == 0, result.stderr
    reactions = sum(len(spec.reactions) for spec in ORDER_CONTRACT.events)
    assert (
        result.stdout
        == f"contract ok: {len(ORDER_CONTRACT.events)} event types, {reactions} reactions\n"
    )


def test_diagram_prints_the_mermaid_text() -> None:
    result = run("diagram")

    assert result.returncode == 0, result.stderr
    assert result.stdout == mermaid(ORDER_CONTRACT)
    assert result.stdout.startswith("flowchart LR\n")


def test_table_has_a_row_per_reaction() -> None:
    result = run("table")

    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["EVENT", "PRODUCER", "FLAGS", "CONSUMER", "PUBLISHES"]
    assert len(rows) == sum(max(1, len(spec.reactions)) for spec in ORDER_CONTRACT.events)
    assert [row.split()[0] for row in rows if not row.startswith(" ")] == [
        spec.type.value for spec in ORDER_CONTRACT.events
    ]
    last = next(row for row in rows if row.startswith("CustomerNotified"))
    assert "terminal" in last


@pytest.mark.parametrize("args", [(), ("draw",)])
def test_a_missing_or_unknown_subcommand_is_bad_input(args: tuple[str, ...]) -> None:
    result = run(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "python -m starters.contract: error:" in result.stderr


async def test_check_lists_each_problem_of_a_broken_contract(
    capsys: pytest.CaptureFixture[str],
) -> None:
    contract = broken_contract()

    code = await main(["check"], contract=contract)

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines == [str(problem) for problem in check_contract(contract)]
    assert len(lines) == 3
    assert lines[0].startswith("published_never_consumed: ParcelPickedUp")
    assert lines[1].startswith("compensation_missing: PaymentAuthorized")
    assert lines[2].startswith("compensation_missing: PaymentCaptured")


async def test_diagram_draws_the_contract_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    contract = broken_contract()

    code = await main(["diagram"], contract=contract)

    assert code == 0
    assert capsys.readouterr().out == mermaid(contract)
    assert mermaid(contract) != mermaid(ORDER_CONTRACT)
