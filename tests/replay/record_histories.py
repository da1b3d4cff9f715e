"""Record the histories that the replay tests replay: `python -m tests.replay.record_histories`.

It records what the coverage table (`paths.py`) asks for and `histories/` does not hold yet: one
history per path, style and workflow type, fetched once every workflow of the order has closed.
Only the orders of paths with a history missing run, so a recorded history is never overwritten.
Run it when a path, a workflow type or a style is added, or after a versioned change (the new
histories carry its marker beside the old ones without). Never re-record to make a failing replay
pass: a replay failure means the change would break the workflows already running in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from google.protobuf.message import Message
from pydantic import BaseModel
from temporalio.api.failure.v1 import Failure
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHistory,
)
from temporalio.service import RPCError, RPCStatusCode

from client.input_files import scenario_order_id
from client.orders import PlacedOrder, place_order, update_order, wait_for_outcome
from client.scenario_player import play_actor, wait_for_status
from domain.commands import (
    UPDATE_APPROVE,
    UPDATE_CANCEL,
    UPDATE_CHANGE_ADDRESS,
    Approve,
    Cancel,
    ChangeAddress,
)
from domain.order import Address
from domain.scenarios import Scenario
from domain.services import Service, Style, order_workflow_id, shipment_workflow_id
from domain.status import OrderStatus
from infra.cli import RefusedError
from infra.data_dir import DATA_DIR_VARIABLE
from infra.dev_server import start_dev_server
from tests.replay import paths
from tests.replay.paths import PATHS, WORKFLOWS_BY_STYLE, ReplayPath, history_name, workflow_type
from tests.replay.recorded import HISTORIES
from workers.pool import running_workers
from workflows.choreography.participant import Participant
from workflows.orchestrated.order import OrderWorkflow
from workflows.orchestrated.shipment import ShipmentWorkflow

PATIENCE = timedelta(minutes=2)
"""The bound of every wait: the slowest path (a lost parcel) ends in well under a minute, even
with every order of the table running at once on two cores."""

NEW_ADDRESS = Address(
    recipient="Charles Babbage",
    line1="1 Dorset Street",
    city="London",
    postal_code="W1U 4EG",
    country="GB",
)

Driver = Callable[[Client, Style], Awaitable[PlacedOrder]]
"""Takes one order down one path, in one style, and returns it once it has its outcome."""


class RecordingError(Exception):
    """An order did not take the path it was placed for: its histories would be of another."""


@dataclass(frozen=True)
class Wanted:
    """A path in a style whose order must run, and the histories of it still missing."""

    path: ReplayPath
    style: Style
    missing: tuple[type, ...]


# -- what to record ----------------------------------------------------------------------------


def wanted() -> list[Wanted]:
    """The (path, style) pairs with a history the table asks for and `histories/` lacks."""
    found = []
    for path in PATHS:
        for style in path.styles:
            missing = tuple(w for w in path.workflows(style) if not _file(path, style, w).exists())
            if missing:
                found.append(Wanted(path, style, missing))
    return found


def _file(path: ReplayPath, style: Style, workflow_class: type) -> Path:
    """Where the history of that workflow on that path and style is kept."""
    return HISTORIES / history_name(style, path.name, workflow_type(workflow_class))


def workflow_id_of(workflow_class: type, order_id: str) -> str:
    """The deterministic id each workflow of an order has, from its class."""
    if issubclass(workflow_class, Participant):
        return workflow_class.party.workflow_id(order_id)
    if issubclass(workflow_class, ShipmentWorkflow):
        return shipment_workflow_id(order_id)
    if issubclass(workflow_class, OrderWorkflow):
        return order_workflow_id(order_id)
    raise TypeError(f"no workflow id known for {workflow_class.__name__}")


# -- the drivers: one order down one path ------------------------------------------------------


def driver_for(path: ReplayPath) -> Driver:
    """A scenario is played as the demo plays it; each operator path by its own driver (played
    as a scenario, nobody would act on it)."""
    operators: dict[str, Callable[[Scenario], Driver]] = {
        paths.WORKFLOW_CANCELLED_BEFORE_PIVOT.name: _cancelling,
        paths.WORKFLOW_CANCELLED_AFTER_PIVOT.name: _cancelling,
        paths.WORKFLOW_CANCELLED_DURING_A_STEP.name: _cancelling,
        paths.UPDATES_REFUSED_AND_ADDRESS_CHANGED.name: _refusing_updates,
    }
    if path.scenario in paths.OPERATOR_PATHS and path.scenario.name not in operators:
        raise RecordingError(f"no driver plays the operator path {path.name}")
    return operators.get(path.scenario.name, _playing)(path.scenario)


def _playing(scenario: Scenario) -> Driver:
    """The scenario's person acts as in the demo (the scenario player)."""

    async def drive(client: Client, style: Style) -> PlacedOrder:
        placed = await _place(client, scenario, style)
        await play_actor(client, scenario, placed, PATIENCE)
        await _expect_outcome(client, scenario, placed)
        return placed

    return drive


