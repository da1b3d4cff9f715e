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
) -> ResultT:
    result: ResultT = await workflow.execute_activity(
        activity,
        argument,
        task_queue=service.task_queue,
        result_type=result_type,
        start_to_close_timeout=policy.start_to_close + extra_time,
        schedule_to_close_timeout=(
            policy.schedule_to_close + extra_time if policy.schedule_to_close else None
        ),
        heartbeat_timeout=heartbeat_timeout,
        retry_policy=policy.retry,
        summary=summary,
    )
    return result
