"""`python -m starters.chaos` as a user runs it: a short chaos run (50 orders in the three
styles, a worker SIGKILLed every few seconds, the dev server killed and started again once,
seeded) exits 0 with every invariant holding and counts that add up, and leaves nothing running;
a Ctrl-C stops it, and everything it started, with exit 130; bad input is one line, exit 2.

The run starts its own dev server and workers, in a temporary data dir: `TMPDIR` puts that
under the test's own directory, so that whatever the run started can be found by that path
and killed, whatever the test asserted (the dev server runs in a process group of its own, out
of reach of the group `started` kills).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chaos.plan import Disturbance, build_plan
from client.orders import PLACEABLE_STYLES
from domain.services import Style
from infra.dev_server import port_is_free
from tests.commands.processes import ended, failing_cli, plain_env, started
from tests.support import Result, one_line_error

PROG = "python -m starters.chaos"
ORDERS = 50
KILL_EVERY = "4"
"""Orders are placed for 10 to 30 s (25 in flight at once): about 10 s alone on two cores, since
the history work of issue 12, 30 s beside other test processes; so two to seven worker kills.
(Every 12 s, it killed none when the run had the machine to itself.)"""
SPARED = "orders"
"""The orders worker, which runs every order's lifecycle (the workflows that take updates), is
never killed in the suite's run: a kill makes a new worker replay from the start, and the Temporal
SDK's core (1.35) then fails the replay of a workflow that accepted an update in the same
workflow task as an activity's completion ("Update machine does not handle this event", a known
problem of its history chunker with update sequencing: temporalio/sdk-rust#1597). The full run,
`python -m starters.chaos`, kills every worker and shows it; see the README's chaos section."""
SETTLE_TIMEOUT = "90"
"""The run's own bound on settling: it names what has not settled instead of waiting on. The
suite runs on two processes, so the run shares two cores with another test file: an order may
take twice as long to settle as it does on a quiet machine (a fresh CI run saw one still waiting
after 40 s)."""
CHAOS_SECONDS = 160.0
"""The run takes about a minute on two cores (servers and workers up in seconds, the orders,
the settling, the audit); this bounds the wait for it, below the test's own timeout."""
PROGRESS = "chaos: "
"""How each line of the run's progress on stderr begins (stderr is no terminal here)."""
STARTED_NOTE = f"{PROGRESS}seed "
"""The line on stderr that says the dev server and the workers are up."""

STYLES = [style.value for style in PLACEABLE_STYLES]


@dataclass(frozen=True)
class ChaosRun:
    result: Result
    left_running: list[str]
    """Processes that named the run's directory once it had exited."""

    @property
    def document(self) -> dict[str, Any]:
        """The run's `--json` document; a run that printed none fails with what it said."""
        try:
            document: dict[str, Any] = json.loads(self.result.stdout)
        except json.JSONDecodeError:
            raise AssertionError(
                f"exit {self.result.code} and no JSON document; stderr ends with: "
                f"{self.result.stderr[-3000:]}"
            ) from None
        return document


def processes_naming(directory: Path) -> dict[int, str]:
    """The processes whose command line names `directory` (the run's dev server and its
    `temporal` binary name their history file there), by pid."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if str(directory) in command:
                found[int(entry.name)] = command.strip()
    return found


def made_in(directory: Path) -> list[str]:
    return sorted(entry.name for entry in directory.iterdir())


@contextlib.contextmanager
def nothing_left_behind(directory: Path) -> Iterator[None]:
    """Kill, at the end, whatever still names `directory`: a run the test gave up on must not
    leave a dev server behind on a shared machine."""
    try:
        yield
    finally:
        for pid in processes_naming(directory):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def chaos_env(directory: Path) -> dict[str, str]:
    return plain_env(TMPDIR=str(directory))


@contextlib.asynccontextmanager
async def chaos(directory: Path, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    with nothing_left_behind(directory):
        async with started(chaos_env(directory), "starters.chaos", *args) as process:
            yield process


@pytest.fixture(scope="module")
async def short_run(tmp_path_factory: pytest.TempPathFactory) -> ChaosRun:
    """One short run, shared by the tests below, which each read one part of it."""
    directory = tmp_path_factory.mktemp("chaos")
    args = (
        *("--orders", str(ORDERS), "--kill-every", KILL_EVERY, "--spare", SPARED),
        "--restart-server",
        *("--seed", "7", "--settle-timeout", SETTLE_TIMEOUT, "--json"),
    )
    async with chaos(directory, *args) as process:
        result = await ended(process, CHAOS_SECONDS)
        left = list(processes_naming(directory).values())
    return ChaosRun(result, left)


@pytest.mark.timeout(CHAOS_SECONDS + 20)
async def test_a_short_run_exits_0_with_every_invariant_holding(short_run: ChaosRun) -> None:
    document = short_run.document
    assert breaches_of(document) == [], document["invariants"]
    assert set(document["invariants"].values()) == {0}, document["invariants"]
    assert document["ok"] is True
    assert short_run.result.code == 0, short_run.result.stderr[-3000:]


def breaches_of(document: dict[str, Any]) -> list[str]:
    """One line per breach, as the run's report names them: what a failure shows."""
    return [
        f"{b['invariant']}: {b['order_id']} ({b['style']}, {b['scenario']}, "
        f"{b['disturbance']}): {b['detail']}"
        for b in document["breaches"]
    ]


