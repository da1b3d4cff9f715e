"""Every change to a workflow must still replay the histories recorded under `histories/`: a
history that no longer replays is a workflow that would break mid-flight in production.

They replay in the workers' sandbox, all through one replayer (one history at a time would take
the whole time budget of the package); each history still passes or fails as a test of its own.
"""

from __future__ import annotations

import pytest

from infra.sandbox import workflow_runner
from tests.replay.recorded import recorded_histories
from tests.replay.replaying import replay_failures

pytestmark = pytest.mark.timeout(180)
"""Every recorded history is replayed in the first test's setup: 54 s of a full suite run on two
cores (fresh-ci, 2026-12-02), so the bound leaves room for a loaded machine."""


@pytest.fixture(scope="module")
async def failures() -> dict[str, Exception]:
    """Each history's replay failure, by file name: the replay runs once for the module."""
    return await replay_failures(recorded_histories(), workflow_runner())


@pytest.mark.parametrize(
    "name",
    [recorded.name for recorded in recorded_histories()],
    ids=lambda name: name.removesuffix(".json"),
)
def test_history_replays(name: str, failures: dict[str, Exception]) -> None:
    failure = failures.get(name)

    assert failure is None, f"{name} no longer replays: {failure!r}"
