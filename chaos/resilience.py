"""Calls to Temporal that outlast an outage: the run kills the server once, and a call caught in
that (or one a killed worker should have answered) is tried again, for a bounded time, rather than
counted as a failure of the order it was about."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.api.errordetails.v1 import NamespaceNotFoundFailure
from temporalio.client import (
    Client,
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    RPCTimeoutOrCancelledError,
    StartWorkflowUpdateInput,
    WorkflowExecutionDescription,
    WorkflowUpdateHandle,
)
from temporalio.service import RPCError, RPCStatusCode

T = TypeVar("T")

RECONNECT_PATIENCE = timedelta(seconds=90)
"""How long a call is tried again: a restart of the dev server takes a few seconds, a killed
worker's queries are answered by its replacement a few seconds later."""

_FIRST_PAUSE = 0.2
_LONGEST_PAUSE = 2.0

_TRANSIENT = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.UNKNOWN,
        RPCStatusCode.INTERNAL,
    }
)
"""What a server going down or coming up, or a query nobody answers yet, looks like."""


def is_transient(error: BaseException) -> bool:
    """Whether the error, or one it wraps (the order client turns an RPCError into a refusal
    with the RPCError as its cause), is the connection's rather than the order's."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, RPCTimeoutOrCancelledError):
            return True
        if isinstance(current, RPCError) and (
            current.status in _TRANSIENT or _namespace_not_loaded(current)
        ):
            return True
        current = current.__cause__
    return False


def _namespace_not_loaded(error: RPCError) -> bool:
    """A server starting on its old history may say for a moment that the namespace does not
    exist: it has not loaded it yet."""
    return error.status == RPCStatusCode.NOT_FOUND and any(
        detail.Is(NamespaceNotFoundFailure.DESCRIPTOR) for detail in error.grpc_status.details
    )


async def patiently(
    call: Callable[[], Awaitable[T]], patience: timedelta = RECONNECT_PATIENCE
) -> T:
    """`call()`, tried again while it fails transiently, until `patience` has passed; any other
    error, or the last transient one, is raised."""
    deadline = time.monotonic() + patience.total_seconds()
    pause = _FIRST_PAUSE
    while True:
        try:
            return await call()
        except Exception as error:
            if not is_transient(error) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)


def outlasting(client: Client) -> Client:
    """The same client, its queries, descriptions and updates tried again through an outage:
    code the run reuses as it is (the scenario player polls the order's `status` query) then
    outlasts a worker's kill or the server's restart too, instead of failing half-way and being
    started again from its first step."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], _OutlastOutages()]
    return Client(**config)


class _OutlastOutages(Interceptor):
    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Patient(next)


class _Patient(OutboundInterceptor):
    """Reads are tried again as they are; an update gets its id before the first try, so that
    the server takes a repeat as the same request (it is never applied twice)."""

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        return await patiently(lambda: self.next.query_workflow(input))

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowExecutionDescription:
        return await patiently(lambda: self.next.describe_workflow(input))

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        once = dataclasses.replace(input, update_id=input.update_id or str(uuid.uuid4()))
        return await patiently(lambda: self.next.start_workflow_update(once))