def _cancelling(scenario: Scenario) -> Driver:
    """An operator cancels the lifecycle workflow (a workflow cancel request, as `temporal
    workflow cancel` sends) once the order reaches `acts_at`."""

    async def drive(client: Client, style: Style) -> PlacedOrder:
        assert scenario.acts_at is not None
        placed = await _place(client, scenario, style)
        await wait_for_status(client, placed.order_id, scenario.acts_at, PATIENCE)
        await client.get_workflow_handle(placed.workflow_id).cancel()
        await _expect_outcome(client, scenario, placed)
        return placed

    return drive


def _refusing_updates(scenario: Scenario) -> Driver:
    """While the parcel is prepared: an `approve` (refused, nothing awaits approval) and a
    `change_address` (accepted); once dispatched, a `cancel` (refused, past the pivot)."""

    async def drive(client: Client, style: Style) -> PlacedOrder:
        placed = await _place(client, scenario, style)
        await wait_for_status(client, placed.order_id, OrderStatus.AWAITING_DISPATCH, PATIENCE)
        await _expect_refused(client, placed, UPDATE_APPROVE, Approve(approver="replay-recorder"))
        await _change_address(client, placed, NEW_ADDRESS)
        await wait_for_status(client, placed.order_id, OrderStatus.DISPATCHED, PATIENCE)
        late_cancel = Cancel(requested_by="customer", reason="too late")
        await _expect_refused(client, placed, UPDATE_CANCEL, late_cancel)
        await _expect_outcome(client, scenario, placed)
        return placed

    return drive


async def _place(client: Client, scenario: Scenario, style: Style) -> PlacedOrder:
    """The path's order under a fresh id that names the path (`workflow-cancelled-…`)."""
    return await place_order(client, scenario.order(scenario_order_id(scenario)), style)


async def _expect_refused(
    client: Client, placed: PlacedOrder, update: str, request: BaseModel
) -> None:
    """The order's validator must refuse the update, or the path is not the one recorded."""
    try:
        async with asyncio.timeout(PATIENCE.total_seconds()):
            await update_order(client, placed, update, request)
    except RefusedError:
        return
    raise RecordingError(f"{placed.order_id} ({placed.style.value}) accepted `{update}`")


async def _change_address(client: Client, placed: PlacedOrder, address: Address) -> None:
    """The update must be accepted and the order must ship to the new address from now on."""
    async with asyncio.timeout(PATIENCE.total_seconds()):
        view = await update_order(
            client, placed, UPDATE_CHANGE_ADDRESS, ChangeAddress(address=address)
        )
    if view.shipping_address != address.one_line():
        raise RecordingError(f"{placed.order_id} still ships to {view.shipping_address}")


async def _expect_outcome(client: Client, scenario: Scenario, placed: PlacedOrder) -> None:
    """The order must end as the path says, or its histories are of another path."""
    async with asyncio.timeout(PATIENCE.total_seconds()):
        outcome = await wait_for_outcome(client, placed)
    expected = (scenario.expected_status.value, scenario.expected_reason)
    if (outcome.status, outcome.reason) != expected:
        raise RecordingError(
            f"{scenario.name} ({placed.style.value}, {placed.order_id}) ended "
            f"{outcome.status} ({outcome.reason}), not {expected[0]} ({expected[1]})"
        )


# -- once the order has its outcome ------------------------------------------------------------


async def _workflows_run(client: Client, style: Style, order_id: str) -> set[type]:
    """Which of the style's workflows this order started: each id is deterministic."""
    ran = set()
    for workflow_class in WORKFLOWS_BY_STYLE[style].all:
        try:
            await client.get_workflow_handle(workflow_id_of(workflow_class, order_id)).describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            continue
        ran.add(workflow_class)
    return ran


async def _until_closed(client: Client, workflow_ids: Iterable[str]) -> None:
    """Wait for each workflow to close: a participant may still be finishing its part (a last
    notification, a capture) when the order has its outcome, and a history is recorded whole."""
    async with asyncio.timeout(PATIENCE.total_seconds()):
        for workflow_id in workflow_ids:
            handle = client.get_workflow_handle(workflow_id)
            with contextlib.suppress(WorkflowFailureError):  # cancelled, failed: closed too
                await handle.result()
            status = (await handle.describe()).status
            if status is WorkflowExecutionStatus.RUNNING:
                raise RecordingError(f"{workflow_id} gave a result but still runs")


