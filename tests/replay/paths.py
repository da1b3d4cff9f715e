"""The paths of the process that replay must cover, and the workflows each runs in each style.

A history replays only the code its workflow ran: a change to the branch that handles a refused
carrier is invisible to the replay of a happy order. So replay covers every path, not only every
workflow type, and this table says which recorded histories that takes. `test_coverage` fails,
naming the file to record, when one is missing; `record_histories` records exactly those.

Every scenario of `domain.scenarios` is a path, so a new scenario asks for its histories; the
other paths are what no scenario does: an operator cancelling the workflow (before and after the
pivot), and updates refused or accepted while the order waits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from client.orders import PLACEABLE_STYLES
from domain.faults import CarrierBehaviour, Faults
from domain.scenarios import SCENARIOS, SCENARIOS_BY_NAME, Actor, Scenario
from domain.services import Style
from domain.status import CancelReason, OrderStatus
from workflows.choreography.inventory import InventoryParticipant
from workflows.choreography.notifications import NotificationsParticipant
from workflows.choreography.orders import OrdersParticipant
from workflows.choreography.payments import PaymentsParticipant
from workflows.choreography.shipping import ShippingParticipant
from workflows.hybrid.order import HybridOrderWorkflow
from workflows.hybrid.warehouse import HandoffParticipant, PackingParticipant, PickingParticipant
from workflows.orchestrated.order import OrderWorkflow
from workflows.orchestrated.shipment import ShipmentWorkflow


def workflow_type(workflow_class: type) -> str:
    """The name Temporal knows a workflow class by, from its `workflow.defn`: histories name
    their workflow by it, so the table never spells one out."""
    return str(getattr(workflow_class, "__temporal_workflow_definition").name)


@dataclass(frozen=True)
class StyleWorkflows:
    """The workflows one order runs in a style: the one that answers for the order (its status
    query, its updates, its outcome), the others every order runs, and those that start only
    once dispatch begins (the shipment child, the shipping participant, the warehouse), of which
    an order cancelled before dispatch has no history."""

    lifecycle: type
    every_order: tuple[type, ...] = ()
    from_dispatch: tuple[type, ...] = ()

    @property
    def before_dispatch(self) -> tuple[type, ...]:
        return (self.lifecycle, *self.every_order)

    @property
    def all(self) -> tuple[type, ...]:
        return (*self.before_dispatch, *self.from_dispatch)


WORKFLOWS_BY_STYLE: dict[Style, StyleWorkflows] = {
    Style.ORCHESTRATED: StyleWorkflows(OrderWorkflow, from_dispatch=(ShipmentWorkflow,)),
    Style.CHOREOGRAPHED: StyleWorkflows(
        OrdersParticipant,
        (InventoryParticipant, PaymentsParticipant, NotificationsParticipant),
        (ShippingParticipant,),
    ),
    Style.HYBRID: StyleWorkflows(
        HybridOrderWorkflow,
        from_dispatch=(PickingParticipant, PackingParticipant, HandoffParticipant),
    ),
}


@dataclass(frozen=True)
class ReplayPath:
    """One path through the process: the order that takes it and the outcome it must reach
    (`scenario`), and the styles it is recorded in."""

    scenario: Scenario
    styles: tuple[Style, ...] = PLACEABLE_STYLES
    since: str = ""
    """The change whose histories these are, recorded beside the histories of before it (which
    must still replay) under a name of their own: a change that alters what workflows receive,
    not their commands, has no patch marker to tell the two apart; a versioned one has, and its
    new histories are the other side of its `workflow.patched`."""

    @property
    def name(self) -> str:
        return f"{self.scenario.name}_{self.since}" if self.since else self.scenario.name

    @property
    def reaches_dispatch(self) -> bool:
        """Whether the order got as far as dispatch, and so started the workflows that ship."""
        return self.scenario.reaches_dispatch

    def workflows(self, style: Style) -> tuple[type, ...]:
        """The workflow classes this path runs in `style`: one recorded history each."""
        runs = WORKFLOWS_BY_STYLE[style]
        return runs.all if self.reaches_dispatch else runs.before_dispatch


def history_name(style: Style, path: str, workflow_type_name: str) -> str:
    """`{style}-{path}-{WorkflowType}.json`, the name every recorded history has."""
    return f"{style.value}-{path}-{workflow_type_name}.json"


_HAPPY = SCENARIOS_BY_NAME["happy"]
_PROMPT_CARRIER = Faults(
    carrier=CarrierBehaviour(pickup_after=timedelta(seconds=3), deliver_after=timedelta(seconds=1))
)
"""Picks up three seconds after dispatch: time to act on an order that is `dispatched`."""

WORKFLOW_CANCELLED_BEFORE_PIVOT = replace(
    SCENARIOS_BY_NAME["customer_cancels"],
    name="workflow_cancelled_before_pivot",
    description="an operator cancels the workflow while the parcel is prepared: all undone",
    expected_reason=CancelReason.WORKFLOW_CANCELLED,
    actor=Actor.NOBODY,
    acts_at=OrderStatus.AWAITING_DISPATCH,
)
"""A workflow cancel request (`temporal workflow cancel`) during the long handling time: the
lifecycle workflow compensates, then ends cancelled."""

WORKFLOW_CANCELLED_AFTER_PIVOT = replace(
    _HAPPY,
    name="workflow_cancelled_after_pivot",
    description="an operator cancels the workflow once the parcel is dispatched: it goes on",
    faults=_PROMPT_CARRIER,
    actor=Actor.NOBODY,
    acts_at=OrderStatus.DISPATCHED,
)
"""A workflow cancel request past the pivot is noted and ignored: the order completes."""

WORKFLOW_CANCELLED_DURING_A_STEP = replace(
    _HAPPY,
    name="workflow_cancelled_during_a_step",
    description="an operator cancels the workflow while the gateway times out: all undone",
    faults=Faults(payment_transient_errors=6),
    expected_status=OrderStatus.CANCELLED,
    expected_reason=CancelReason.WORKFLOW_CANCELLED,
    actor=Actor.NOBODY,
    acts_at=OrderStatus.STOCK_RESERVED,
)
"""A workflow cancel request while the authorization is retried: the orchestrator's activity is
cancelled (the SDK reports it as an `ActivityError` caused by a cancel, not as
`asyncio.CancelledError`) and the order is undone as cancelled, not as `service_unavailable`; the
order view hears of the authorization once the retries are over, and undoes it."""

UPDATES_REFUSED_AND_ADDRESS_CHANGED = replace(
    _HAPPY,
    name="updates_refused_and_address_changed",
    description="an approval and a late cancel are refused, an address change is accepted",
    timeouts=_HAPPY.timeouts.model_copy(update={"handling_time": timedelta(seconds=6)}),
    faults=_PROMPT_CARRIER,
    actor=Actor.NOBODY,
    acts_at=OrderStatus.AWAITING_DISPATCH,
)
"""While it waits for dispatch, the order refuses an `approve` (nothing to approve) and accepts a
`change_address`; once dispatched it refuses a `cancel`."""

OPERATOR_PATHS: tuple[Scenario, ...] = (
    WORKFLOW_CANCELLED_BEFORE_PIVOT,
    WORKFLOW_CANCELLED_AFTER_PIVOT,
    WORKFLOW_CANCELLED_DURING_A_STEP,
    UPDATES_REFUSED_AND_ADDRESS_CHANGED,
)
"""Paths no scenario takes: someone outside the scenario acts on the order (`record_histories`
plays them)."""

CUT_PAYLOADS = "cut_payloads"
"""Each consumer handed only its cut of an event (`domain/events/payloads.py`): payments hears
the order's acceptance and keeps its terms, the reservation and the dispatch carry no order and
no email, the hand-off keeps where the parcel goes while picking and packing see the parcel."""

_EVENTFUL = (Style.CHOREOGRAPHED, Style.HYBRID)
CUT_PAYLOAD_PATHS: tuple[ReplayPath, ...] = (
    *(
        ReplayPath(SCENARIOS_BY_NAME[name], _EVENTFUL, CUT_PAYLOADS)
        for name in ("happy", "late_delivery", "lost_parcel", "carrier_rejects")
    ),
    # the hybrid's out-of-stock order never reaches its warehouse: it receives no event at all
    ReplayPath(SCENARIOS_BY_NAME["out_of_stock"], (Style.CHOREOGRAPHED,), CUT_PAYLOADS),
)
"""The paths that pass every cut: the order accepted and reserved (or not), dispatched, late,
lost, refused by the carrier."""

LEAN_HISTORY = "lean_history"
"""`versions.LEAN_HISTORY`: the orchestrators and the shipment child write fewer events for the
same steps (local registers, one status write per task, fewer signals from the child)."""

LEAN_HISTORY_PATHS: tuple[ReplayPath, ...] = tuple(
    ReplayPath(scenario, (Style.ORCHESTRATED, Style.HYBRID), LEAN_HISTORY)
    for scenario in (*SCENARIOS, *OPERATOR_PATHS)
)
"""Every path again in the styles with an orchestrator: each one's histories from before the
change replay its old branch, these its new one."""

LEAN_EVENTS = "lean_events"
"""`versions.LEAN_EVENTS`: every participant keeps its own records as local activities, writes
its status once for a run of changes, and asks for one marker, not three."""

LEAN_EVENTS_PATHS: tuple[ReplayPath, ...] = tuple(
    ReplayPath(scenario, _EVENTFUL, LEAN_EVENTS) for scenario in (*SCENARIOS, *OPERATOR_PATHS)
)
"""Every path again in the styles with participants."""

PATHS: tuple[ReplayPath, ...] = (
    *(ReplayPath(scenario) for scenario in (*SCENARIOS, *OPERATOR_PATHS)),
    *CUT_PAYLOAD_PATHS,
    *LEAN_HISTORY_PATHS,
    *LEAN_EVENTS_PATHS,
)
PATHS_BY_NAME: dict[str, ReplayPath] = {path.name: path for path in PATHS}


def required_histories() -> dict[str, tuple[Style, ReplayPath, type]]:
    """Every history the table asks for, by file name, with what it is a history of."""
    return {
        history_name(style, path.name, workflow_type(workflow_class)): (
            style,
            path,
            workflow_class,
        )
        for path in PATHS
        for style in path.styles
        for workflow_class in path.workflows(style)
    }
