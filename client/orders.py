"""The client side of an order, whatever its style: place it, find it, ask it, wait for it.

The command-line tools and the tests go through here. An order is found from its id alone: each
style's lifecycle workflow has a deterministic id, and its `OrderStyle` search attribute says
which style it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.api.errordetails.v1 import NamespaceNotFoundFailure
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkerDeploymentVersion, WorkflowIDReusePolicy
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    TerminatedError,
    WorkflowAlreadyStartedError,
)
from temporalio.service import RPCError, RPCStatusCode

from client.event_signals import event_signals
from domain import search_attributes
from domain.commands import QUERY_STATUS
from domain.events.contract import ORDER_CONTRACT, EventType
from domain.events.envelope import Party
from domain.events.payloads import OrderPayload
from domain.money import format_cents
from domain.order import Order
from domain.services import (
    Service,
    Style,
    order_workflow_id,
    participant_workflow_id,
)
from domain.status import CancelReason, OrderStatus
from domain.views import OrderOutcome, OrderView
from infra.cli import BadInputError, RefusedError
from infra.data_dir import data_dir
from infra.event_bus import ParticipantEndedError, signal_with_start
from infra.token_seal import SealKeyError, sealing_key
from workers.deployment import label
from workflows.choreography.inbox import Inbox, Received, single_event
from workflows.hybrid.order import HybridOrderWorkflow
from workflows.orchestrated.order import OrderWorkflow


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    workflow_id: str
    style: Style
    handle: WorkflowHandle[Any, Any] | None = field(default=None, compare=False)
    """The handle `start_workflow` returned, when this process started the order. Waiting on
    it (rather than on a fresh handle) is what lets the time-skipping test server skip time."""


PLACEABLE_STYLES: tuple[Style, ...] = tuple(Style)

ORCHESTRATORS: dict[Style, type[OrderWorkflow] | type[HybridOrderWorkflow]] = {
    Style.ORCHESTRATED: OrderWorkflow,
    Style.HYBRID: HybridOrderWorkflow,
}
"""The workflow that owns an order's lifecycle in the styles that have one, started by its
class (the choreography's order starts with its first event instead)."""

QUERY_TIMEOUT = timedelta(seconds=10)
"""How long a query may take before the order (or a participant) is reported not answering."""


def lifecycle_workflow_id(style: Style, order_id: str) -> str:
    """The workflow that answers for the order: its orchestrator, or its order view."""
    if style is Style.CHOREOGRAPHED:
        return participant_workflow_id(Service.ORDERS, order_id)
    return order_workflow_id(order_id)


async def place_order(client: Client, order: Order, style: Style) -> PlacedOrder:
    """Place the order in `style`. An order id names one order: another order under a taken id
    is refused (`BadInputError`, exit 2, as any order id that cannot be used). In the
    choreographed style the same order placed again, at once or later, is a retry and is told
    placed; the orchestrated and hybrid styles refuse any second start of `order-<order id>`."""
    order = sealed_for_payments(order)
    try:
        if style is Style.CHOREOGRAPHED:
            handle = await _publish_order_placed(client, order)
        else:
            handle = await _start_orchestrator(client, order, style)
    except WorkflowAlreadyStartedError as error:
        raise _id_taken(order) from error
    return PlacedOrder(order.order_id, lifecycle_workflow_id(style, order.order_id), style, handle)


def sealed_for_payments(order: Order) -> Order:
    """The order as it may travel: its payment token sealed for the payments service alone
    (`infra.token_seal`), before any of it reaches Temporal."""
    try:
        key = sealing_key(data_dir())
    except SealKeyError as error:
        raise BadInputError(str(error)) from error
    return order.model_copy(update={"payment_token": key.seal(order.payment_token)})


def _id_taken(order: Order) -> BadInputError:
    """What a placement under a taken order id is told, in every style, in the same words."""
    return BadInputError(f"order {order.order_id} already exists; use another order_id")


async def _start_orchestrator(
    client: Client, order: Order, style: Style
) -> WorkflowHandle[Any, OrderOutcome]:
    return await client.start_workflow(
        ORCHESTRATORS[style].run,
        order,
        id=order_workflow_id(order.order_id),
        task_queue=Service.ORDERS.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=search_attributes.for_order(
            order.order_id, order.customer.id, style.value, OrderStatus.PLACED.value
        ),
        static_summary=(
            f"Order {order.order_id} ({style.value}): {len(order.items)} line(s), "
            f"{format_cents(order.total_cents)} for customer {order.customer.id}"
        ),
        static_details=_static_details(order, style),
    )


_HOW = {
    Style.ORCHESTRATED: "This workflow drives every service in turn and runs the saga; the "
    "shipment is its child workflow `shipment-<order id>`.",
    Style.HYBRID: "This workflow drives the order's lifecycle and the saga; at dispatch it hands "
    "the fulfilment to the warehouse's participants (`picking-`, `packing-`, `handoff-<order "
    "id>`) and hears the outcome as `event` signals.",
}


def _static_details(order: Order, style: Style) -> str:
    """The workflow's page in the Web UI says what the order is and how this style runs it."""
    lines = "\n".join(
        f"- {item.quantity} x {item.sku} at {format_cents(item.unit_price_cents)}"
        for item in order.items
    )
    return (
        f"**Order {order.order_id}** ({style.value}) for customer {order.customer.id}, total "
        f"{format_cents(order.total_cents)}:\n{lines}\n\n{_HOW[style]} The `status` query "
        "returns the timeline; `approve`, `reject`, `cancel` and `change_address` are updates."
    )


async def _publish_order_placed(client: Client, order: Order) -> WorkflowHandle[Any, Any] | None:
    """The storefront publishes the order's first event; the contract names who reacts.

    Signal-with-start only signals a participant that is running already, so a placement cannot
    tell from it whether it placed the order or someone else did a moment before (two placements
    at once both find no participant, then both signal-with-start). What decides is the
    `OrderPlaced` the participant took: ours, placed; the same order from another placement, a
    retry, placed too; another order under this id, refused as the other styles refuse it.
    A participant found at first is not signalled at all: a second `OrderPlaced` changes nothing
    for it, and would only be noted as ignored.
    """
    envelope = ORDER_CONTRACT.envelope(
        event_id=str(uuid.uuid4()),
        event_type=EventType.ORDER_PLACED,
        order_id=order.order_id,
        occurred_at=datetime.now(UTC),
        producer=Party.STOREFRONT,
        payload=OrderPayload(order=order),
    )
    (consumer,) = ORDER_CONTRACT.spec(EventType.ORDER_PLACED).consumers
    assert consumer is Party.ORDERS, "the order view is the one that answers for the order"
    workflow_id = consumer.workflow_id(order.order_id)
    handle: WorkflowHandle[Any, Any] | None = None
    if await _describe(client, workflow_id) is None:
        with contextlib.suppress(ParticipantEndedError):  # started and ended since: read below
            handed = ORDER_CONTRACT.cut_for(consumer, envelope)
            handle = await signal_with_start(
                client, consumer, handed, customer_id=order.customer.id, result_type=OrderOutcome
            )
    taken = await _order_placed_taken_by(client, workflow_id, order.order_id)
    if taken is None or (
        taken.envelope.event_id != envelope.event_id
        and _but_its_seal(_placed_order(taken)) != _but_its_seal(order)
    ):
        raise _id_taken(order)
    return handle


async def _order_placed_taken_by(
    client: Client, workflow_id: str, order_id: str
) -> Received | None:
    """The `OrderPlaced` the order's participant took: the first of its `event` signals that
    its inbox accepts, by the participant's own delivery rules (`Inbox.accept`, first wins).
    Read from the history, so it needs no worker and holds for an ended participant too."""
    inbox = Inbox(Party.ORDERS, order_id)
    async for signal in event_signals(client, workflow_id):
        received = inbox.accept(single_event(signal.arguments), signal.at)
        if received is not None and received.type is EventType.ORDER_PLACED:
            return received
    return None


def _but_its_seal(order: Order) -> dict[str, Any]:
    """What tells one order from another. Not the token: each placement seals it anew (no two
    seals of one token are alike, and this side cannot open them), so a retry of the same order
    is the same lines, customer, address and terms; the first placement's card is the one
    charged."""
    return order.model_dump(exclude={"payment_token"})


def _placed_order(received: Received) -> Order:
    assert isinstance(received.payload, OrderPayload)
    return received.payload.order


async def find_order(client: Client, order_id: str) -> PlacedOrder:
    """The workflow that owns the order's lifecycle, and its style."""
    workflow_ids = dict.fromkeys(
        lifecycle_workflow_id(style, order_id) for style in PLACEABLE_STYLES
    )
    for workflow_id in workflow_ids:
        description = await _describe(client, workflow_id)
        if description is None:
            continue
        style = description.typed_search_attributes.get(search_attributes.ORDER_STYLE)
        return PlacedOrder(order_id, workflow_id, Style(style or Style.ORCHESTRATED))
    raise BadInputError(
        f"no order with id {order_id!r} (looked for workflows {' and '.join(workflow_ids)})"
    )


async def _describe(client: Client, workflow_id: str) -> WorkflowExecutionDescription | None:
    """The workflow's description; None if there is no such workflow."""
    try:
        return await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if _no_such_workflow(error):
            return None
        raise


def _no_such_workflow(error: RPCError) -> bool:
    """NOT_FOUND also answers for a namespace that does not exist: that is no unknown order."""
    return error.status == RPCStatusCode.NOT_FOUND and not any(
        detail.Is(NamespaceNotFoundFailure.DESCRIPTOR) for detail in error.grpc_status.details
    )


async def order_status(client: Client, order_id: str) -> OrderView:
    return await status_of(client, await find_order(client, order_id))


async def status_of(client: Client, placed: PlacedOrder) -> OrderView:
    """The order's status query, asked of the workflow already found."""
    handle = client.get_workflow_handle(placed.workflow_id)
    try:
        view: OrderView = await handle.query(
            QUERY_STATUS, result_type=OrderView, rpc_timeout=QUERY_TIMEOUT
        )
    except RPCError as error:
        raise RefusedError(
            f"order {placed.order_id} did not answer its status query ({error.message}): "
            f"{await _whose_workers(handle)}"
        ) from error
    except WorkflowQueryFailedError as error:  # the workflow could not answer, e.g. it no
        # longer replays on the code the workers run
        raise RefusedError(
            f"order {placed.order_id} could not answer its status query: {error}"
        ) from error
    return view


async def _whose_workers(handle: WorkflowHandle[Any, Any]) -> str:
    """Which workers an order that does not answer waits for: those of the build it is pinned
    to, which may not be the build running now (an old build stopped before it drained)."""
    try:
        description = await handle.describe()
    except RPCError:
        description = None
    pinned = (
        description.raw_description.workflow_execution_info.versioning_info.deployment_version
        if description is not None
        else None
    )
    if pinned is None or not pinned.build_id:
        return "are the workers running? (python -m workers.run)"
    build = WorkerDeploymentVersion(pinned.deployment_name, pinned.build_id)
    return (
        f"it runs on build {label(build)} only: are that build's workers running? "
        f"(python -m workers.run --deployment {build.deployment_name} --build-id {build.build_id})"
    )


async def send_update(client: Client, order_id: str, update: str, request: BaseModel) -> OrderView:
    """Ask the order to do something; its validator may refuse, and then nothing changes."""
    return await update_order(client, await find_order(client, order_id), update, request)


async def update_order(
    client: Client, placed: PlacedOrder, update: str, request: BaseModel
) -> OrderView:
    """`send_update` to the workflow already found."""
    handle: WorkflowHandle[object, object] = client.get_workflow_handle(placed.workflow_id)
    try:
        view: OrderView = await handle.execute_update(update, request, result_type=OrderView)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise RefusedError(message) from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise RefusedError(
                f"order {placed.order_id} has ended ({await _how_it_ended(client, placed)}): "
                f"nothing to {update}"
            ) from error
        raise
    return view


async def _how_it_ended(client: Client, placed: PlacedOrder) -> str:
    """The order's own last status (`cancelled`, not the workflow's `completed`), or the
    workflow's when it cannot say (terminated before it answered, say)."""
    try:
        return (await status_of(client, placed)).status.value
    except RefusedError:
        description = await client.get_workflow_handle(placed.workflow_id).describe()
        return f"workflow {description.status.name.lower() if description.status else 'closed'}"


async def wait_for_outcome(
    client: Client, placed: PlacedOrder, within: timedelta | None = None
) -> OrderOutcome:
    """The order's outcome once it has ended; with `within`, a refusal that says where the order
    stands if it has not ended by then (a stuck order is reported, not waited for forever)."""
    handle = placed.handle or client.get_workflow_handle(
        placed.workflow_id, result_type=OrderOutcome
    )
    try:
        async with asyncio.timeout(within.total_seconds() if within is not None else None):
            outcome: OrderOutcome = await handle.result()
    except WorkflowFailureError as error:
        return await _outcome_of_failure(client, placed, error)
    except TimeoutError:
        view = await status_of(client, placed)
        waiting = f", waiting for {view.waiting_for}" if view.waiting_for else ""
        raise RefusedError(
            f"order {placed.order_id} has not ended within {within}: it is {view.status.value}"
            f"{waiting}"
        ) from None
    return outcome


async def _outcome_of_failure(
    client: Client, placed: PlacedOrder, error: WorkflowFailureError
) -> OrderOutcome:
    """A workflow cancelled or terminated by an operator still ends the order as cancelled."""
    cause = error.cause
    if isinstance(cause, CancelledError | TerminatedError):
        how = "terminated" if isinstance(cause, TerminatedError) else "cancelled"
        view = await status_of(client, placed)
        return OrderOutcome(
            order_id=placed.order_id,
            status="cancelled",
            reason=CancelReason.WORKFLOW_CANCELLED,
            detail=f"the workflow was {how}",
            total_cents=view.total_cents,
        )
    raise RefusedError(f"order {placed.order_id} failed: {cause or error}") from error


async def state_of(
    client: Client, placed: PlacedOrder, outcome: OrderOutcome | None
) -> tuple[str, str | None, str | None]:
    """How an order stands: its outcome when it has ended (and was waited for), else its view:
    the status, the reason and the detail of its outcome."""
    if outcome is not None:
        return outcome.status, outcome.reason.value if outcome.reason else None, outcome.detail
    view = await status_of(client, placed)
    return view.status.value, view.reason.value if view.reason else None, None