@pytest.mark.timeout(CHAOS_SECONDS + 20)
async def test_every_order_is_counted_once_per_style_and_in_the_total(
    short_run: ChaosRun,
) -> None:
    document = short_run.document
    per_style = document["per_style"]
    assert list(per_style) == STYLES
    assert document["orders"] == ORDERS
    assert sum(figures["placed"] for figures in per_style.values()) == ORDERS
    for style, figures in per_style.items():
        ended_or_waiting = (
            figures["completed"]
            + sum(figures["cancelled"].values())
            + figures["parked"]
            + figures["unsettled"]
        )
        assert ended_or_waiting == figures["placed"], (style, figures)
    total = document["total"]
    assert total["placed"] == ORDERS
    for key in ("completed", "parked", "unsettled"):
        assert total[key] == sum(figures[key] for figures in per_style.values()), key
    reasons = {reason for figures in per_style.values() for reason in figures["cancelled"]}
    assert total["cancelled"] == {
        reason: sum(figures["cancelled"].get(reason, 0) for figures in per_style.values())
        for reason in reasons
    }


@pytest.mark.timeout(CHAOS_SECONDS + 20)
async def test_the_run_killed_workers_and_restarted_the_server_which_all_survived(
    short_run: ChaosRun,
) -> None:
    """The run's own account of what it broke: workers killed (how many depends on how long the
    orders took to place), the server restarted once, and nothing that exited by itself."""
    done = short_run.document["chaos"]
    assert done["worker_kills"] >= 1, done
    assert SPARED not in done["killed"], done
    assert done["server_restarts"] == 1, done
    assert done["process_crashes"] == [], done
    assert sum(done["disturbances_acted"].values()) > 0, done


@pytest.mark.timeout(CHAOS_SECONDS + 20)
async def test_nothing_the_run_started_is_left_running(short_run: ChaosRun) -> None:
    assert short_run.left_running == []
    port = int(short_run.document["server"].rpartition(":")[2])
    assert port_is_free(port), f"port {port} is still taken after the run exited"


@pytest.mark.timeout(90)
async def test_ctrl_c_stops_the_run_and_everything_it_started_with_exit_130(
    tmp_path: Path,
) -> None:
    async with chaos(tmp_path, "--orders", "200", "--seed", "1") as process:
        note = await stderr_line(process, STARTED_NOTE)
        process.send_signal(signal.SIGINT)
        result = await ended(process, 60)
        left = list(processes_naming(tmp_path).values())

    assert result.code == 130, result.stderr[-3000:]
    assert result.stderr.splitlines()[-1] == f"{PROG}: error: interrupted"
    assert result.stdout == ""
    assert left == []
    port = int(note.split("dev server localhost:")[1].split(" ")[0])
    assert port_is_free(port), f"port {port} is still taken after the run exited"


