"""An order above the approval threshold that nobody answers, the same in every style: it is
cancelled when the real 24-hour window ends (not before, not much after), with its stock
released and its authorization voided, nothing charged and nothing shipped."""

from __future__ import annotations

import pytest
from temporalio.client import Client

from client.orders import PLACEABLE_STYLES, order_status, place_order
from domain.messages.notifications import NotificationKind
from domain.services import Style
from domain.status import CancelReason
from stores.inventory import ReservationState
from stores.payments import LedgerKind, PaymentState
from tests.service_stores import ServiceStores
from tests.support import LARGE_ORDER, SLACK, WINDOW, make_order, outcome_of


@pytest.mark.parametrize("style", PLACEABLE_STYLES, ids=lambda style: style.value)
async def test_an_unanswered_approval_cancels_after_the_real_24_hours_and_undoes_everything(
    client: Client, stores: ServiceStores, style: Style
) -> None:
    order = make_order(items=LARGE_ORDER)

    outcome = await outcome_of(client, await place_order(client, order, style))

    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.APPROVAL_TIMEOUT)
    view = await order_status(client, order.order_id)
    requested = next(e.at for e in view.timeline if e.what == "approval requested")
    assert WINDOW <= view.timeline[-1].at - requested < WINDOW + SLACK  # the window, not more
    assert stores.reservation_states(order.order_id) == {ReservationState.RELEASED}
    assert stores.reserved_units(order) == {"WS-004": 0}
    payment = stores.payments.payment(order.order_id)
    assert payment is not None
    assert payment.state is PaymentState.VOIDED
    assert stores.payments.net_captured(order.order_id) == 0
    assert stores.ledger(order.order_id) == [LedgerKind.AUTHORIZE, LedgerKind.VOID]
    assert stores.shipping.shipment(order.order_id) is None
    assert NotificationKind.APPROVAL_REQUESTED in stores.notification_kinds(order.order_id)
