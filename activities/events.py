"""The activity by which a participant publishes an event: delivery needs a Temporal client
(signal-with-start), which workflow code cannot hold, so it runs here, with the worker's client."""

from __future__ import annotations

from temporalio import activity

from domain.events.envelope import EventEnvelope
from domain.events.records import DeliveryReport
from infra.event_bus import deliver


@activity.defn(name="publish_event")
async def publish_event(envelope: EventEnvelope) -> DeliveryReport:
    """Idempotent by `event_id`: a retry signals again and every receiver drops the duplicate."""
    return await deliver(activity.client(), envelope)
