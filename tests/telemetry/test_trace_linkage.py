"""One happy order in each style on the dev server, with real workers of every service and
tracing into memory: every span of the order is in the trace its starter began, down to the last
activity, across the services — including the hops made by events (signal-with-start from a
participant's `publish_event` activity, `event` signals to the hybrid's orchestrator).

The simulated carrier stands for an outside system (a carrier's webhook): its signals begin
traces of their own, which the receiving workflow's `HandleSignal` span links to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from client.input_files import new_order_id
from client.orders import PlacedOrder, place_order
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style
from domain.status import OrderStatus
from infra.telemetry import TASK_QUEUE_ATTRIBUTE, tracing_interceptors
from insight.local_activities import local_activity_of
from tests.support import closed_workflows, outcome_of
from workers.pool import running_workers

pytestmark = pytest.mark.e2e

NAMESPACE = "default"
CARRIER_SIGNALS = ("SignalWorkflow:picked_up", "SignalWorkflow:delivered")

EVERY_TASK_QUEUE = {service.task_queue for service in Service}
"""In every style each service runs some of the order's activities."""
EXPECTED_WORKFLOW_PREFIXES = {
    Style.ORCHESTRATED: {"order", "shipment"},
    Style.CHOREOGRAPHED: {"orders", "inventory", "payments", "shipping", "notifications"},
    Style.HYBRID: {"order", "picking", "packing", "handoff"},
}
STARTER_SPAN = {
    Style.ORCHESTRATED: "StartWorkflow:OrderWorkflow",
    Style.CHOREOGRAPHED: "SignalWithStartWorkflow:OrdersParticipant",
    Style.HYBRID: "StartWorkflow:HybridOrderWorkflow",
}


@dataclass(frozen=True)
class TracedOrders:
    placed: dict[Style, PlacedOrder]
    spans: Sequence[ReadableSpan]
    activities: dict[Style, int]
    """How many activities the order's workflows scheduled, from their histories."""

    def spans_of(self, style: Style) -> list[ReadableSpan]:
        """The spans naming one of the order's workflows (`<prefix>-<order id>`)."""
        suffix = f"-{self.placed[style].order_id}"
        return [
            span
            for span in self.spans
            if str((span.attributes or {}).get("temporalWorkflowID", "")).endswith(suffix)
        ]


@pytest.fixture(scope="module")
async def traced(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> TracedOrders:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        namespace=NAMESPACE,
        data_converter=pydantic_data_converter,
        interceptors=tracing_interceptors(provider),
    )
    happy = SCENARIOS_BY_NAME["happy"]
    styles = list(STARTER_SPAN)
    async with running_workers(client, list(Service), tmp_path_factory.mktemp("traced")):
        placed = {
            style: await place_order(client, happy.order(new_order_id("traced")), style)
            for style in styles
        }
        outcomes = await asyncio.gather(*(outcome_of(client, placed[style]) for style in styles))
        # the participants may still be finishing their last activities after the outcome
        activities = {
            style: await activities_scheduled(client, placed[style].order_id) for style in styles
        }
    assert [outcome.status for outcome in outcomes] == [OrderStatus.COMPLETED.value] * 3
    provider.shutdown()
    return TracedOrders(placed, exporter.get_finished_spans(), activities)


async def activities_scheduled(client: Client, order_id: str) -> int:
    """Once every workflow of the order has closed: the activities their histories schedule,
    local ones included."""
    workflows = await closed_workflows(client, order_id)
    scheduled = 0
    for workflow_id in workflows:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        scheduled += sum(
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            or local_activity_of(event) is not None
            for event in history.events
        )
    return scheduled


def _carrier_signal(span: ReadableSpan) -> bool:
    return span.name in CARRIER_SIGNALS and span.parent is None


@pytest.mark.parametrize("style", list(STARTER_SPAN))
async def test_every_span_of_the_order_is_in_the_trace_its_starter_began(
    traced: TracedOrders, style: Style
) -> None:
    spans = [span for span in traced.spans_of(style) if not _carrier_signal(span)]
    (root,) = [span for span in spans if span.parent is None]
    assert root.name == STARTER_SPAN[style]

    trace_ids = {span.context.trace_id for span in spans}

    assert trace_ids == {root.context.trace_id}
    # a happy order retries nothing: one RunActivity span per activity its histories schedule
    runs = sum(span.name.startswith("RunActivity:") for span in spans)
    assert runs == traced.activities[style]


@pytest.mark.parametrize("style", list(STARTER_SPAN))
async def test_the_trace_spans_the_services(traced: TracedOrders, style: Style) -> None:
    spans = traced.spans_of(style)
    order_id = traced.placed[style].order_id
    task_queues = {
        str((span.attributes or {})[TASK_QUEUE_ATTRIBUTE])
        for span in spans
        if span.name.startswith("RunActivity:")
    }
    prefixes = {
        str((span.attributes or {})["temporalWorkflowID"]).removesuffix(f"-{order_id}")
        for span in spans
        if span.name.startswith("RunWorkflow:")
    }

    assert task_queues == EVERY_TASK_QUEUE
    assert prefixes == EXPECTED_WORKFLOW_PREFIXES[style]


@pytest.mark.parametrize("style", [Style.CHOREOGRAPHED, Style.HYBRID])
async def test_events_travel_inside_the_trace(traced: TracedOrders, style: Style) -> None:
    """Each participant after the first was started by signal-with-start from another's
    `publish_event` activity, and that start is its workflow's parent."""
    spans = traced.spans_of(style)
    by_id = {span.context.span_id: span for span in spans}
    starts = [span for span in spans if span.name.startswith("SignalWithStartWorkflow:")]
    published = [
        span
        for span in starts
        if span.parent is not None
        and by_id[span.parent.span_id].name == "RunActivity:publish_event"
    ]

    assert published, "no participant was started by an event"
    assert len(published) == len(starts) - (style is Style.CHOREOGRAPHED)
    if style is Style.HYBRID:
        signals = [span for span in spans if span.name == "SignalWorkflow:event"]
        orchestrator = traced.placed[style].workflow_id
        handled = [
            span
            for span in spans
            if span.name == "HandleSignal:event"
            and (span.attributes or {}).get("temporalWorkflowID") == orchestrator
        ]
        assert signals, "the warehouse reported nothing to the orchestrator"
        assert {link.context.span_id for span in handled for link in span.links} == {
            span.context.span_id for span in signals
        }


async def test_the_carrier_begins_traces_of_its_own_linked_from_the_order(
    traced: TracedOrders,
) -> None:
    for style in STARTER_SPAN:
        spans = traced.spans_of(style)
        carrier = [span for span in spans if _carrier_signal(span)]
        linked = {link.context.span_id for span in spans for link in span.links}
        assert carrier, style
        assert {span.context.span_id for span in carrier} <= linked, style
