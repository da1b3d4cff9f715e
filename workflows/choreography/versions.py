"""Version markers (`workflow.patched`) of every workflow: each names a change of behaviour that
histories recorded before it must still replay without.

Every patch id is declared here once, in `ALL_PATCHES`, with the workflow types that reach its
`workflow.patched` call. `tests/replay` holds each to it: every `workflow.patched` under
`workflows/` names a patch of this registry, and each type that calls it has a recorded history
from before the change (without the marker) and one from after (with it), so that both branches
keep replaying.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events.envelope import Party
from domain.services import ORCHESTRATOR_WORKFLOW_TYPES

CONFIRMS_FINAL_NOTICE = "confirms-final-notice"
"""The final message is confirmed by CustomerNotified, and the orders service records the end
only after it: an order recorded as ended then has every effect in the stores."""

PARTICIPANT_STATUS = "participant-order-status"
"""Every participant, not only the order view, keeps `OrderStatus` at where the order stood when
it last heard of it: a participant whose part ends early (inventory once the stock is consumed)
keeps the status it last knew. The order view's status is the order's."""

CANCEL_SAFE = "cancel-safe-lifecycle"
"""A cancel of the order's lifecycle workflow, in whatever form the SDK reports it and at any
moment before the pivot, undoes what was done, records the outcome `workflow_cancelled` and the
customer's notice, then closes the workflow as cancelled; the first record, the undo and the end
run to their end whatever cancel comes meanwhile. Before it, a cancel that came while an activity
ran closed the workflow at once (or ended the order `service_unavailable`), and one that came
while the saga compensated cut it short.

The same marker versions a change that shipped with it: a carrier's report that comes after a
later stage (a pickup after the deadline passed) no longer takes the orchestrator's status back
(`OrderTracker.advance_if_forward`)."""

LEAN_HISTORY = "lean-history"
"""The orchestrated order writes about half the history it did, with every service call,
compensation, notification, timeline entry and visible status kept:

- the orders register (placed, ended) runs as a local activity on the orders worker, which owns
  that store: a marker instead of an activity's three events and the workflow task after them;
- the `OrderStatus` search attribute is written once for changes made with no wait between
  them, and only when it changed (two steps in one task were two upserts);
- after dispatch, capture, consumption and the dispatch notice run at once, not one by one;
- the shipment child tells its order only what the order waits on or shows while it waits
  (dispatched, with the booking; picked up while the parcel is not yet delivered; late); the
  other stages travel with the next signal or with the child's result;
- the child records the carrier's reports as local activities on the shipping worker, which
  owns that store, and follows the parcel under one timer per deadline, not one per report.

It implies `CANCEL_SAFE`: an orchestrator that finds this marker does not look for that one.
The shipment child follows its order (`shipment.LEAN_HISTORY_MEMO`, in its start), with no
marker of its own."""

LEAN_EVENTS = "lean-events"
"""Every participant (the choreography's five, the hybrid warehouse's three) writes fewer events
for the same reactions:

- the orders participant's register and the carrier's reports are recorded as local activities
  (each participant runs on the worker that owns that store): a marker where an activity was
  three events and a workflow task;
- `OrderStatus` is written once for changes made with no wait between them, and only when it
  changed;
- the parcel is followed under one timer per deadline, not one per report.

It implies `PARTICIPANT_STATUS`, `CONFIRMS_FINAL_NOTICE` and `CANCEL_SAFE` where those apply: a
participant that finds this marker does not look for theirs (one marker per workflow, not up to
three). A participant asks for it once, where it first needs to know (`Participant.lean`)."""


@dataclass(frozen=True)
class Patch:
    """A patch id, and the workflow types whose code reaches `workflow.patched` with it."""

    patch_id: str
    called_by: frozenset[str]


ALL_PATCHES: tuple[Patch, ...] = (
    # The order view records the end (OrdersParticipant._end); notifications confirms the final
    # notice (NotificationsParticipant, on OrderEnded).
    Patch(
        CONFIRMS_FINAL_NOTICE,
        frozenset({Party.ORDERS.workflow_type, Party.NOTIFICATIONS.workflow_type}),
    ),
    # Participant._learn, once an event moves the participant's status forward: every
    # participant, the warehouse's included, but the order view, which keeps the order's own.
    Patch(
        PARTICIPANT_STATUS,
        frozenset(
            party.workflow_type
            for party in Party
            if not party.starts_flows and party is not Party.ORDERS
        ),
    ),
    # The lifecycle's run, first thing: OrderWorkflow (and the hybrid's, its subclass) and the
    # order view.
    Patch(
        CANCEL_SAFE,
        frozenset({*ORCHESTRATOR_WORKFLOW_TYPES.values(), Party.ORDERS.workflow_type}),
    ),
    # Every participant, at its first record, publish or change of status (the order view: first
    # thing in its run).
    Patch(
        LEAN_EVENTS,
        frozenset(party.workflow_type for party in Party if not party.starts_flows),
    ),
    # OrderWorkflow.run (and the hybrid's), first thing. Its shipment child takes the order's
    # choice from its memo (`shipment.LEAN_HISTORY_MEMO`), not from a marker of its own.
    Patch(LEAN_HISTORY, frozenset(ORCHESTRATOR_WORKFLOW_TYPES.values())),
)

PATCHES_BY_ID: dict[str, Patch] = {patch.patch_id: patch for patch in ALL_PATCHES}