@pytest.mark.timeout(60)
async def test_a_dev_server_that_does_not_start_is_refused_in_one_line_with_exit_1(
    tmp_path: Path,
) -> None:
    """Nothing is placed and nothing is left running; the line says why and where the log is."""
    env = {**chaos_env(tmp_path), "TEMPORAL_CLI_PATH": str(failing_cli(tmp_path))}
    with nothing_left_behind(tmp_path):
        async with started(env, "starters.chaos", "--orders", "5") as process:
            result = await ended(process, 40)
        left = list(processes_naming(tmp_path).values())

    line = one_line_error(without_progress(result), 1)
    assert line.startswith(f"{PROG}: error: dev-server exited with code 1: "), line
    assert "the Temporal dev server did not start" in line, line
    assert line.endswith("dev-server.log)"), line
    assert left == []


def without_progress(result: Result) -> Result:
    """The result with the run's progress lines (`chaos: ...`) left out of its stderr: what is
    left is what a refusal says."""
    kept = [line for line in result.stderr.splitlines() if not line.startswith(PROGRESS)]
    return Result(result.code, result.stdout, "\n".join(kept))


async def stderr_line(process: asyncio.subprocess.Process, prefix: str, within: float = 60) -> str:
    """Read the process's stderr until a line that starts with `prefix`; that line."""
    assert process.stderr is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(within):
            while True:
                raw = await process.stderr.readline()
                assert raw, f"the process ended without printing {prefix!r}: {seen}"
                line = raw.decode().rstrip("\n")
                if line.startswith(prefix):
                    return line
                seen.append(line)
    except TimeoutError:
        raise AssertionError(f"no {prefix!r} within {within} s; it printed {seen}") from None


def test_each_order_of_the_plan_is_drawn_from_the_seed_and_its_index() -> None:
    """Order 7 of a run is the same order whether the run places 10 or 50: a failure found by
    a long run is reproduced by a short one with the same seed."""
    styles = list(PLACEABLE_STYLES)
    short, long = build_plan(10, styles, 7, 0.2), build_plan(50, styles, 7, 0.2)

    assert long[:10] == short
    assert build_plan(10, styles, 8, 0.2) != short
    assert len({plan.order_id for plan in long}) == len(long)


def test_the_plan_disturbs_each_order_only_in_ways_its_style_and_scenario_allow() -> None:
    plans = build_plan(500, list(PLACEABLE_STYLES), 3, 1.0)

    assert all(plan.injected_timeouts > 0 for plan in plans)
    redelivered = {plan.style for plan in plans if plan.disturbance is Disturbance.REDELIVER}
    assert redelivered == {Style.CHOREOGRAPHED, Style.HYBRID}
    assert all(
        plan.scenario.reaches_dispatch
        for plan in plans
        if plan.disturbance is Disturbance.CANCEL_AFTER_PIVOT
    )
    assert {plan.disturbance for plan in plans} == set(Disturbance)
    assert all(plan.injected_timeouts == 0 for plan in build_plan(50, [Style.HYBRID], 3, 0.0))


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--orders", "0"), "argument --orders: must be 1 to 100000 (got 0)"),
        (("--orders", "many"), "argument --orders: not a whole number (got 'many')"),
        (
            ("--styles", "serverless"),
            "argument --styles: unknown style 'serverless'; "
            "choose from orchestrated, choreographed, hybrid",
        ),
        (("--fault-rate", "1.5"), "argument --fault-rate: must be 0 to 1 (got 1.5)"),
        (("--fault-rate", "nan"), "argument --fault-rate: must be 0 to 1 (got nan)"),
        (
            ("--kill-every", "-1"),
            "argument --kill-every: must be 0 to 86400 seconds (got -1)",
        ),
        (
            ("--settle-timeout", "0"),
            "argument --settle-timeout: must be more than 0 to 86400 seconds (got 0)",
        ),
        (("--seed", "x"), "argument --seed: not a whole number (got 'x')"),
        (("--replicas", "0"), "argument --replicas: must be 1 to 4 (got 0)"),
        (("--replicas", "9"), "argument --replicas: must be 1 to 4 (got 9)"),
        (
            ("--spare", "billing"),
            "argument --spare: unknown service 'billing'; choose from orders, inventory, payments, "
            "shipping, notifications",
        ),
        (("--restart-server", "now"), "unrecognized arguments: now"),
    ],
)
async def test_bad_input_is_one_line_naming_the_argument_with_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    async with chaos(tmp_path, *args) as process:
        result = await ended(process, 20)

    assert one_line_error(result, 2) == f"{PROG}: error: {message} (see --help)"
    assert made_in(tmp_path) == [], "it made a data dir before refusing"
