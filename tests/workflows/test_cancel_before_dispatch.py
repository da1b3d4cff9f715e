"""A customer's cancellation while the order waits for dispatch, the same in every style: the
request answers once compensation begins, and the order ends cancelled with everything undone
(the stock released, nothing charged, no shipment) and the customer told once."""

from __future__ import annotations

import pytest
from temporalio.client import Client

from client.orders import PLACEABLE_STYLES, place_order, send_update
from domain.commands import UPDATE_CANCEL, Cancel
from domain.messages.notifications import NotificationKind
from domain.services import Style
from domain.status import CancelReason, OrderStatus
from stores.inventory import ReservationState
from tests.service_stores import ServiceStores
from tests.support import make_order, outcome_of, reach


@pytest.mark.parametrize("style", PLACEABLE_STYLES, ids=lambda style: style.value)
async def test_a_cancel_while_waiting_for_dispatch_undoes_everything(
    client: Client, stores: ServiceStores, style: Style
) -> None:
    order = make_order()
    placed = await place_order(client, order, style)
    await reach(client, order.order_id, OrderStatus.AWAITING_DISPATCH)

    view = await send_update(
        client, order.order_id, UPDATE_CANCEL, Cancel(requested_by="customer", reason="oops")
    )

    # the update answers once compensation begins, before any undo (an activity) has finished
    assert view.status is OrderStatus.COMPENSATING
    outcome = await outcome_of(client, placed)
    assert (outcome.status, outcome.reason) == ("cancelled", CancelReason.CUSTOMER_CANCELLED)
    assert outcome.detail == "cancelled by customer: oops"
    assert stores.reservation_states(order.order_id) == {ReservationState.RELEASED}
    assert stores.payments.net_captured(order.order_id) == 0
    assert stores.shipping.shipment(order.order_id) is None
    assert stores.notifications_of(order.order_id, NotificationKind.ORDER_CANCELLED) == 1
