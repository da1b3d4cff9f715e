"""`python -m starters.upgrade_rehearsal` as a user runs it: v1's workers, orders waiting in
every style, v2's workers beside them, v2 made current with the Temporal CLI, new orders; the
old ones end on v1 with v1's behaviour, the new ones on v2 with v2's, v1 drains and stops, the
audit is clean. And what the rehearsal calls a surprise, on orders that went wrong."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from client.orders import PlacedOrder
from domain.services import Style
from infra.cli import RefusedError
from starters.upgrade_rehearsal import builds
from starters.upgrade_rehearsal.builds import V1, V2, V2_EVENT_FIELD, V2_NOTICE, next_build
from starters.upgrade_rehearsal.orders import RehearsedOrder, Verdict, Wait
from starters.upgrade_rehearsal.rehearsal import BEFORE_V2, V2_CURRENT, V2_UP
from tests.commands.processes import ended, plain_env, started
from tests.support import Result

pytestmark = pytest.mark.e2e

REHEARSAL_SECONDS = 180.0
"""A rehearsal takes about 20 s on two cores; every step of it gives up after 90 s."""

ROW = re.compile(
    r"│ (?P<order>v[12]-\S+) +│ (?P<style>\w+) +│ (?P<wait>\w+) +│ (?P<when>[^│]+?) +│ "
    r"(?P<build>v[12]) +│ (?P<ran>[^│]+?) +│ (?P<notice>[^│]+?) +│ (?P<ok>[^│]+?) +│"
)
"""A row of the table of orders across the upgrade."""


HOLDING = "Web UI at http://localhost:"
"""How the line begins that says the rehearsal is done and holds its server (`--hold`)."""

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

ELSEWHERE = {
    "TEMPORAL_ADDRESS": "localhost:1",
    "TEMPORAL_NAMESPACE": "elsewhere",
    "TEMPORAL_API_KEY": "a-cloud-key",
}
"""What a user's shell may export for their own cluster: the rehearsal runs on its server all
the same (its Temporal CLI call once took the API key, and spoke TLS to the dev server)."""


@dataclass(frozen=True)
class RehearsalRun:
    result: Result
    pages: dict[str, str]
    """The text of the Web UI's page of some of the orders' workflows, by workflow id, read
    while the rehearsal held its server; none without a browser."""


@pytest.fixture(scope="module")
async def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> RehearsalRun:
    """One rehearsal with `--hold`, as a user who then looks at the Web UI runs it: the pages of
    an old order's participant started after the upgrade and of a new order's are read, then
    Ctrl-C ends it."""
    env = plain_env(TMPDIR=str(tmp_path_factory.mktemp("rehearsal")), **ELSEWHERE)
    async with started(env, "starters.upgrade_rehearsal", "--hold") as process:
        lines = await _until_holding(process)
        ui = re.search(r"http://localhost:\d+", lines[-1])
        assert ui is not None, lines[-1]
        pages: dict[str, str] = {}
        if CHROMIUM is not None:
            for workflow_id in _late_participant_and_new_order(lines):
                pages[workflow_id] = await page_text(
                    f"{ui.group()}/namespaces/default/workflows/{workflow_id}"
                )
        process.send_signal(signal.SIGINT)
        rest = await ended(process, REHEARSAL_SECONDS)
    stdout = "\n".join(lines) + "\n" + rest.stdout
    return RehearsalRun(Result(rest.code, stdout, rest.stderr), pages)


async def _until_holding(process: asyncio.subprocess.Process) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(REHEARSAL_SECONDS):
        while not lines or not lines[-1].startswith(HOLDING):
            raw = await process.stdout.readline()
            assert raw, f"the rehearsal ended before it held; it printed {lines}"
            lines.append(raw.decode().rstrip("\n"))
    return lines


def _late_participant_and_new_order(lines: list[str]) -> list[str]:
    """The shipping participant of an old choreographed order that waited for approval (started
    after the upgrade), and a new orchestrated order."""
    rows = [match.groupdict() for match in map(ROW.search, lines) if match]
    old = next(
        r
        for r in rows
        if r["build"] == V1 and r["style"] == "choreographed" and r["wait"] == "approval"
    )
    new = next(r for r in rows if r["build"] == V2 and r["style"] == "orchestrated")
    return [f"shipping-{old['order']}", f"order-{new['order']}"]


async def page_text(url: str) -> str:
    """What a headless Chromium shows of a page of the Web UI, once its scripts have run."""
    assert CHROMIUM is not None
    browser = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",  # a container's /dev/shm is small
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    dom, _ = await asyncio.wait_for(browser.communicate(), 90)
    text = re.sub(r"<[^>]+>", " ", dom.decode(errors="replace"))
    return re.sub(r"\s+", " ", html.unescape(text))


@pytest.fixture(scope="module")
def run(rehearsal: RehearsalRun) -> Result:
    return rehearsal.result


@pytest.mark.timeout(REHEARSAL_SECONDS + 30)
async def test_the_rehearsal_passes_and_says_each_step(run: Result) -> None:
    assert run.code == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    for step in (
        f"workers of {V1} (this checkout) up: {V1} is current",
        f"placed 6 orders {BEFORE_V2}, in every style, each now waiting (approval, carrier)",
        f"workers of {V2} (this checkout + next_build.patch) up beside them: {V1} is still current",
        f"placed 3 orders {V2_UP}, in every style, each now waiting (carrier)",
        "$ temporal worker deployment set-current-version --deployment-name orders --build-id "
        f"{V2} --yes",
        f"placed 6 orders {V2_CURRENT}, in every style, each now waiting (approval, carrier)",
        f"{V1} drained: no workflow is pinned to it any more",
        f"stopped the workers of {V1}",
    ):
        assert step in lines, step
    assert lines[-1].startswith("upgrade rehearsed: 15 orders"), lines[-1]
    assert "Traceback" not in run.stderr


@pytest.mark.timeout(REHEARSAL_SECONDS + 30)
async def test_every_order_ran_on_the_build_it_started_on_with_its_behaviour(run: Result) -> None:
    rows = [match.groupdict() for match in map(ROW.search, run.stdout.splitlines()) if match]

    placed = sorted((row["style"], row["wait"], row["when"], row["build"]) for row in rows)
    assert placed == sorted(
        [(s.value, w.value, BEFORE_V2, V1) for s in Style for w in Wait]
        + [(s.value, Wait.CARRIER.value, V2_UP, V1) for s in Style]
        + [(s.value, w.value, V2_CURRENT, V2) for s in Style for w in Wait]
    )
    for row in rows:
        assert row["ok"] == "yes", row
        assert row["ran"].startswith(f"{row['build']} ("), row  # every workflow: one build
        expected = "with tracking link" if row["build"] == V2 else "plain"
        assert row["notice"] == expected, row


@pytest.mark.timeout(REHEARSAL_SECONDS + 30)
@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (.ci/run installs Debian's)")
async def test_the_web_ui_shows_each_workflow_on_the_build_it_started_on(
    rehearsal: RehearsalRun,
) -> None:
    shown = {
        workflow_id: re.search(
            r"Deployment (\S+) Click to copy content Build ID (\S+) Click to copy content "
            r"Versioning Behavior (\S+)",
            text,
        )
        for workflow_id, text in rehearsal.pages.items()
    }
    builds = {wf: (m.groups() if m else None) for wf, m in shown.items()}
    [late_participant, new_order] = builds
    assert builds[late_participant] == ("orders", V1, "Pinned"), builds
    assert builds[new_order] == ("orders", V2, "Pinned"), builds


def test_a_patch_that_no_longer_applies_is_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "stale.patch"
    stale.write_text(
        builds.PATCH.read_text().replace("class ShipmentDispatched(Model):", "class Nope:")
    )
    monkeypatch.setattr(builds, "PATCH", stale)

    with pytest.raises(RefusedError, match="does not apply to this checkout any more"):
        next_build(tmp_path / "next")


def test_the_next_build_is_this_checkout_with_the_change_under_rehearsal(tmp_path: Path) -> None:
    build = next_build(tmp_path / "next")

    notices = (build.tree / "workflows" / "services" / "notifications.py").read_text()
    payloads = (build.tree / "domain" / "events" / "payloads.py").read_text()
    assert "Follow it at {url}" in notices
    assert V2_NOTICE.startswith("Follow it at https://")
    assert f"    {V2_EVENT_FIELD}: str | None = None" in payloads
    assert (build.tree / "workers" / "run.py").read_text() == (
        builds.PROJECT_ROOT / "workers" / "run.py"
    ).read_text()


def _as_expected(build_id: str) -> Verdict:
    """A choreographed order that waited for the carrier and ran as its build should."""
    placed = PlacedOrder("o-1", "orders-o-1", Style.CHOREOGRAPHED)
    return Verdict(
        RehearsedOrder(placed, Wait.CARRIER, build_id, "whenever"),
        ended_as="completed",
        builds={"orders-o-1": build_id, "shipping-o-1": build_id},
        notice="Tracking number: T1." + (f" {V2_NOTICE}T1." if build_id == V2 else ""),
        event_fields={"tracking_number", "carrier"}
        | ({V2_EVENT_FIELD} if build_id == V2 else set()),
    )


@pytest.mark.parametrize("build_id", [V1, V2])
def test_an_order_as_expected_is_no_surprise(build_id: str) -> None:
    assert _as_expected(build_id).surprises == []


@pytest.mark.parametrize(
    ("changes", "surprise"),
    [
        ({"ended_as": "cancelled"}, "ended cancelled, not completed"),
        ({"builds": {"orders-o-1": V1, "shipping-o-1": V2}}, "ran elsewhere: shipping-o-1 on v2"),
        ({"notice": f"Tracking number: T1. {V2_NOTICE}T1."}, "dispatch notice of the other build"),
        ({"notice": None}, "no dispatch notice"),
        ({"event_fields": {"tracking_number", V2_EVENT_FIELD}}, "ShipmentDispatched of the other"),
    ],
)
def test_an_old_order_that_saw_the_new_build_is_a_surprise(
    changes: dict[str, Any], surprise: str
) -> None:
    [found] = dataclasses.replace(_as_expected(V1), **changes).surprises
    assert found.startswith(surprise), found
