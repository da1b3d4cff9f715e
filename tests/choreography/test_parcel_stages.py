"""The parcel's stages, announced once for every participant that ships (the choreography's
shipping participant, the hybrid's carrier hand-off): each declares the event of each stage, and
each such event is one the contract says that party publishes, with a payload the news fills."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.events import payloads
from domain.events.contract import ORDER_CONTRACT
from domain.messages.shipment import ParcelShipment, ShipmentStage
from domain.status import CancelReason
from tests.support import ADDRESS
from workflows.choreography.carrier import ParcelShipper, StageNews, stage_payload
from workflows.choreography.shipping import ShippingParticipant
from workflows.hybrid.warehouse import HandoffParticipant

SHIPPERS = [ShippingParticipant, HandoffParticipant]
ANNOUNCED = {None, *ShipmentStage} - {ShipmentStage.BOOKED}
"""A booking is announced with the dispatch: a participant says nothing of it alone."""


def test_every_class_that_ships_is_checked() -> None:
    assert set(SHIPPERS) == set(ParcelShipper.__subclasses__())


@pytest.mark.parametrize("shipper", SHIPPERS, ids=lambda cls: cls.__name__)
def test_each_stage_is_an_event_the_party_publishes(shipper: type[ParcelShipper]) -> None:
    assert set(shipper.stage_events) == ANNOUNCED
    for stage, event_type in shipper.stage_events.items():
        spec = ORDER_CONTRACT.spec(event_type)
        assert spec.producer is shipper.party, (stage, event_type)
        if stage is None:
            assert spec.payload is payloads.StepFailed, event_type


def test_the_two_shippers_announce_different_events() -> None:
    events = [set(shipper.stage_events.values()) for shipper in SHIPPERS]
    assert not set.intersection(*events)


AT = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
SHIPMENT = ParcelShipment(
    order_id="parcel-1",
    address=ADDRESS,
    parcels=1,
    delivery_deadline=timedelta(days=5),
    lost_after=timedelta(days=14),
)


@pytest.mark.parametrize("shipper", SHIPPERS, ids=lambda cls: cls.__name__)
def test_each_stage_s_payload_is_made_from_the_news(shipper: type[ParcelShipper]) -> None:
    """What each event says, whichever participant tells it."""
    said = {
        stage: stage_payload(
            event_type, StageNews(stage, SHIPMENT, "TRK-1", "Parcelly", at=AT, late=True)
        ).model_dump()
        for stage, event_type in shipper.stage_events.items()
        if stage is not None
    }

    assert said[ShipmentStage.DISPATCHED] | {"customer_email": None} == {
        "tracking_number": "TRK-1",
        "carrier": "Parcelly",
        "customer_email": None,
    }
    assert said[ShipmentStage.PICKED_UP] == {"at": AT}
    assert said[ShipmentStage.LATE]["deadline"] == timedelta(days=5)
    assert said[ShipmentStage.DELIVERED] == {"at": AT, "late": True}
    assert said[ShipmentStage.LOST] == {"detail": "no delivery within 14 days, 0:00:00"}


def test_a_failure_is_announced_as_it_came() -> None:
    failure = payloads.StepFailed(reason=CancelReason.CARRIER_REJECTED, detail="no carrier")
    news = StageNews(None, SHIPMENT, failure=failure)

    assert stage_payload(ShippingParticipant.stage_events[None], news) is failure
