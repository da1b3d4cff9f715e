"""What people may ask of an order, the same in every style: approve, reject, cancel, change the
address. The validators refuse what the order's stage does not allow (and then nothing changes);
the handlers record the request, and the order's process reads it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from domain.commands import (
    UPDATE_APPROVE,
    UPDATE_CANCEL,
    UPDATE_CHANGE_ADDRESS,
    UPDATE_REJECT,
    UPDATE_RESOLVE,
    Approve,
    Cancel,
    ChangeAddress,
    Reject,
    Resolution,
    Resolve,
)
from domain.money import format_cents
from domain.policy import APPROVAL_THRESHOLD_CENTS
from domain.services import Service
from domain.status import CancelReason, OrderStatus
from domain.views import EntryKind, OrderView
from workflows.failures import OrderCancelledError
from workflows.tracking import OrderTracker

UPDATE_REFUSED = "UpdateRefused"

Announce = Callable[[], Awaitable[object]]


class OrderDesk:
    def __init__(self, order_id: str, tracker: OrderTracker) -> None:
        self._order_id = order_id
        self._tracker = tracker
        self.decision: Approve | Reject | None = None
        self.cancel_request: Cancel | None = None
        self._resolution: Resolve | None = None
        self._resolutions_done = 0

    # -- the handlers ------------------------------------------------------------------------

    async def decide(self, request: Approve | Reject) -> OrderView:
        self.decision = request
        if isinstance(request, Approve):
            self._tracker.record(
                EntryKind.UPDATE, f"approved by {request.approver}", None, request.comment
            )
        else:
            self._tracker.record(
                EntryKind.UPDATE, f"rejected by {request.approver}", None, request.reason
            )
        await workflow.wait_condition(lambda: self._tracker.status != OrderStatus.AWAITING_APPROVAL)
        return self._tracker.view()

    async def cancel(self, request: Cancel) -> OrderView:
        self.cancel_request = request
        self._tracker.record(
            EntryKind.UPDATE,
            f"cancellation requested by {request.requested_by}",
            None,
            request.reason,
        )
        await workflow.wait_condition(
            lambda: (
                self._tracker.status in (OrderStatus.COMPENSATING, OrderStatus.CANCELLED)
                or self._tracker.status.is_past_dispatch
            )
        )
        if self._tracker.status.is_past_dispatch:
            raise ApplicationError(
                f"order {self._order_id} could not be cancelled: dispatch began first",
                type=UPDATE_REFUSED,
                non_retryable=True,
            )
        return self._tracker.view()

    def change_address(self, request: ChangeAddress) -> OrderView:
        self._tracker.address = request.address
        self._tracker.record(
            EntryKind.UPDATE, "shipping address changed", None, request.address.one_line()
        )
        return self._tracker.view()

    async def resolve(self, request: Resolve) -> OrderView:
        """A person's answer to a parked compensation; returns once the order has acted on it
        (retried it, or recorded it done by hand)."""
        self._resolution = request
        if request.action is Resolution.RETRY:
            self._tracker.record(EntryKind.UPDATE, f"retry requested by {request.resolved_by}")
        else:
            self._tracker.record(
                EntryKind.UPDATE, f"undone by hand, says {request.resolved_by}", None, request.note
            )
        done = self._resolutions_done
        await workflow.wait_condition(lambda: self._resolutions_done > done)
        return self._tracker.view()

    # -- the validators ----------------------------------------------------------------------

    def validate_decision(self) -> None:
        if self._tracker.status is not OrderStatus.AWAITING_APPROVAL:
            self.refuse(f"it is {self._tracker.status.value}, not awaiting approval")
        if self.decision is not None:
            self.refuse("a decision was already made")

    def validate_cancel(self) -> None:
        self.refuse_if_past_dispatch("cancelled")
        if self.cancel_request is not None:
            self.refuse("a cancellation is already under way")

    def validate_resolve(self) -> None:
        if self._tracker.status is not OrderStatus.NEEDS_ATTENTION:
            self.refuse(f"it is {self._tracker.status.value}: no compensation is parked")
        if self._resolution is not None:
            self.refuse("a resolution is already under way")

    def validate_change_address(self) -> None:
        self.refuse_if_past_dispatch("re-addressed")

    def refuse_if_past_dispatch(self, verb: str) -> None:
        status = self._tracker.status
        if status.is_past_dispatch or status.is_final or status.is_being_undone:
            self.refuse(f"it is {status.value} and can no longer be {verb}")

    def refuse(self, why: str) -> None:
        raise ApplicationError(
            f"order {self._order_id} refused the request: {why}",
            type=UPDATE_REFUSED,
            non_retryable=True,
        )

    # -- what the process reads --------------------------------------------------------------

    async def await_resolution(self) -> Resolve:
        """A person's answer to the parked compensations (the `resolve` update)."""
        await workflow.wait_condition(lambda: self._resolution is not None)
        assert self._resolution is not None
        return self._resolution

    def resolution_done(self) -> None:
        """The order has acted on the answer (parked anew, or on its way to its end): the update
        returns, and the next may come. Without an answer pending, nothing."""
        if self._resolution is not None:
            self._resolution = None
            self._resolutions_done += 1

    async def wait_unless_cancelled(
        self, condition: Callable[[], bool], within: timedelta, summary: str
    ) -> bool:
        """Wait for `condition` or a customer's cancellation; False if the time ran out. A
        decision that comes in the same workflow task as the timer counts: the SDK applies the
        update before the timer, and the condition is met first (tests/workflows guard it)."""
        try:
            await workflow.wait_condition(
                lambda: condition() or self.cancel_request is not None,
                timeout=within,
                timeout_summary=summary,
            )
        except TimeoutError:
            return False
        return condition()

    def stop_if_cancel_requested(self) -> None:
        request = self.cancel_request
        if request is not None:
            detail = f"cancelled by {request.requested_by}"
            raise OrderCancelledError(
                CancelReason.CUSTOMER_CANCELLED,
                f"{detail}: {request.reason}" if request.reason else detail,
            )

    async def await_approval(self, window: timedelta, announce: Announce) -> None:
        """Ask a person, through `announce`, and wait for the decision within the window."""
        self._tracker.advance(
            OrderStatus.AWAITING_APPROVAL,
            "approval requested",
            Service.ORDERS,
            f"total above {format_cents(APPROVAL_THRESHOLD_CENTS)}",
        )
        self._tracker.waiting("a person to approve or reject", workflow.now() + window)
        await announce()
        decided = await self.wait_unless_cancelled(
            lambda: self.decision is not None, window, "approval window"
        )
        self._stop_unless_approved(decided, window)

    async def await_dispatch_slot(self, handling: timedelta) -> None:
        """The warehouse's handling time, during which the customer may still cancel."""
        self._tracker.advance(
            OrderStatus.AWAITING_DISPATCH, "the warehouse prepares the parcel", Service.SHIPPING
        )
        self._tracker.waiting("the parcel to be ready for dispatch", workflow.now() + handling)
        if handling > timedelta(0):
            await self.wait_unless_cancelled(lambda: False, handling, "handling time")
        self.stop_if_cancel_requested()

    def _stop_unless_approved(self, decided: bool, window: timedelta) -> None:
        self.stop_if_cancel_requested()
        if not decided:
            raise OrderCancelledError(CancelReason.APPROVAL_TIMEOUT, f"no decision within {window}")
        if isinstance(self.decision, Reject):
            raise OrderCancelledError(
                CancelReason.APPROVAL_REJECTED,
                f"rejected by {self.decision.approver}: {self.decision.reason}",
            )


