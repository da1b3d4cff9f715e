"""A participant's compensation that may be parked: done, it publishes its service's "undone"
event; failed (the gateway refuses the void, or it kept failing past the order's budget), its
service's "could not undo" event, and it waits for a person's answer, relayed by the order view
as an event: retry (`UndoRetryRequested`) or undone by hand (`UndoneByHand`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from pydantic import BaseModel
from temporalio.exceptions import ActivityError, is_cancelled_exception

from domain.events import payloads
from domain.events.contract import EventType
from domain.events.envelope import EventEnvelope
from domain.messages.resolution import Compensation
from workflows.choreography.inbox import Received
from workflows.choreography.participant import Participant, reacts_to
from workflows.failures import failure_message
from workflows.services.resolutions import record_resolved_by_hand


class Publisher(Protocol):
    async def publish(
        self, event_type: EventType, payload: BaseModel, caused_by: Received | None
    ) -> EventEnvelope: ...


class ParkableUndo:
    def __init__(
        self, order_id: str, compensation: Compensation, done: EventType, failed: EventType
    ) -> None:
        self._order_id = order_id
        self.compensation = compensation
        self._done = done
        self._failed = failed
        self.parked = False

    async def attempt(
        self,
        participant: Publisher,
        undo: Callable[[], Awaitable[BaseModel]],
        received: Received,
    ) -> bool:
        """Run the undo and say how it went; True once it is done."""
        try:
            undone = await undo()
        except ActivityError as failure:
            if is_cancelled_exception(failure):
                raise
            self.parked = True
            why = failure_message(failure)[:500]
            parked = payloads.UndoFailed(compensation=self.compensation, why=why)
            await participant.publish(self._failed, parked, received)
            return False
        self.parked = False
        await participant.publish(self._done, undone, received)
        return True

    async def record_by_hand(self, answer: payloads.UndoResolution) -> None:
        """The service puts on record that a person undid its compensation by hand."""
        note = answer.note or "(no note)"
        await record_resolved_by_hand(self._order_id, self.compensation, answer.resolved_by, note)


class CompensatingParticipant(Participant):
    """A participant whose step is undone when the order is cancelled (`_compensate`), parked
    when the undo fails, and then answered by a person: retry it, or it was undone by hand. The
    cancel and the answers are handled here, the same for every service that can be parked.

    A subclass sets `_undo`, and says what its compensation is (`_compensation`), what it
    publishes when a person undid it by hand (`_undone_by_hand`), and what it notes once undone
    (`_note_undone`)."""

    _undo: ParkableUndo

    async def _compensation(self) -> BaseModel:
        """Undo the service's step; what it returns is published as the "undone" event."""
        raise NotImplementedError

    async def _undone_by_hand(self) -> BaseModel:
        """The "undone" event's payload when a person did the undoing."""
        raise NotImplementedError

    def _note_undone(self) -> None:
        raise NotImplementedError

    async def _compensate(self, received: Received) -> None:
        if await self._undo.attempt(self, self._compensation, received):
            self._note_undone()

    @reacts_to(EventType.ORDER_CANCELLED)
    async def _on_order_cancelled(
        self, payload: payloads.OrderCancelled, received: Received
    ) -> None:
        await self._compensate(received)

    @reacts_to(EventType.UNDO_RETRY_REQUESTED)
    async def _on_undo_retry_requested(
        self, answer: payloads.UndoResolution, received: Received
    ) -> str | None:
        if not self._undo.parked:
            return self._nothing_parked()
        await self._compensate(received)
        return None

    @reacts_to(EventType.UNDONE_BY_HAND)
    async def _on_undone_by_hand(
        self, answer: payloads.UndoResolution, received: Received
    ) -> str | None:
        if not self._undo.parked:
            return self._nothing_parked()
        await self._undo.record_by_hand(answer)
        if await self._undo.attempt(self, self._undone_by_hand, received):
            self._note_undone()
        return None

    def _nothing_parked(self) -> str:
        return f"ignored: nothing of {self.service.value} is parked"


UNDONE_BY: dict[EventType, EventType] = {
    EventType.STOCK_RELEASE_FAILED: EventType.STOCK_RELEASED,
    EventType.PAYMENT_VOID_FAILED: EventType.PAYMENT_VOIDED,
}
"""Each "could not undo" event, and the event that says the same compensation was done."""


class ParkedUndos:
    """The order view's account of the services' parked compensations: the latest failure each
    service reported (a retry that fails again reports anew), and which a person has answered."""

    def __init__(self) -> None:
        self._latest: dict[EventType, Received] = {}
        self._answered: set[str] = set()

    def note(self, received: Received) -> None:
        self._latest[received.type] = received

    def unanswered(self, facts: Mapping[EventType, Received]) -> list[Received]:
        """Failures not undone since and not yet answered: what waits for a person now."""
        return [
            failure
            for failed, failure in self._latest.items()
            if UNDONE_BY[failed] not in facts and failure.envelope.event_id not in self._answered
        ]

    def answer(self, stuck: list[Received]) -> None:
        self._answered |= {failure.envelope.event_id for failure in stuck}

    def settled(self, stuck: list[Received], facts: Mapping[EventType, Received]) -> bool:
        """Each answered service has said how the answer went: undone, or failed anew."""
        return all(
            UNDONE_BY[failure.type] in facts
            or self._latest[failure.type].envelope.event_id not in self._answered
            for failure in stuck
        )
