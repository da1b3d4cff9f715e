"""The one place that turns a service call into an activity."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow

from domain.base import Model
from domain.services import Service
from workflows.retry_policies import BOUNDED, StepPolicy

ResultT = TypeVar("ResultT")


async def call(
    service: Service,
    activity: str,
    argument: Model,
    result_type: type[ResultT],
    *,
    policy: StepPolicy = BOUNDED,
    summary: str | None = None,
    heartbeat_timeout: timedelta | None = None,
    extra_time: timedelta = timedelta(0),
    local: bool = False,
) -> ResultT:
    """`local`: run it as a local activity, on the worker that runs this workflow, which must be
    `service`'s own (`workers.registry` hosts the workflow there, with that service's store). A
    local activity is one marker in the history, recorded with the workflow task that ran it,
    where an activity is three events and a workflow task of its own. (Whether a call is local
    is the caller's to say, not read from the task queue: replay runs on a queue of its own.)"""
    schedule_to_close = policy.schedule_to_close + extra_time if policy.schedule_to_close else None
    if local:
        assert heartbeat_timeout is None, "a local activity does not heartbeat"
        local_result: ResultT = await workflow.execute_local_activity(
            activity,
            argument,
            result_type=result_type,
            start_to_close_timeout=policy.start_to_close + extra_time,
            schedule_to_close_timeout=schedule_to_close,
            retry_policy=policy.retry,
            summary=summary,
        )
        return local_result
    result: ResultT = await workflow.execute_activity(
        activity,
        argument,
        task_queue=service.task_queue,
        result_type=result_type,
        start_to_close_timeout=policy.start_to_close + extra_time,
        schedule_to_close_timeout=schedule_to_close,
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=policy.retry,
        summary=summary,
    )
    return result
