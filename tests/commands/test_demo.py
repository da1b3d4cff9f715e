"""`python -m starters.demo --exit --scenario happy` as a user runs it on a machine with no
Temporal server: it starts a dev server of its own at TEMPORAL_ADDRESS, runs the happy order in
the three styles, prints the tables and the audit, and leaves nothing running.

The demo also takes the Web UI port (8233) and the metrics port (9464) when they are free, and
says it does without them when they are not. Both are held here for the run, so that the demo's
output does not depend on what else runs on the machine, and a test run never fights a demo
someone has open over those ports.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from infra.codec import KEY_VARIABLE, EncryptionCodec
from infra.dev_server import DEFAULT_UI_PORT, port_is_free
from infra.metrics import DEMO_METRICS_PORT
from infra.server_start import STARTUP_TIMEOUT
from infra.token_seal import PRIVATE_KEY_VARIABLE
from tests.commands.processes import ended, failing_cli, started, taken, until_line
from tests.support import Result, free_port, one_line_error, user_env
from workers.deployment import label, worker_version

STYLES = ["orchestrated", "choreographed", "hybrid"]
DEMO_SECONDS = 90.0
"""A happy order takes about 6 s in each style (they run at once), a dev server 2 s to start."""

pytestmark = pytest.mark.timeout(DEMO_SECONDS + 20)


@dataclass(frozen=True)
class DemoRun:
    port: int
    data_dir: Path
    result: Result
    port_free_after: bool

    @property
    def lines(self) -> list[str]:
        return self.result.stdout.splitlines()


def demo_env(address: str, data_dir: Path) -> dict[str, str]:
    """A user's environment with TEMPORAL_ADDRESS and ORDERS_DATA_DIR, and plain text out."""
    env = {**user_env(address, "default", data_dir), "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)  # plain text to parse, whatever this shell forces
    env.pop(PRIVATE_KEY_VARIABLE)  # as a new user: the payments key made in the data directory
    return env


@contextlib.contextmanager
def demo_ports_taken() -> Iterator[None]:
    with taken(DEFAULT_UI_PORT), taken(DEMO_METRICS_PORT):
        yield


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One run of the demo, shared by the tests below, which each read one part of it."""
    port = free_port()
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    env = demo_env(f"localhost:{port}", data_dir)
    with demo_ports_taken():
        async with started(env, "starters.demo", "--exit", "--scenario", "happy") as process:
            result = await ended(process, DEMO_SECONDS)
            free_after = port_is_free(port)  # before the group is killed, whatever is left of it
    return DemoRun(port, data_dir, result, free_after)


def table(lines: list[str], title: str) -> list[list[str]]:
    """The cells of a table rich printed under `title`: its header row, then its rows."""
    start = [line.strip() for line in lines].index(title)
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("└"):
            return rows
        if line.startswith(("┃", "│")):
            rows.append([cell.strip() for cell in re.split("[┃│]", line)[1:-1]])
    raise AssertionError(f"the table {title!r} never ends")


async def test_the_demo_exits_0_having_started_a_dev_server_at_temporal_address(
    demo: DemoRun,
) -> None:
    assert demo.result.code == 0, demo.result.stderr
    history = demo.data_dir / "temporal.sqlite3"
    assert f"started a Temporal dev server on localhost:{demo.port} (history in {history})" in (
        demo.lines
    )


async def test_the_demo_does_without_the_web_ui_and_metrics_ports_when_they_are_taken(
    demo: DemoRun,
) -> None:
    """What it says instead of failing: the ports are held for the whole run (see above)."""
    assert demo.lines[0] == f"port {DEFAULT_UI_PORT} is taken: the Web UI is off this time"
    (workers,) = [line for line in demo.lines if line.startswith("workers of ")]
    assert workers == (
        "workers of orders, inventory, payments, shipping, notifications running here as "
        f"{label(worker_version())}; port {DEMO_METRICS_PORT} is taken: no metrics endpoint "
        "this time"
    )


async def test_the_happy_order_completes_as_expected_in_each_style(demo: DemoRun) -> None:
    header, *rows = table(demo.lines, "Demo orders")
    assert header == ["order", "scenario", "style", "outcome", "reason", "seconds", "Web UI"]
    outcomes = {row[2]: (row[1], row[3], row[4]) for row in rows}
    assert len(rows) == len(STYLES)
    assert outcomes == {style: ("happy", "completed ✓", "") for style in STYLES}
    assert all(re.fullmatch("happy-[0-9a-f]{8}", row[0]) for row in rows), rows


async def test_side_by_side_the_styles_agree_and_left_the_same_effects(demo: DemoRun) -> None:
    header, *rows = table(demo.lines, "Side by side")
    assert header == ["scenario", "expected", *STYLES, "same effects"]
    ((scenario, expected, *per_style, same),) = rows
    assert (scenario, expected, same) == ("happy", "completed", "yes")
    assert [re.sub(r"[0-9]+\.[0-9] s$", "N s", cell) for cell in per_style] == [
        "completed ✓ N s"
    ] * len(STYLES)


async def test_the_audit_says_every_invariant_holds(demo: DemoRun) -> None:
    orders = len(STYLES)
    assert (
        f"audit of {demo.data_dir}: {orders} order(s) placed, {orders} ended, 0 waiting: "
        "every invariant holds"
    ) in demo.lines


async def test_the_demos_dev_server_is_gone_once_it_has_exited(demo: DemoRun) -> None:
    assert demo.result.code == 0, demo.result.stderr
    assert demo.port_free_after, f"port {demo.port} is still taken after the demo exited"


async def test_without_exit_it_stays_up_until_sigint_then_exits_0_and_frees_its_port(
    tmp_path: Path,
) -> None:
    """`make demo` as most people run it: the orders, then the server kept for inspection
    until Ctrl-C."""
    port = free_port()
    env = demo_env(f"localhost:{port}", tmp_path / "data")
    with demo_ports_taken():
        async with started(env, "starters.demo", "--scenario", "happy") as process:
            await until_line(process, STAY_UP, within=DEMO_SECONDS)
            process.send_signal(signal.SIGINT)
            result = await ended(process, 30)
            free_after = port_is_free(port)

    assert (result.code, result.stdout, result.stderr) == (0, "", "")
    assert free_after, f"port {port} is still taken after the demo exited"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("port", ["0", "99999"])
async def test_a_local_temporal_address_without_a_port_number_is_bad_input_in_one_line(
    tmp_path: Path, port: str
) -> None:
    """It was a traceback (99999: the socket's OverflowError; 0: a dev server that never came
    up)."""
    env = demo_env(f"localhost:{port}", tmp_path / "data")
    async with started(env, "starters.demo", "--exit", "--scenario", "happy") as process:
        result = await ended(process, 20)

    assert one_line_error(result, 2) == (
        f"python -m starters.demo: error: TEMPORAL_ADDRESS localhost:{port}: "
        "the port must be 1 to 65535"
    )


@pytest.mark.timeout(30)
async def test_a_dev_server_that_does_not_start_is_refused_in_one_line_with_exit_1(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **demo_env(f"localhost:{port}", tmp_path / "data"),
        "TEMPORAL_CLI_PATH": str(failing_cli(tmp_path)),
    }
    with demo_ports_taken():
        async with started(env, "starters.demo", "--exit", "--scenario", "happy") as process:
            result = await ended(process, 20)

    line = one_line_error(result, 1)
    assert re.fullmatch(
        f"python -m starters.demo: error: the Temporal dev server did not start on port {port}: "
        f"Failed starting Temporal dev server: ephemeral server at 127.0.0.1:{port} did not start "
        f"within {STARTUP_TIMEOUT.seconds}s; last connection error: .*Connection refused.*",
        line,
    ), line


async def test_with_a_payload_key_the_demo_points_its_web_ui_at_a_codec_server(
    tmp_path: Path,
) -> None:
    """Encrypted histories read in the demo's Web UI: the demo starts a codec server for the
    UI's origin and starts the dev server's UI with it as its codec endpoint."""
    if not port_is_free(DEFAULT_UI_PORT):
        pytest.skip(f"port {DEFAULT_UI_PORT} is taken here: the demo would run without its Web UI")
    raw = os.urandom(32)
    key = EncryptionCodec(raw)
    port = free_port()
    env = {
        **demo_env(f"localhost:{port}", tmp_path / "data"),
        KEY_VARIABLE: base64.urlsafe_b64encode(raw).decode(),
    }
    with taken(DEMO_METRICS_PORT):
        async with started(env, "starters.demo", "--scenario", "happy") as process:
            lines = await until_line(process, STAY_UP, within=DEMO_SECONDS)
            (codec_line,) = [line for line in lines if line.startswith("codec server at ")]
            url = codec_line.split()[3]
            settings = await asyncio.to_thread(ui_settings, DEFAULT_UI_PORT)
            sealed = await key.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
            from_ui = await asyncio.to_thread(
                decode, url, sealed, f"http://localhost:{DEFAULT_UI_PORT}"
            )
            from_elsewhere = await asyncio.to_thread(decode, url, sealed, "http://evil.example")
            process.send_signal(signal.SIGINT)
            result = await ended(process, 30)

    assert codec_line.endswith(f"for the Web UI (key {key.key_id.decode()})")
    assert settings["Codec"]["Endpoint"] == url
    assert (from_ui, from_elsewhere) == (200, 403)
    assert result.code == 0, result.stderr


STAY_UP = "server, UI and workers stay up for inspection; Ctrl-C stops them"


def ui_settings(ui_port: int) -> dict[str, Any]:
    """What the Web UI's page reads first: its settings, the codec endpoint among them."""
    url = f"http://localhost:{ui_port}/api/v1/settings"
    with urllib.request.urlopen(url, timeout=10) as response:
        settings: dict[str, Any] = json.load(response)
    return settings


def decode(url: str, sealed: list[Payload], origin: str) -> int:
    """The Web UI's browser asking the codec server to decode; the answer's status."""
    body = json_format.MessageToJson(Payloads(payloads=sealed)).encode()
    request = urllib.request.Request(
        f"{url}/decode",
        data=body,
        headers={"Content-Type": "application/json", "Origin": origin},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
