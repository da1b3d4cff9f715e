"""Malformed input sent to real orders on the dev server changes nothing.

An order in each style waits for approval, with every service's worker running. Each update's
malformed (or refused) arguments, updates no client of ours would build (sent by the Temporal
CLI), raw `event` signals (the Temporal CLI again, to the participants of the choreographed
order) and a shipment's progress no shipment sent are each refused; then the order answers as
before, every store holds what it held, no workflow of the order has a failed workflow task,
and the orders still serve: cancelled, each undoes its part and ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from client.input_files import read_order
from client.orders import lifecycle_workflow_id, order_status, place_order
from client.participants import participants_of, survey
from domain.events.contract import EventType
from domain.events.envelope import ENVELOPE_TEXT_MAX, SIGNAL_EVENT, Party
from domain.events.records import ParticipantView
from domain.messages.shipment import SIGNAL_SHIPMENT_PROGRESS, ShipmentProgress, ShipmentStage
from domain.services import Service, Style
from domain.status import OrderStatus
from domain.views import OrderView
from infra.binaries import temporal_cli
from starters import cancel_order, change_address
from tests.conftest import namespace_client
from tests.fuzz.corpus import (
    ADDRESS_FILES,
    RAW_UPDATES,
    SIGNALS,
    UPDATE_ARGUMENTS,
    Fate,
    SignalCase,
    envelope,
    valid_address,
)
from tests.fuzz.harness import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    TALLY,
    prog_of,
    refused_cleanly,
    run_command,
)
from tests.support import PROJECT_ROOT, eventually, existing_workflows, reach, settled
from workers.pool import running_workers

pytestmark = pytest.mark.e2e

NAMESPACE = "fuzz"
STYLES = tuple(Style)
UNDOERS = (Service.INVENTORY, Service.PAYMENTS)
CLI_AT_ONCE = 4
"""Temporal CLI processes at a time (each is a Go binary starting up: ~0.3 s)."""
LARGE_INPUT = 100_000
"""Inputs above this go to the CLI as files (an argument may be 128 kB at most)."""


@dataclass(frozen=True)
class Live:
    client: Client
    data_dir: Path
    orders: dict[Style, str]
    address_file: Path
    files: Path


@pytest.fixture(scope="module")
async def live(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Live]:
    """Two orders waiting for approval (a 30-minute window), the workers of every service; at
    the end, whatever of them still runs is terminated."""
    client = await namespace_client(dev_env, NAMESPACE)
    data_dir = tmp_path_factory.mktemp("fuzz-data")
    files = tmp_path_factory.mktemp("fuzz-files")
    address_file = files / "address.json"
    address_file.write_text(json.dumps(valid_address()))
    orders = {style: f"fuzz-{style.value[:5]}-{uuid.uuid4().hex[:8]}" for style in STYLES}
    async with running_workers(client, list(Service), data_dir):
        needs_approval = PROJECT_ROOT / "examples" / "orders" / "needs_approval.json"
        for style, order_id in orders.items():
            await place_order(client, read_order(needs_approval, order_id), style)
        for order_id in orders.values():
            await reach(client, order_id, OrderStatus.AWAITING_APPROVAL)
        try:
            yield Live(client, data_dir, orders, address_file, files)
        finally:
            for order_id in orders.values():
                for workflow_id, found in (await existing_workflows(client, order_id)).items():
                    if found.status is WorkflowExecutionStatus.RUNNING:
                        await client.get_workflow_handle(workflow_id).terminate("fuzz tests over")


# What must not change.


Stores = dict[str, dict[str, list[tuple[object, ...]]]]


def stores_of(data_dir: Path) -> Stores:
    """Every row of every table of every service's store."""
    dump: Stores = {}
    for path in sorted(data_dir.glob("*.sqlite3")):
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = [
                name
                for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            dump[path.name] = {
                table: sorted(db.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
                for table in tables
            }
    return dump


@dataclass(frozen=True)
class Snapshot:
    views: dict[str, OrderView]
    participants: dict[Service, ParticipantView]
    """The choreographed order's."""
    stores: Stores


async def snapshot(live: Live) -> Snapshot:
    """Where the orders stand once nothing of them is in flight."""
    for order_id in live.orders.values():
        await settled(live.client, order_id)
    views = {
        order_id: await order_status(live.client, order_id) for order_id in live.orders.values()
    }
    choreographed = live.orders[Style.CHOREOGRAPHED]
    participants = {
        view.service: view for view in await participants_of(live.client, choreographed)
    }
    return Snapshot(views, participants, stores_of(live.data_dir))


async def failed_workflow_tasks(client: Client, order_ids: Sequence[str]) -> list[str]:
    """Each failed workflow task in any history of the orders' workflows."""
    failures: list[str] = []
    for order_id in order_ids:
        for workflow_id in await existing_workflows(client, order_id):
            async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
                if event.event_type == HistoryEventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                    failure = event.workflow_task_failed_event_attributes.failure
                    failures.append(f"{workflow_id}: {failure.message}")
    return failures


async def assert_nothing_changed(live: Live, before: Snapshot) -> None:
    after = await snapshot(live)
    assert after.views == before.views
    assert after.stores == before.stores
    assert after.participants.keys() == before.participants.keys()
    for service, view in after.participants.items():
        was = before.participants[service]
        assert (view.received, view.published) == (was.received, was.published), service
        assert view.duplicates_dropped == was.duplicates_dropped
        assert not view.done, f"{service} ended"
    assert await failed_workflow_tasks(live.client, list(live.orders.values())) == []


async def temporal(live: Live, *args: str) -> tuple[int, str]:
    """`temporal ...` against the session's dev server, in the namespace: exit code, output."""
    process = await asyncio.create_subprocess_exec(
        str(temporal_cli()),
        *args,
        "--address",
        live.client.service_client.config.target_host,
        "--namespace",
        NAMESPACE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, output.decode(errors="replace")


async def at_most(limit: int, *runs: Coroutine[Any, Any, tuple[int, str]]) -> list[tuple[int, str]]:
    """The runs, `limit` at a time, their results in order."""
    gate = asyncio.Semaphore(limit)

    async def gated(run: Coroutine[Any, Any, tuple[int, str]]) -> tuple[int, str]:
        async with gate:
            return await run

    return list(await asyncio.gather(*(gated(run) for run in runs)))


# The tests, in the order they run: the last one moves the orders on.


async def test_malformed_update_arguments_change_no_order(live: Live) -> None:
    before = await snapshot(live)

    for update, cases in UPDATE_ARGUMENTS.items():
        for case in cases:
            with TALLY.trying(f"{update} arguments", case.name):
                for order_id in live.orders.values():
                    argv = case.arguments(order_id, str(live.address_file))
                    outcome = await run_command(case.command, argv, live.client)
                    names_the_order = [order_id] if case.code == EXIT_REFUSED else []
                    refused_cleanly(
                        outcome, case.code, prog_of(case.command), *case.says, *names_the_order
                    )
    for index, address in enumerate(ADDRESS_FILES):  # change_address's own argument: the file
        path = live.files / f"address-{index}.json"
        content = address.content()
        path.write_bytes(
            content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
        )
        with TALLY.trying("address files", address.name):
            for order_id in live.orders.values():
                argv = [order_id, "--address-file", str(path)]
                outcome = await run_command(change_address, argv, live.client)
                refused_cleanly(
                    outcome, EXIT_BAD_INPUT, prog_of(change_address), str(path), *address.says
                )

    await assert_nothing_changed(live, before)


async def test_updates_no_client_of_ours_would_send_are_refused(live: Live) -> None:
    """The Temporal CLI sends what our commands never build: the SDK refuses each before any
    handler or validator runs, and the order does not even record it."""
    before = await snapshot(live)
    sends = [
        (update, payload, says, lifecycle_workflow_id(style, order_id))
        for update, payload, says in RAW_UPDATES
        for style, order_id in live.orders.items()
    ]

    results = await at_most(
        CLI_AT_ONCE,
        *(
            temporal(
                live,
                "workflow",
                "update",
                "execute",
                "--workflow-id",
                workflow_id,
                "--name",
                update,
                "--input",
                payload,
            )
            for update, payload, _, workflow_id in sends
        ),
    )

    for (update, payload, says, workflow_id), (code, output) in zip(sends, results, strict=True):
        with TALLY.trying("raw updates (Temporal CLI)", f"{update} {payload}"):
            assert code != 0, (workflow_id, update, output)
            assert says in output, (workflow_id, update, output)
    await assert_nothing_changed(live, before)


def _inputs(case: SignalCase, order_id: str, files: Path) -> list[str]:
    args: list[str] = []
    for index, value in enumerate(case.inputs(order_id)):
        if len(value) > LARGE_INPUT:
            path = files / f"{case.name}-{index}.json"
            path.write_text(value)
            args += ["--input-file", str(path)]
        else:
            args += ["--input", value]
    return args + (["--input-meta", case.meta] if case.meta else [])


def _marker(case: SignalCase, order_id: str) -> str | None:
    """The event id the participant keeps with its refusal, if the signal carries one: at most
    as long as an envelope's may be, so that a megabyte id cannot swell the participant's query."""
    inputs = case.inputs(order_id)
    if case.meta or len(inputs) != 1:
        return None
    value = json.loads(inputs[0])
    event_id = value.get("event_id") if isinstance(value, dict) else None
    return event_id[:ENVELOPE_TEXT_MAX] if isinstance(event_id, str) else None


async def test_raw_event_signals_are_refused_and_change_nothing(live: Live) -> None:
    order_id = live.orders[Style.CHOREOGRAPHED]
    before = await snapshot(live)
    services = {case.name: case.party.service for case in SIGNALS}

    results = await at_most(
        CLI_AT_ONCE,
        *(
            temporal(
                live,
                "workflow",
                "signal",
                "--name",
                "event",
                "--workflow-id",
                case.party.workflow_id(order_id),
                *_inputs(case, order_id, live.files),
            )
            for case in SIGNALS
        ),
    )
    for case, (code, output) in zip(SIGNALS, results, strict=True):
        assert code == 0, (case.name, output)  # delivered: what is tested is the participant
    refused = [case for case in SIGNALS if case.fate is Fate.REFUSED]
    expected = {
        service: len(before.participants[service].refused)
        + sum(services[case.name] is service for case in refused)
        for service in before.participants
    }

    async def refusals() -> dict[Service, ParticipantView]:
        return {view.service: view for view in await participants_of(live.client, order_id)}

    after = await eventually(
        refusals,
        lambda views: {service: len(view.refused) for service, view in views.items()} == expected,
        what="every refused signal recorded by its participant",
        within=timedelta(seconds=20),
    )
    await settled(live.client, order_id)  # the undecodable ones too have been taken, and dropped

    for service, view in after.items():
        new = view.refused[len(before.participants[service].refused) :]
        by_id = {refusal.event_id: refusal.reason for refusal in new if refusal.event_id}
        unmarked = [refusal.reason for refusal in new if not refusal.event_id]
        for case in (case for case in refused if services[case.name] is service):
            with TALLY.trying("event signals (Temporal CLI)", case.name):
                marker = _marker(case, order_id)
                if marker is not None:
                    assert case.says in by_id[marker], (case.name, by_id[marker][:300])
                else:
                    assert any(case.says in reason for reason in unmarked), (case.name, unmarked)
    for case in SIGNALS:
        if case.fate is Fate.UNDECODABLE:
            with TALLY.trying("event signals (Temporal CLI)", case.name):
                pass  # dropped by the SDK: nothing recorded, nothing failed (checked below)
    await assert_nothing_changed(live, before)


async def test_a_shipments_progress_no_shipment_sent_changes_nothing(live: Live) -> None:
    """Only the order's own shipment signals its progress, and only once dispatch began. Sent
    by someone else (the Temporal CLI) to an order that waits for approval, a "dispatched" with
    a tracking number changes nothing: the order still waits for its approval, and can still
    be approved or cancelled. The hybrid's orchestrator has no shipment child and no such
    signal; sent anyway, it is dropped. Nor does it take the warehouse's word (a parcel handed
    over, delivered) before it asked the warehouse for anything."""
    before = await snapshot(live)
    for style in (Style.ORCHESTRATED, Style.HYBRID):
        order_id = live.orders[style]
        forged = ShipmentProgress(
            order_id=order_id,
            stage=ShipmentStage.DISPATCHED,
            at=datetime(2026, 1, 1, tzinfo=UTC),
            tracking_number="FORGED-1",
        )
        with TALLY.trying("shipment progress (Temporal CLI)", style.value):
            workflow_id = lifecycle_workflow_id(style, order_id)
            await signal(live, workflow_id, SIGNAL_SHIPMENT_PROGRESS, forged.model_dump_json())
    hybrid = live.orders[Style.HYBRID]
    for event_type, payload in (
        (EventType.PARCEL_HANDED_OVER, {"tracking_number": "FORGED-2", "carrier": "forged"}),
        (EventType.SHIPMENT_DELIVERED, {"at": "2026-01-01T00:00:00Z", "late": False}),
    ):
        forged_event = envelope(
            hybrid,
            event_id=f"forged-{event_type.value}",
            type=event_type.value,
            producer=Party.HANDOFF.value,
            payload=payload,
        )
        with TALLY.trying("warehouse events before the request (Temporal CLI)", event_type.value):
            workflow_id = lifecycle_workflow_id(Style.HYBRID, hybrid)
            await signal(live, workflow_id, SIGNAL_EVENT, json.dumps(forged_event))
    await assert_nothing_changed(live, before)


async def signal(live: Live, workflow_id: str, name: str, payload: str) -> None:
    """`temporal workflow signal`, delivered: what a test then checks is what the order did."""
    code, output = await temporal(
        live, "workflow", "signal", "--name", name, "--workflow-id", workflow_id, "--input", payload
    )
    assert code == 0, output


async def test_a_participant_still_answers_after_refusing_large_events(live: Live) -> None:
    """Seven events of 250 kB, each with 20,000 unknown payload fields, are refused; their
    reasons, were they kept whole, would come to over 4 MB and the `participant` query would be
    too large for gRPC to carry (each reason names the first problems and counts the rest)."""
    order_id = f"fuzz-large-{uuid.uuid4().hex[:8]}"
    needs_approval = PROJECT_ROOT / "examples" / "orders" / "needs_approval.json"
    await place_order(live.client, read_order(needs_approval, order_id), Style.CHOREOGRAPHED)
    try:
        await reach(live.client, order_id, OrderStatus.AWAITING_APPROVAL)
        handle = live.client.get_workflow_handle(Party.ORDERS.workflow_id(order_id))
        junk = {f"k{n}": 0 for n in range(20_000)}
        for n in range(7):
            await handle.signal(
                SIGNAL_EVENT, envelope(order_id, event_id=f"fz-large-{n}", payload=junk)
            )
        await settled(live.client, order_id)

        found = await survey(live.client, order_id)

        assert found.silent == []
    finally:
        for workflow_id in await existing_workflows(live.client, order_id):
            with contextlib.suppress(RPCError):
                await live.client.get_workflow_handle(workflow_id).terminate("fuzz test over")


async def test_the_orders_still_serve_after_all_of_it(live: Live) -> None:
    """A good command still works, and each participant still does its part: cancelled, the
    stock is released and the payment voided by the services that were sent the junk."""
    for order_id in live.orders.values():
        outcome = await run_command(cancel_order, [order_id, "--by", "fuzz"], live.client)
        assert outcome.code == 0, outcome.stderr

    for order_id in live.orders.values():
        view = await reach(live.client, order_id, OrderStatus.CANCELLED)
        assert view.reason == "customer_cancelled"
    await eventually(
        lambda: participants_of(live.client, live.orders[Style.CHOREOGRAPHED]),
        lambda views: all(view.done for view in views if view.service in UNDOERS),
        what="inventory and payments undid their part and ended",
    )
    assert await failed_workflow_tasks(live.client, list(live.orders.values())) == []
