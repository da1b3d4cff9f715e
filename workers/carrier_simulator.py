"""The simulated carrier: it reports on dispatched parcels by signalling the workflow that waits.

It stands for a carrier's webhook, an outside system: it reads its reports from the shipping
store's outbox (written at dispatch), runs on wall-clock time, and delivers each report at least
once. A report whose workflow no longer exists (or has ended) is set aside as undeliverable with
the reason; any other failure is retried a bounded number of times.

It sends each report when it falls due: it sleeps until the earliest pending one, and a dispatch
in this process wakes it (`wake`), so a prompt carrier reports at once rather than at its next
look (which added up to 200 ms to every order). `poll_interval` is only the longest it sleeps,
for reports written by another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from stores.database import StoreError
from stores.shipping import OutboxReport, OutboxState, ShippingStore

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(seconds=30)
"""How long a claimed report is this deliverer's alone (`ShippingStore.claim_due`): enough to
send a round's signals; a deliverer that stopped mid-round leaves its reports to another after
it."""


class CarrierSimulator:
    def __init__(
        self,
        client: Client,
        store: ShippingStore,
        poll_interval: timedelta = timedelta(seconds=1),
        *,
        max_attempts: int = 10,
        retry_after: timedelta = timedelta(seconds=1),
        batch_size: int = 100,
    ) -> None:
        self._client = client
        self._store = store
        self._poll_interval = poll_interval
        self._max_attempts = max_attempts
        self._retry_after = retry_after
        self._batch_size = batch_size
        self._bell = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """New reports are in the outbox: look now. Safe from any thread (an activity's)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._bell.set)

    async def run(self) -> None:
        """Deliver due reports until cancelled."""
        logger.info("carrier simulator: reporting from %s", self._store.where)
        self._loop = asyncio.get_running_loop()
        while True:
            self._bell.clear()  # before the look: a wake-up during it is not lost
            try:
                delivered = await self.deliver_due()
                pause = await self._until_next_due()
            except StoreError as error:  # a busy store: try again on the next round
                logger.warning("carrier simulator: %s", error)
                delivered, pause = 0, self._poll_interval
            if delivered >= self._batch_size:  # a full batch means more may be due right now
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._bell.wait(), pause.total_seconds())

    async def _until_next_due(self) -> timedelta:
        """How long to sleep: until the earliest pending report, at most `poll_interval`."""
        due = await asyncio.to_thread(self._store.next_due_at)
        if due is None:
            return self._poll_interval
        return max(timedelta(0), min(self._poll_interval, due - datetime.now(UTC)))

    async def deliver_due(self) -> int:
        """One round: send every report due now. Returns how many were attempted."""
        reports = await asyncio.to_thread(
            self._store.claim_due, datetime.now(UTC), CLAIM_LEASE, self._batch_size
        )
        for report in reports:
            await self._deliver(report)
        return len(reports)

    async def _deliver(self, report: OutboxReport) -> None:
        handle = self._client.get_workflow_handle(report.workflow_id)
        try:
            await handle.signal(report.signal_name, report.to_report())
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                await self._give_up(report, f"workflow {report.workflow_id}: {error.message}")
            else:
                await self._retry(report, f"{error.status.name}: {error.message}")
            return
        except Exception as error:  # e.g. the connection dropped: the next attempt may work
            await self._retry(report, f"{type(error).__name__}: {error}")
            return
        await asyncio.to_thread(self._store.mark_sent, report.report_id)
        logger.info(
            "carrier simulator: order %s: sent %s to %s",
            report.order_id,
            report.kind.value,
            report.workflow_id,
        )

    async def _give_up(self, report: OutboxReport, reason: str) -> None:
        await asyncio.to_thread(self._store.mark_undeliverable, report.report_id, reason)
        logger.warning(
            "carrier simulator: order %s: %s report undeliverable: %s",
            report.order_id,
            report.kind.value,
            reason,
        )

    async def _retry(self, report: OutboxReport, error: str) -> None:
        state = await asyncio.to_thread(
            self._store.mark_retry,
            report.report_id,
            error,
            retry_after=self._retry_after,
            max_attempts=self._max_attempts,
        )
        gave_up = state is OutboxState.UNDELIVERABLE
        logger.warning(
            "carrier simulator: order %s: %s report failed (%s); %s",
            report.order_id,
            report.kind.value,
            error,
            f"gave up after {self._max_attempts} attempts" if gave_up else "will retry",
        )
