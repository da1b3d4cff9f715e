"""Replay can fail, and fails exactly where a change matters: a command changed without a patch
(here an activity scheduled under another name) breaks with a nondeterminism error the recorded
histories that schedule that activity, and only those; every other history still replays.

If a renamed activity broke no history, replay would be no guard of that activity; if it broke
histories that never schedule it, a failure would say nothing of where the change is. The
activities' workflows call them through the one service call (`workflows.services.call.call`),
so the change is made there, where each workflow module looks `call` up. The sandbox would
re-import the workflow modules and undo it: these replays run unsandboxed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

import pytest
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.workflow import NondeterminismError

import workflows
from domain.services import Service
from tests.replay.recorded import recorded_histories
from tests.replay.replaying import replay_failures
from workflows.services.call import call

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


def _call_sites() -> list[ModuleType]:
    """The workflow modules that look the service call up by the name `call`."""
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(workflows.__path__, f"{workflows.__name__}.")
    ]
    return [module for module in modules if getattr(module, "call", None) is call]


def _renaming(activity: str) -> Callable[..., Awaitable[Any]]:
    """The service call, but `activity` is scheduled as `<activity>_renamed`."""

    async def changed(service: Service, name: str, *args: Any, **kwargs: Any) -> Any:
        return await call(service, f"{name}_renamed" if name == activity else name, *args, **kwargs)

    return changed


def test_the_renamed_activities_include_every_step_compensation_and_message() -> None:
    assert set(SCHEDULED) >= MUST_BREAK, sorted(MUST_BREAK - set(SCHEDULED))


def test_the_service_call_is_looked_up_by_each_services_module_and_the_participants() -> None:
    """The renaming reaches every workflow that schedules an activity."""
    names = {module.__name__ for module in _call_sites()}

    assert {f"workflows.services.{service.value}" for service in Service} <= names
    assert "workflows.choreography.participant" in names


async def test_unchanged_commands_replay_every_history_unsandboxed() -> None:
    """The control: without the change, the runner these tests use replays every history."""
    failures = await replay_failures(recorded_histories(), UnsandboxedWorkflowRunner())

    assert not failures, failures


@pytest.mark.parametrize("activity", SCHEDULED)
async def test_an_activity_renamed_without_a_patch_breaks_exactly_the_histories_scheduling_it(
    activity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in _call_sites():
        monkeypatch.setattr(module, "call", _renaming(activity))
    histories = recorded_histories()
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
