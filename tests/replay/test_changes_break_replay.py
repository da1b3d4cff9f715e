"""Replay can fail, and fails exactly where a change matters: a command changed without a patch
(here an activity scheduled under another name) breaks with a nondeterminism error the recorded
histories that schedule that activity, and only those; every other history still replays.

If a renamed activity broke no history, replay would be no guard of that activity; if it broke
histories that never schedule it, a failure would say nothing of where the change is. The
workflows schedule every activity through the one service call (`workflows.services.call`), by
reference; the change is made in the SDK functions it calls, so that the activity goes out under
another name. The sandbox would re-import the SDK's workflow module and undo it: these replays
run unsandboxed.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from typing import Any

import pytest
from temporalio import workflow
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

import workflows
from activities.common import activity_name
from tests.replay.recorded import Recorded, recorded_histories
from tests.replay.replaying import replay_failures
from workflows.services import call as call_module

pytestmark = pytest.mark.timeout(60)  # every recorded history is replayed in the first test

MUST_BREAK = frozenset(
    {
        "reserve_stock",
        "authorize_payment",
        "release_stock",
        "reverse_payment",
        "capture_payment",
        "book_shipment",
        "send_notification",
        "publish_event",
        "record_order_ended",
    }
)
"""The steps, their compensations, a notification, an event and the order register: the
activities whose renaming must at least be caught."""

SCHEDULED = sorted(set().union(*(r.scheduled_activities for r in recorded_histories())))
"""Every activity type any recorded history schedules: each is renamed in turn."""


SCHEDULERS = ("execute_activity_method", "execute_local_activity_method")
"""The SDK functions the service call schedules an activity with."""


ANY_SCHEDULER = re.compile(r"\b(?:start|execute)_(?:local_)?activity(?:_method|_class)?\(")
"""Every SDK call that schedules an activity, however it was imported."""


def _renaming(activity: str, scheduler: Callable[..., Any]) -> Callable[..., Any]:
    """`scheduler`, but `activity` is scheduled by the name `<activity>_renamed`."""

    def changed(scheduled: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> Any:
        name = scheduled if isinstance(scheduled, str) else activity_name(scheduled)
        if name != activity:
            return scheduler(scheduled, *args, **kwargs)
        by_name = (
            workflow.execute_local_activity
            if scheduler.__name__.startswith("execute_local")
            else workflow.execute_activity
        )
        return by_name(f"{activity}_renamed", *args, **kwargs)

    return changed


def _schedulers_outside_the_service_call() -> list[str]:
    """Workflow modules that schedule an activity themselves: a rename there would go unseen."""
    found = []
    for info in pkgutil.walk_packages(workflows.__path__, f"{workflows.__name__}."):
        module = importlib.import_module(info.name)
        source = inspect.getsource(module)
        if module is not call_module and ANY_SCHEDULER.search(source):
            found.append(info.name)
    return found


def _scheduling_and_one_of_each_other_type(activity: str) -> list[Recorded]:
    """Every history that schedules `activity` (each must break), and of those that do not, one
    per workflow type (each must still replay). The control test replays all of them unchanged;
    a history that never schedules the activity goes through the renaming untouched, so one of
    each type is enough to catch a renaming that reaches too far: 1,836 replays, not 5,984."""
    others: dict[str, Recorded] = {}
    scheduling = []
    for recorded in recorded_histories():
        if activity in recorded.scheduled_activities:
            scheduling.append(recorded)
        else:
            others.setdefault(recorded.workflow_type, recorded)
    return [*scheduling, *others.values()]


def test_the_renamed_activities_include_every_step_compensation_and_message() -> None:
    assert set(SCHEDULED) >= MUST_BREAK, sorted(MUST_BREAK - set(SCHEDULED))


def test_every_activity_is_scheduled_through_the_service_call() -> None:
    """The renaming reaches every workflow that schedules an activity."""
    assert _schedulers_outside_the_service_call() == []
    assert ANY_SCHEDULER.search("await workflow.start_local_activity_method(x)")  # it can fail
    source = inspect.getsource(call_module)
    assert all(f"workflow.{scheduler}(" in source for scheduler in SCHEDULERS)


async def test_unchanged_commands_replay_every_history_unsandboxed() -> None:
    """The control: without the change, the runner these tests use replays every history."""
    failures = await replay_failures(recorded_histories(), UnsandboxedWorkflowRunner())

    assert not failures, failures


@pytest.mark.parametrize("activity", SCHEDULED)
async def test_an_activity_renamed_without_a_patch_breaks_exactly_the_histories_scheduling_it(
    activity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for scheduler in SCHEDULERS:
        monkeypatch.setattr(workflow, scheduler, _renaming(activity, getattr(workflow, scheduler)))
    histories = _scheduling_and_one_of_each_other_type(activity)
    scheduling = {r.name for r in histories if activity in r.scheduled_activities}

    failures = await replay_failures(histories, UnsandboxedWorkflowRunner())

    assert scheduling, f"no recorded history schedules {activity}"
    assert set(failures) == scheduling, (
        f"broke but never schedule {activity}: {sorted(set(failures) - scheduling)}; "
        f"schedule it but still replay: {sorted(scheduling - set(failures))}"
    )
    not_nondeterminism = {
        name: repr(error)
        for name, error in failures.items()
        if not isinstance(error, NondeterminismError) or activity not in str(error)
    }
    assert not not_nondeterminism, not_nondeterminism
