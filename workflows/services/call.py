"""The one place that turns a service call into an activity: by reference to the activity
method, which says its name, its argument's and its result's types and (by its class's
`service_activities`) the task queue it runs on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow

from domain.services import Service
from workflows.retry_policies import BOUNDED, StepPolicy

with workflow.unsafe.imports_passed_through():
    from activities.common import service_of

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")


@overload
async def call(
    activity: Callable[[Any, ArgT], Awaitable[ResultT]],
    argument: ArgT,
    *,
    policy: StepPolicy = BOUNDED,
    summary: str | None = None,
    heartbeat_timeout: timedelta | None = None,
    extra_time: timedelta = timedelta(0),
    local: bool = False,
    service: Service | None = None,
) -> ResultT: ...


@overload
async def call(
    activity: Callable[[Any, ArgT], ResultT],
    argument: ArgT,
    *,
    policy: StepPolicy = BOUNDED,
    summary: str | None = None,
    heartbeat_timeout: timedelta | None = None,
    extra_time: timedelta = timedelta(0),
    local: bool = False,
    service: Service | None = None,
) -> ResultT: ...


async def call(
    activity: Callable[[Any, ArgT], Any],
    argument: ArgT,
    *,
    policy: StepPolicy = BOUNDED,
    summary: str | None = None,
    heartbeat_timeout: timedelta | None = None,
    extra_time: timedelta = timedelta(0),
    local: bool = False,
    service: Service | None = None,
) -> Any:
    """`service`: whose queue, for an activity every service's worker hosts (`publish_event`,
    of no one service's class); otherwise its class says (`service_activities`).

    `local`: run it as a local activity, on the worker that runs this workflow, which must be
    the activity's service's own (`workers.registry` hosts the workflow there, with that
    service's store). A local activity is one marker in the history, recorded with the workflow
    task that ran it, where an activity is three events and a workflow task of its own. (Whether
    a call is local is the caller's to say, not read from the task queue: replay runs on a queue
    of its own.)"""
    schedule_to_close = policy.schedule_to_close + extra_time if policy.schedule_to_close else None
    if local:
        assert heartbeat_timeout is None, "a local activity does not heartbeat"
        return await workflow.execute_local_activity_method(
            activity,
            argument,
            start_to_close_timeout=policy.start_to_close + extra_time,
            schedule_to_close_timeout=schedule_to_close,
            retry_policy=policy.retry,
            summary=summary,
        )
    return await workflow.execute_activity_method(
        activity,
        argument,
        task_queue=(service or service_of(activity)).task_queue,
        start_to_close_timeout=policy.start_to_close + extra_time,
        schedule_to_close_timeout=schedule_to_close,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=policy.retry,
        summary=summary,
    )
