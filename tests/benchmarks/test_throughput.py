"""`python -m benchmarks.throughput`, small, in this process: it starts its own dev server and
workers, so what it reports is checked for shape and consistency (every order completed, counts
read, ratios taken against the baseline), not for speed; and bad input refused in one line
before anything starts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.throughput import BASELINE, CONCURRENT, SEQUENTIAL, main
from infra.cli import EXIT_BAD_INPUT, EXIT_OK, exit_code

PROG = "python -m benchmarks.throughput"
STYLES = ("orchestrated", "choreographed", "hybrid")


@pytest.mark.e2e
async def test_a_small_run_reports_every_style_against_the_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await main(["--orders", "2", "--concurrency", "2", "--json", "--skip-untuned"])

    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK, report["failures"]
    assert report["failures"] == []
    rows = {(row["subject"], row["mode"]): row for row in report["rows"]}
    subjects = (BASELINE, *STYLES)
    assert sorted(rows) == sorted((s, m) for s in subjects for m in (SEQUENTIAL, CONCURRENT))
    assert all(row["server"] == "tuned" for row in rows.values()), "--skip-untuned"
    for (subject, mode), row in rows.items():
        assert row["completed"] == row["orders"] == 2, (subject, mode)
        assert row["events_per_order"] > 0, (subject, mode)
        assert row["actions_per_order"] > 0, (subject, mode)
        assert row["unsettled"] == 0, (subject, mode)
        assert 0 < row["p50_ms"] <= row["p95_ms"], (subject, mode)
        baseline = rows[(BASELINE, mode)]
        assert row["p50_ratio"] == round(row["p50_ms"] / baseline["p50_ms"], 2)
        assert row["orders_per_s_ratio"] == round(row["orders_per_s"] / baseline["orders_per_s"], 2)
    assert rows[(BASELINE, SEQUENTIAL)]["p50_ratio"] == 1
    names = [target["name"] for target in report["targets"]]
    assert not any("untuned" in name for name in names), "no untuned row, no untuned target"
    assert len(names) == 8


@pytest.mark.e2e
async def test_a_small_soak_reports_one_window_and_no_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await main(["--soak", "3", "--concurrency", "2", "--json"])

    report: dict[str, Any] = json.loads(capsys.readouterr().out)["soak"]
    assert code == EXIT_OK, report["failures"]
    assert report["failures"] == []
    assert (report["orders"], report["concurrency"]) == (3, 2)
    [window] = report["windows"]
    assert window["orders"] == 3
    assert 0 < window["p50_ms"] <= window["p95_ms"]
    assert report["change_percent"] == {"p95": 0.0, "workers_rss": 0.0}, "one window alone"


@pytest.mark.parametrize(
    "args",
    [("--orders", "0"), ("--concurrency", "0"), ("--soak", "0"), ("--orders", "many")],
    ids=["no-orders", "no-concurrency", "no-soak", "not-a-number"],
)
async def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code = await exit_code(main, list(args), PROG)

    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"{PROG}: error: argument {args[0]}")