async def _check_ran_as_declared(client: Client, todo: Wanted, order_id: str) -> None:
    """The table's workflows for this path and style are exactly those the order ran."""
    declared = set(todo.path.workflows(todo.style))
    ran = await _workflows_run(client, todo.style, order_id)
    if ran != declared:
        names = sorted(workflow_type(w) for w in declared ^ ran)
        raise RecordingError(
            f"{todo.path.name} ({todo.style.value}, {order_id}): paths.py and the order disagree "
            f"on {names}: fix the table"
        )


# -- writing a history -------------------------------------------------------------------------


def _failures(message: Message) -> Iterator[Failure]:
    """Every failure anywhere in a history event, the causes of causes included."""
    if isinstance(message, Failure):
        yield message
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.is_repeated:
            items = value.values() if field.message_type.GetOptions().map_entry else value
            for item in items:
                if isinstance(item, Message):
                    yield from _failures(item)
        else:
            yield from _failures(value)


def _without_stack_traces(history: WorkflowHistory) -> WorkflowHistory:
    """A failure's stack trace names the files of the machine that ran it (absolute paths): it
    is only for people reading the failure, replay never reads it, and the repository keeps no
    path of this machine."""
    for event in history.events:
        for failure in _failures(event):
            failure.stack_trace = ""
    return history


def _machine_paths() -> set[str]:
    """Absolute paths of this machine that a history must not carry."""
    places = {Path.cwd(), Path.home(), Path(tempfile.gettempdir()), Path(sys.prefix)}
    places |= {Path(sys.base_prefix), Path(__file__).resolve().parents[2]}
    return {str(place) for place in places if str(place) != "/"}


def _as_json(history: WorkflowHistory, name: str) -> str:
    text = _without_stack_traces(history).to_json()
    leaked = sorted(place for place in _machine_paths() if place in text)
    if leaked:
        raise RecordingError(f"{name} would record paths of this machine: {leaked}")
    return text


async def _write(
    client: Client, todo: Wanted, order_id: str, on_written: Callable[[Path], None]
) -> list[Path]:
    """Write the histories still missing; one recorded meanwhile is kept as it is."""
    written = []
    for workflow_class in todo.missing:
        path = _file(todo.path, todo.style, workflow_class)
        if path.exists():  # a recorded history is kept: it is what production ran
            continue
        handle = client.get_workflow_handle(workflow_id_of(workflow_class, order_id))
        path.write_text(_as_json(await handle.fetch_history(), path.name))
        on_written(path)
        written.append(path)
    return written


# -- the whole recording -----------------------------------------------------------------------


async def record_one(
    client: Client, todo: Wanted, on_written: Callable[[Path], None]
) -> list[Path]:
    """Run the path's order in the style, check it ran what the table says, write what is
    missing."""
    placed = await driver_for(todo.path)(client, todo.style)
    declared = todo.path.workflows(todo.style)
    await _until_closed(client, [workflow_id_of(w, placed.order_id) for w in declared])
    await _check_ran_as_declared(client, todo, placed.order_id)
    return await _write(client, todo, placed.order_id, on_written)


async def record(on_written: Callable[[Path], None] = print) -> list[Path]:
    """Every missing history, the orders all at once on a dev server of its own; each history is
    reported as it is written, so a path that fails loses no other path's."""
    todo = wanted()
    if not todo:
        return []
    server = await start_dev_server(port=None, ui_port=None, ui=False)
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            # the orders are sealed for payments with this data directory's development key
            os.environ[DATA_DIR_VARIABLE] = data_dir
            async with running_workers(server.client, list(Service), Path(data_dir)):
                results = await asyncio.gather(
                    *(record_one(server.client, one, on_written) for one in todo),
                    return_exceptions=True,
                )
    finally:
        await server.shutdown()
    return _written_or_raise(todo, results)


def _written_or_raise(todo: list[Wanted], results: list[list[Path] | BaseException]) -> list[Path]:
    """What was written; every path that failed, each named, in one error after the others
    have run (one failed order does not stop the recording of the rest)."""
    failures = []
    written: list[Path] = []
    for one, result in zip(todo, results, strict=True):
        if isinstance(result, Exception):
            result.add_note(f"recording {one.path.name} in the {one.style.value} style")
            failures.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            written += result
    if failures:
        raise ExceptionGroup(f"{len(failures)} of {len(todo)} path(s) not recorded", failures)
    return written


if __name__ == "__main__":
    asyncio.run(record())
