"""`python -m starters.upgrade_rehearsal` as a user runs it: v1's workers, orders waiting in
every style, v2's workers beside them, v2 made current with the Temporal CLI, new orders; the
old ones end on v1 with v1's behaviour, the new ones on v2 with v2's, v1 drains and stops, the
audit is clean. And what the rehearsal calls a surprise, on orders that went wrong."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
from collections.abc import AsyncIterator
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
from tests.commands.processes import ended, plain_env
from tests.support import Result, start_module

pytestmark = pytest.mark.e2e

REHEARSAL_SECONDS = 180.0
"""A rehearsal takes about 20 s on two cores; every step of it gives up after 90 s."""

ROW = re.compile(
    r"│ (?P<order>v[12]-\S+) +│ (?P<style>\w+) +│ (?P<wait>\w+) +│ (?P<when>[^│]+?) +│ "
    r"(?P<build>v[12]) +│ (?P<ran>[^│]+?) +│ (?P<notice>[^│]+?) +│ (?P<ok>[^│]+?) +│"
)
"""A row of the table of orders across the upgrade."""


@contextlib.asynccontextmanager
async def rehearsal(directory: Path) -> AsyncIterator[Result]:
    """The rehearsal run to its end, in a process group of its own that is killed afterwards:
    the workers and the dev server it starts never outlive a test that gave up on it."""
    process = await start_module(
        plain_env(TMPDIR=str(directory)), "starters.upgrade_rehearsal", own_group=True
    )
    try:
        yield await ended(process, REHEARSAL_SECONDS)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
async def run(tmp_path_factory: pytest.TempPathFactory) -> Result:
    async with rehearsal(tmp_path_factory.mktemp("rehearsal")) as result:
        return result


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
