"""What the choreographed shipping participant and the hybrid style's carrier hand-off share:
book a carrier, dispatch, follow the parcel under the delivery deadline, and announce each stage.
Each says in its own events what happened (`announce`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel
from temporalio.exceptions import ActivityError

from domain.events import payloads
from domain.events.contract import ORDER_CONTRACT, EventType
from domain.events.records import ParticipantStart
from domain.messages.shipment import ParcelShipment, ShipmentStage
from domain.messages.shipping import CarrierReport
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant, step_failed
from workflows.parcel import CarrierReports, ParcelWatch, dispatch, follow_to_the_end
from workflows.services import notifications, shipping


@dataclass(frozen=True)
class StageNews:
    """One stage of the parcel's journey, with what its announcement may need."""

    stage: ShipmentStage | None
    """None: no carrier would take the parcel."""
    request: ParcelShipment
    tracking_number: str = ""
    carrier: str = ""
    at: datetime | None = None
    late: bool = False
    failure: payloads.StepFailed | None = None


def stage_payload(event_type: EventType, news: StageNews) -> BaseModel:
    """The payload of a stage's event: the failure as it came; for any other stage, the event's
    payload model given the fields of the news it declares."""
    if news.stage is None:
        assert news.failure is not None
        return news.failure
    facts = {
        "tracking_number": news.tracking_number,
        "carrier": news.carrier,
        "at": news.at,
        "late": news.late,
        "deadline": news.request.delivery_deadline,
        "detail": f"no delivery within {news.request.lost_after}",
    }
    model = ORDER_CONTRACT.spec(event_type).payload
    return model.model_validate({k: v for k, v in facts.items() if k in model.model_fields})


class ParcelShipper(CarrierReports, Participant):
    escalates_late_delivery = False
    """Whether this participant tells operations of a late delivery itself (in the
    choreographed style the notifications service reacts to the event instead)."""

    def __init__(self, start: ParticipantStart) -> None:
        super().__init__(start)
        self._parcel = ParcelWatch(start.order_id)
        self._finished = False

    def done(self) -> bool:
        return self._finished

    stage_events: ClassVar[Mapping[ShipmentStage | None, EventType]]
    """The event this participant announces each stage with (None: no carrier took it)."""

    async def announce(self, news: StageNews, cause: Received) -> None:
        """Publish the stage's event: the failure as it came, any other stage's payload made
        from the news (each event's payload model takes the fields it declares)."""
        event_type = self.stage_events[news.stage]
        await self.publish(event_type, stage_payload(event_type, news), cause)

    def delivery_at(self) -> datetime:
        return self._parcel.delivery.at

    async def ship(self, request: ParcelShipment, cause: Received) -> None:
        order_id = request.order_id
        try:
            booking = await shipping.book_shipment(request)
        except ActivityError as failure:
            await shipping.cancel_shipment(order_id)
            await self.announce(StageNews(None, request, failure=step_failed(failure)), cause)
            return
        number = booking.tracking_number
        self._parcel.tracking_number = number
        await dispatch(self._parcel, order_id, request.simulate_carrier)
        await self.announce(
            StageNews(ShipmentStage.DISPATCHED, request, number, booking.carrier), cause
        )
        self._parcel.lean = self.lean()
        stages = _Announced(self, request, number, cause)
        await follow_to_the_end(
            self._parcel, order_id, request.delivery_deadline, request.lost_after, stages
        )


@dataclass(frozen=True)
class _Announced:
    """The parcel's stages as a participant tells them: each an event of its own."""

    shipper: ParcelShipper
    request: ParcelShipment
    tracking_number: str
    cause: Received

    async def on_picked_up(self, report: CarrierReport) -> None:
        await self._announce(ShipmentStage.PICKED_UP, at=report.at)

    async def on_late(self) -> None:
        await self._announce(ShipmentStage.LATE)
        if self.shipper.escalates_late_delivery:
            await notifications.notify_delivery_late(
                self.request.order_id, self.tracking_number, self.request.delivery_deadline
            )

    async def on_delivered(self, late: bool) -> None:
        await self._announce(ShipmentStage.DELIVERED, at=self.shipper.delivery_at(), late=late)

    async def on_lost(self) -> None:
        await self._announce(ShipmentStage.LOST)

    async def _announce(
        self, stage: ShipmentStage, *, at: datetime | None = None, late: bool = False
    ) -> None:
        news = StageNews(stage, self.request, self.tracking_number, at=at, late=late)
        await self.shipper.announce(news, self.cause)
