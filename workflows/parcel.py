"""A parcel's life once it is booked, written once for every style's shipping workflow (the
orchestrated shipment child, the choreography's shipping participant, the hybrid's carrier
hand-off): dispatch it (`dispatch`), then follow it to the end (`follow_to_the_end`): delivered
within the deadline; late, escalated, and delivered after all; or lost.

The carrier reports by signals (`picked_up`, `delivered`). The first matching report of each kind
is kept: a carrier that repeats itself, or one that reports on another parcel, changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from temporalio import workflow

from domain.faults import CarrierBehaviour
from domain.messages.shipping import CarrierEventKind, CarrierReport, CarrierSignals
from workflows.services import shipping

OnPickedUp = Callable[[CarrierReport], Awaitable[None]]
EndT = TypeVar("EndT", covariant=True)


class ParcelWatch:
    def __init__(self, order_id: str) -> None:
        self._order_id = order_id
        self.tracking_number = ""
        self._reports: dict[CarrierEventKind, CarrierReport] = {}
        self._accepted_at: dict[CarrierEventKind, datetime] = {}
        """When each kept report reached this workflow: lateness is judged by it, not by when
        the report was recorded, which may be later (a pickup still being recorded)."""
        self._recorded: set[CarrierEventKind] = set()
        self._dispatched_at: datetime | None = None
        self._followed_for = timedelta(0)
        """How long after dispatch the previous `follow` ended (the legacy path counts on)."""
        self.lean = False
        """`LEAN_HISTORY`: one timer per deadline, not one per wait, and each report recorded
        as a local activity (the workflow runs on the shipping worker, which owns its store)."""

    def accept(self, kind: CarrierEventKind, report: CarrierReport) -> None:
        if not self._matches(kind, report):
            workflow.logger.warning("ignored a carrier report that does not match: %s", report)
            return
        if kind not in self._reports:
            self._reports[kind] = report
            self._accepted_at[kind] = workflow.now()

    def dispatched(self) -> None:
        """The parcel went to the carrier now: its deadlines count from here, however long the
        workflow takes to tell anyone before it starts following."""
        self._dispatched_at = workflow.now()

    @property
    def delivery(self) -> CarrierReport:
        return self._reports[CarrierEventKind.DELIVERED]

    @property
    def delivered_reported(self) -> bool:
        """The carrier said the parcel arrived (recorded or not yet)."""
        return CarrierEventKind.DELIVERED in self._reports

    async def follow(self, until: timedelta, on_picked_up: OnPickedUp) -> bool:
        """Record the carrier's reports as they come; True once a delivery is recorded that
        reached this workflow at most `until` after `dispatched`."""
        within, self._followed_for = until - self._followed_for, until
        if self.lean:
            assert self._dispatched_at is not None, "follow a parcel once it is dispatched"
            return await self._follow_under_one_timer(self._dispatched_at + until, on_picked_up)
        # Orders started before `LEAN_HISTORY` replay this: each wait counts from its own start.
        deadline = workflow.now() + within
        while CarrierEventKind.DELIVERED not in self._recorded:
            remaining = deadline - workflow.now()
            if remaining <= timedelta(0):
                return False
            try:
                await workflow.wait_condition(
                    lambda: bool(self._reports.keys() - self._recorded),
                    timeout=remaining,
                    timeout_summary="delivery deadline",
                )
            except TimeoutError:
                return False
            await self._record_new_reports(on_picked_up)
        return True

    async def _follow_under_one_timer(self, deadline: datetime, on_picked_up: OnPickedUp) -> bool:
        """As `follow`, with one timer for the whole time, cancelled once the parcel arrives: a
        wait with a timeout starts a timer each time it waits, and cancels it at each report."""
        left = deadline - workflow.now()
        timer: asyncio.Future[None] | None = None
        if CarrierEventKind.DELIVERED not in self._recorded and left > timedelta(0):
            timer = asyncio.ensure_future(workflow.sleep(left, summary="delivery deadline"))
        try:
            while CarrierEventKind.DELIVERED not in self._recorded:
                await workflow.wait_condition(
                    lambda: (
                        bool(self._reports.keys() - self._recorded) or timer is None or timer.done()
                    )
                )
                if not self._reports.keys() - self._recorded:
                    return False
                await self._record_new_reports(on_picked_up)
            return self._accepted_at[CarrierEventKind.DELIVERED] <= deadline
        finally:
            if timer is not None:
                timer.cancel()

    def _matches(self, kind: CarrierEventKind, report: CarrierReport) -> bool:
        return (
            report.kind == kind
            and report.order_id == self._order_id
            and (not self.tracking_number or report.tracking_number == self.tracking_number)
        )

    async def _record_new_reports(self, on_picked_up: OnPickedUp) -> None:
        for kind in (CarrierEventKind.PICKED_UP, CarrierEventKind.DELIVERED):
            report = self._reports.get(kind)
            if report is None or kind in self._recorded:
                continue
            if not self._matches(kind, report):  # it came before the booking named the parcel
                del self._reports[kind], self._accepted_at[kind]
                continue
            await shipping.record_carrier_event(report, local=self.lean)
            self._recorded.add(kind)
            if kind is CarrierEventKind.PICKED_UP:
                await on_picked_up(report)


class CarrierReports:
    """The carrier's signals, the same for every workflow that follows a parcel: each is handed
    to the workflow's `ParcelWatch`, which keeps the first matching report of its kind."""

    _parcel: ParcelWatch

    @workflow.signal(name=CarrierEventKind.PICKED_UP.value)
    def picked_up(self, report: CarrierReport) -> None:
        self._parcel.accept(CarrierEventKind.PICKED_UP, report)

    @workflow.signal(name=CarrierEventKind.DELIVERED.value)
    def delivered(self, report: CarrierReport) -> None:
        self._parcel.accept(CarrierEventKind.DELIVERED, report)


class ParcelStages(Protocol[EndT]):
    """What a shipping workflow does at each stage of the parcel's life: say so its own way (a
    signal to its order, an event), and end with what its end is (a result, nothing)."""

    async def on_picked_up(self, report: CarrierReport) -> None: ...

    async def on_late(self) -> None:
        """The delivery deadline passed: announce it (and escalate, where this workflow does)."""
        ...

    async def on_delivered(self, late: bool) -> EndT: ...

    async def on_lost(self) -> EndT:
        """Still missing at `lost_after`, and recorded as lost."""
        ...


async def dispatch(watch: ParcelWatch, order_id: str, carrier: CarrierBehaviour) -> None:
    """Hand the booked parcel to the carrier, whose reports are to signal this workflow; the
    delivery deadline counts from here."""
    report_to = CarrierSignals(workflow_id=workflow.info().workflow_id)
    await shipping.dispatch_shipment(order_id, report_to, carrier)
    watch.dispatched()


async def follow_to_the_end(
    watch: ParcelWatch,
    order_id: str,
    deadline: timedelta,
    lost_after: timedelta,
    stages: ParcelStages[EndT],
) -> EndT:
    """Follow a dispatched parcel: delivered within `deadline`; else late, then delivered within
    `lost_after`; else declared lost. After dispatch nothing is undone."""
    if await watch.follow(deadline, stages.on_picked_up):
        return await stages.on_delivered(late=False)
    await stages.on_late()
    if await watch.follow(lost_after, stages.on_picked_up):
        return await stages.on_delivered(late=True)
    await shipping.mark_parcel_lost(order_id)
    return await stages.on_lost()