class DeskUpdates:
    """The updates people send an order, with their validators: the same on every workflow that
    owns an order's lifecycle. `_open_desk` names the desk that answers (or refuses, when there
    is none yet)."""

    def _open_desk(self) -> OrderDesk:
        raise NotImplementedError

    @workflow.update(name=UPDATE_APPROVE)
    async def approve(self, request: Approve) -> OrderView:
        return await self._open_desk().decide(request)

    @approve.validator
    def _validate_approve(self, request: Approve) -> None:
        self._open_desk().validate_decision()

    @workflow.update(name=UPDATE_REJECT)
    async def reject(self, request: Reject) -> OrderView:
        return await self._open_desk().decide(request)

    @reject.validator
    def _validate_reject(self, request: Reject) -> None:
        self._open_desk().validate_decision()

    @workflow.update(name=UPDATE_CANCEL)
    async def cancel(self, request: Cancel) -> OrderView:
        return await self._open_desk().cancel(request)

    @cancel.validator
    def _validate_cancel(self, request: Cancel) -> None:
        self._open_desk().validate_cancel()

    @workflow.update(name=UPDATE_RESOLVE)
    async def resolve(self, request: Resolve) -> OrderView:
        return await self._open_desk().resolve(request)

    @resolve.validator
    def _validate_resolve(self, request: Resolve) -> None:
        self._open_desk().validate_resolve()

    @workflow.update(name=UPDATE_CHANGE_ADDRESS)
    def change_address(self, request: ChangeAddress) -> OrderView:
        return self._open_desk().change_address(request)

    @change_address.validator
    def _validate_change_address(self, request: ChangeAddress) -> None:
        self._open_desk().validate_change_address()
