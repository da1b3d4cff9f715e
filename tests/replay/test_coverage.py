"""Replay covers every path of the process, in every style, for every workflow the path runs:
the table (`paths.py`) says which histories that takes, and these tests hold `histories/` to it.
A path without its histories is code whose changes no replay would catch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from temporalio.api.enums.v1 import EventType

from domain.events.contract import ORDER_CONTRACT
from domain.events.envelope import EventEnvelope, Party
from domain.scenarios import SCENARIOS
from domain.services import Style
from domain.status import CancelReason
from tests.replay import paths
from tests.replay.paths import (
    PATHS,
    PATHS_BY_NAME,
    WORKFLOWS_BY_STYLE,
    ReplayPath,
    history_name,
    required_histories,
    workflow_type,
)
from tests.replay.recorded import HISTORIES, Recorded, recorded, recorded_histories
from workers.registry import ALL_WORKFLOWS

RECORD = "record them with `python -m tests.replay.record_histories`"

PATH_STYLES = [(path, style) for path in PATHS for style in path.styles]


def _id(value: object) -> str:
    return value.name if isinstance(value, ReplayPath) else str(value)


def _lifecycle(path: ReplayPath, style: Style) -> Recorded:
    """The history of the workflow that answers for the order, where its outcome is."""
    lifecycle = workflow_type(WORKFLOWS_BY_STYLE[style].lifecycle)
    return recorded(history_name(style, path.name, lifecycle))


def _histories_of(path: ReplayPath, style: Style) -> list[Recorded]:
    """The histories of the path's order in the style, one per workflow it ran."""
    return [
        recorded(history_name(style, path.name, workflow_type(workflow)))
        for workflow in path.workflows(style)
    ]


def _outcome(recorded: Recorded) -> tuple[str, CancelReason | None]:
    """The order's outcome as its lifecycle workflow ended, read as the order client reads it:
    a workflow cancelled before the pivot is an order cancelled for that reason."""
    if recorded.closed_as == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        return "cancelled", CancelReason.WORKFLOW_CANCELLED
    result = recorded.result
    assert result is not None, f"{recorded.name} did not complete"
    reason = result.get("reason")
    return str(result["status"]), CancelReason(reason) if reason else None


def test_every_path_has_a_recorded_history_of_each_workflow_it_runs_in_each_style() -> None:
    missing = sorted(name for name in required_histories() if not (HISTORIES / name).exists())

    assert not missing, f"{len(missing)} history(ies) missing; {RECORD}: {missing}"


def test_every_recorded_history_is_one_the_table_asks_for_of_the_type_it_names() -> None:
    """A stray file (a path renamed, a type gone) is replayed but stands for nothing declared."""
    required = required_histories()
    strays = [r.name for r in recorded_histories() if r.name not in required]
    mislabelled = [
        r.name
        for r in recorded_histories()
        if r.name in required and r.workflow_type != workflow_type(required[r.name][2])
    ]

    assert not strays, f"histories no path of paths.py asks for: {strays}"
    assert not mislabelled, (
        f"histories of another workflow type than their name says: {mislabelled}"
    )


def test_every_registered_workflow_type_is_run_by_some_path() -> None:
    covered = {workflow for _, _, workflow in required_histories().values()}
    uncovered = sorted(workflow_type(w) for w in ALL_WORKFLOWS if w not in covered)

    assert not uncovered, f"no path of paths.py runs {uncovered}: add them to WORKFLOWS_BY_STYLE"


def test_every_scenario_is_a_path_of_every_style() -> None:
    for scenario in SCENARIOS:
        assert scenario.name in PATHS_BY_NAME, f"scenario {scenario.name} is no path"
        assert set(PATHS_BY_NAME[scenario.name].styles) == set(WORKFLOWS_BY_STYLE)


@pytest.mark.parametrize(("path", "style"), PATH_STYLES, ids=_id)
def test_each_paths_lifecycle_history_ends_with_the_outcome_the_path_expects(
    path: ReplayPath, style: Style
) -> None:
    expected = (path.scenario.expected_status.value, path.scenario.expected_reason)

    assert _outcome(_lifecycle(path, style)) == expected


