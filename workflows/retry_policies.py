"""How hard each kind of step tries.

A step *before* the pivot retries transient failures for a bounded time, then the order is
compensated. A compensation, or a step *after* the pivot, retries until it succeeds: the process
can no longer go back, so it can only go forward. Business failures are raised non-retryable by
the activities themselves and are never retried.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from temporalio.common import RetryPolicy


@dataclass(frozen=True)
class StepPolicy:
    retry: RetryPolicy
    start_to_close: timedelta
    schedule_to_close: timedelta | None


BOUNDED = StepPolicy(
    retry=RetryPolicy(
        initial_interval=timedelta(milliseconds=500),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=0,
    ),
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(minutes=15),
)
"""A step before the pivot: give up after 15 minutes of transient failures."""

UNTIL_DONE = StepPolicy(
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        maximum_attempts=0,
    ),
    start_to_close=timedelta(seconds=30),
    schedule_to_close=None,
)
"""A compensation, or a step after the pivot: retried until it succeeds."""


def within_budget(budget: timedelta) -> StepPolicy:
    """A compensation: retried until it succeeds, for at most `budget` (the order's
    `compensation_budget`); then it is parked for a person rather than retried forever."""
    return replace(UNTIL_DONE, schedule_to_close=budget)
