"""The activity by which a participant publishes an event: delivery needs a Temporal client
(signal-with-start), which workflow code cannot hold, so it runs here, with the worker's client."""

from __future__ import annotations

from temporalio import activity
from temporalio.common import WorkerDeploymentVersion

from domain.events.envelope import EventEnvelope
from domain.events.records import DeliveryReport
from infra.event_bus import deliver


class EventPublisher:
    """Every service's worker hosts one, of its own build.

    `build`: the Worker Deployment version of the worker (None: unversioned). A participant it
    starts is pinned to that build, the publisher's: the activity runs on the build its pinned
    workflow runs on, so every participant of an order started before an upgrade runs the old
    build's code to the end, as the order's first workflow does. Unpinned, a participant started
    after the upgrade would run the new build's code and read the old build's events (and the
    old build's participants the new one's): the upgrade rehearsal's old choreographed order
    then stalled in transit."""

    def __init__(self, build: WorkerDeploymentVersion | None = None) -> None:
        self._build = build

    @activity.defn(name="publish_event")
    async def publish_event(self, envelope: EventEnvelope) -> DeliveryReport:
        """Idempotent by `event_id`: a retry signals again and every receiver drops the
        duplicate."""
        return await deliver(activity.client(), envelope, pinned_to=self._build)