HALLMARKS: dict[str, tuple[str, Callable[[Recorded], bool]]] = {
    "approval_granted": ("the approve update accepted", lambda r: "approve" in r.accepted_updates),
    "approval_timeout": (
        "the approval window fired",
        lambda r: "approval window" in r.fired_timers,
    ),
    "flaky_payment": ("authorize_payment retried", lambda r: r.attempts("authorize_payment") > 1),
    "stuck_compensation": (
        "the void refused, parked, then retried by the resolve update",
        lambda r: "resolve" in r.accepted_updates,
    ),
    paths.WORKFLOW_CANCELLED_BEFORE_PIVOT.name: (
        "a workflow cancel request, the workflow cancelled",
        lambda r: (
            r.cancel_requested and r.closed_as == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED
        ),
    ),
    paths.WORKFLOW_CANCELLED_AFTER_PIVOT.name: (
        "a workflow cancel request, the workflow completed",
        lambda r: (
            r.cancel_requested and r.closed_as == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
        ),
    ),
    paths.WORKFLOW_CANCELLED_DURING_A_STEP.name: (
        "the retried authorization cancelled (orchestrator), or voided once over (choreography)",
        lambda r: (
            "authorize_payment" in r.cancelled_activities
            or (r.attempts("authorize_payment") > 1 and "reverse_payment" in r.scheduled_activities)
        ),
    ),
    paths.UPDATES_REFUSED_AND_ADDRESS_CHANGED.name: (
        "change_address the one update accepted",
        lambda r: r.accepted_updates == ["change_address"],
    ),
}
"""What one of a path's histories must show beyond the order's outcome, for the paths whose
outcome alone would not tell them from another (an approved order completes as a happy one
does; the retried authorization is in the orchestrator, or in the payments participant)."""


@pytest.mark.parametrize(
    ("path", "style"),
    [(path, style) for path, style in PATH_STYLES if path.name in HALLMARKS],
    ids=_id,
)
def test_each_paths_histories_show_what_sets_the_path_apart(path: ReplayPath, style: Style) -> None:
    what, shows = HALLMARKS[path.name]
    histories = _histories_of(path, style)

    assert any(shows(recorded) for recorded in histories), (
        f"no history of {path.name} ({style.value}) shows {what}: "
        f"{[recorded.name for recorded in histories]}"
    )


_RECEIVER_OF_TYPE = {
    **{party.workflow_type: party for party in Party if not party.starts_flows},
    workflow_type(WORKFLOWS_BY_STYLE[Style.HYBRID].lifecycle): Party.ORCHESTRATOR,
}


@pytest.mark.parametrize(
    ("path", "style"),
    [(path, style) for path, style in PATH_STYLES if path.since == paths.CUT_PAYLOADS],
    ids=_id,
)
def test_each_history_since_the_cut_holds_only_the_cut_its_workflow_is_handed(
    path: ReplayPath, style: Style
) -> None:
    """The histories recorded for the cut payloads are of them: every event a workflow received
    is exactly what the contract hands its party (the histories of before hold whole payloads,
    and must replay too)."""
    received = [
        (recorded.name, _RECEIVER_OF_TYPE[recorded.workflow_type], envelope)
        for recorded in _histories_of(path, style)
        for envelope in map(EventEnvelope.model_validate, recorded.signalled_events)
    ]

    uncut = [
        (name, envelope.type)
        for name, party, envelope in received
        if ORDER_CONTRACT.cut_for(party, envelope) != envelope
    ]
    assert received
    assert uncut == []


def test_every_operator_path_has_a_hallmark() -> None:
    """An operator path is played by the recorder, not by a scenario: only its hallmark shows
    that the recorder did what the path says."""
    assert {scenario.name for scenario in paths.OPERATOR_PATHS} <= HALLMARKS.keys()


_CLOSING = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)


def test_every_recorded_history_is_of_a_workflow_that_had_closed() -> None:
    """A history fetched while its workflow still ran replays only the start of its path."""
    open_ones = [r.name for r in recorded_histories() if r.closed_as not in _CLOSING]

    assert not open_ones, f"recorded before their workflow closed: {open_ones}"
