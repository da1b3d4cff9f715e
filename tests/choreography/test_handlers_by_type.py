"""Each participant handles an event by the handler for its type (`reacts_to`), and has one for
exactly the event types the contract has its party react to: none missing (such an event would
fail its workflow task when it comes), none the contract never hands it, never two for one type.
A class that breaks this is refused where it is defined, naming the handler."""

from __future__ import annotations

import re

import pytest

from domain.events import payloads
from domain.events.contract import ORDER_CONTRACT, EventContractError, EventType
from domain.events.envelope import Party
from workers.registry import ALL_WORKFLOWS
from workflows.choreography.inbox import Received
from workflows.choreography.inventory import InventoryParticipant
from workflows.choreography.participant import Participant, reacts_to

PARTICIPANTS = [cls for cls in ALL_WORKFLOWS if issubclass(cls, Participant)]
SERVING = [cls for cls in PARTICIPANTS if cls.take is Participant.take]
"""The participants that handle each event in turn; the others fold events into what they know
(`take`) and handle none."""


def _consumed(party: Party) -> set[EventType]:
    return {spec.type for spec in ORDER_CONTRACT.events if party in spec.consumers}


def _mismatch(participant: type[Participant]) -> str | None:
    handled, consumed = set(participant.handlers), _consumed(participant.party)
    if handled == consumed:
        return None
    missing = ", ".join(sorted(consumed - handled)) or "none"
    extra = ", ".join(sorted(handled - consumed)) or "none"
    return f"{participant.__name__}: no handler for {missing}; handlers for others: {extra}"


def test_every_party_that_reacts_to_events_is_a_participant_here() -> None:
    """Else the tests below would leave a participant out. The orchestrator reacts to the
    warehouse's events in an orchestration of its own, no participant."""
    reacting = {consumer for spec in ORDER_CONTRACT.events for consumer in spec.consumers}
    assert {cls.party for cls in PARTICIPANTS} == reacting - {Party.ORCHESTRATOR}


@pytest.mark.parametrize("participant", SERVING, ids=lambda cls: cls.__name__)
def test_a_participant_handles_exactly_what_its_party_reacts_to(
    participant: type[Participant],
) -> None:
    assert _mismatch(participant) is None


@pytest.mark.parametrize(
    "participant", [cls for cls in PARTICIPANTS if cls not in SERVING], ids=lambda cls: cls.__name__
)
def test_a_participant_that_folds_its_events_has_no_handlers(
    participant: type[Participant],
) -> None:
    assert participant.handlers == {}, "its `take` never queues an event for them"


def test_a_participant_without_a_handler_is_caught() -> None:
    class ForgetsTheDispatch(InventoryParticipant):
        async def _on_shipment_dispatched(  # overridden without `reacts_to`
            self, payload: payloads.Dispatched, received: Received
        ) -> None:
            return None

    assert _mismatch(ForgetsTheDispatch) == (
        "ForgetsTheDispatch: no handler for ShipmentDispatched; handlers for others: none"
    )


def test_a_handler_for_an_event_its_party_does_not_react_to_is_refused() -> None:
    with pytest.raises(
        EventContractError,
        match=re.escape(
            "HandlesALoss._on_parcel_lost handles ParcelLost, which the contract does not "
            "have inventory react to"
        ),
    ):

        class HandlesALoss(Participant):
            party = Party.INVENTORY

            @reacts_to(EventType.PARCEL_LOST)
            async def _on_parcel_lost(
                self, payload: payloads.ParcelLost, received: Received
            ) -> None:
                return None


def test_a_handler_in_a_shared_base_is_held_to_each_party_that_inherits_it() -> None:
    class Ships(Participant):  # names no party: nothing to check yet
        @reacts_to(EventType.ORDER_CONFIRMED)
        async def _on_order_confirmed(
            self, payload: payloads.ShipmentOrder, received: Received
        ) -> None:
            return None

    with pytest.raises(EventContractError, match="not have handoff react to"):

        class HandsOff(Ships):
            party = Party.HANDOFF


def test_two_handlers_for_one_event_type_are_refused() -> None:
    with pytest.raises(
        TypeError,
        match="CancelsTwice has two handlers for OrderCancelled: _release and _release_again",
    ):

        class CancelsTwice(Participant):
            party = Party.INVENTORY

            @reacts_to(EventType.ORDER_CANCELLED)
            async def _release(self, payload: payloads.OrderCancelled, received: Received) -> None:
                return None

            @reacts_to(EventType.ORDER_CANCELLED)
            async def _release_again(
                self, payload: payloads.OrderCancelled, received: Received
            ) -> None:
                return None


def test_a_handler_that_takes_another_payload_than_its_party_is_handed_is_refused() -> None:
    with pytest.raises(
        EventContractError,
        match=re.escape(
            "WantsTheWholeOrder._on_order_accepted takes OrderPayload for OrderAccepted, "
            "but the contract hands inventory LinesToReserve"
        ),
    ):

        class WantsTheWholeOrder(Participant):
            party = Party.INVENTORY

            @reacts_to(EventType.ORDER_ACCEPTED)
            async def _on_order_accepted(
                self, payload: payloads.OrderPayload, received: Received
            ) -> None:
                return None
