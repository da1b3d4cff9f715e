"""The same commands on a choreographed order, as a user types them on the dev server: placing it
answers like an orchestrated order, the person's commands find its style themselves, and
`order_status` shows what each participant received, published and refused, including an event
that did not fit the contract, which changes nothing for the order."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.service import RPCError

from client import participants
from client.orders import order_status
from client.participants import participants_of, survey
from domain.events.contract import EventType
from domain.events.envelope import SIGNAL_EVENT, Party
from domain.events.records import ParticipantStart
from domain.services import Service, Style, participant_workflow_id
from domain.status import OrderStatus
from domain.views import OrderView
from tests.cli.conftest import Shell, one_line_error
from tests.cli.test_commands import EXAMPLES, EXIT_REFUSED, json_of
from tests.cli.test_commands import place_waiting_order as place_order_for_a_person
from tests.support import at_rest, eventually, reach

pytestmark = pytest.mark.e2e
NAMESPACE = "cli-choreographed"

CHOREOGRAPHED = ("--style", "choreographed")
SETTLE_WITHIN = timedelta(seconds=30)


@pytest.fixture(scope="module", autouse=True)
async def settled(shell: Shell) -> AsyncIterator[None]:
    """Let every order of this module end before its workers stop: the next module shares the
    namespace, and its workers would otherwise finish a compensation against their own stores."""
    since = datetime.now(UTC)
    yield
    await eventually(
        lambda: running_since(shell, since),
        lambda running: not running,
        what="every workflow this module started has ended",
        within=SETTLE_WITHIN,
        every=timedelta(milliseconds=200),
    )


async def running_since(shell: Shell, since: datetime) -> list[str]:
    """The workflows this module started that still run (not another module's leftovers)."""
    query = f'ExecutionStatus = "Running" AND StartTime >= "{since.isoformat()}"'
    return [execution.id async for execution in shell.client.list_workflows(query)]


async def place(shell: Shell, *args: str) -> dict[str, Any]:
    return json_of(await shell.run("starters.place_order", *CHOREOGRAPHED, *args, "--json"))


async def place_waiting_order(shell: Shell) -> str:
    return await place_order_for_a_person(shell, Style.CHOREOGRAPHED)


async def status_json(shell: Shell, order_id: str) -> dict[str, Any]:
    return json_of(await shell.run("starters.order_status", order_id, "--json"))


def by_service(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {participant["service"]: participant for participant in status["participants"]}


# Placing and waiting: the same answer as the orchestrated style.


async def test_a_happy_choreographed_order_answers_like_an_orchestrated_one(shell: Shell) -> None:
    orchestrated, result = await asyncio.gather(
        shell.run("starters.place_order", "--scenario", "happy", "--wait", "--json"),
        place(shell, "--scenario", "happy", "--wait"),
    )
    expected = json_of(orchestrated)

    assert result.keys() == expected.keys()
    assert (result["status"], result["reason"]) == ("completed", None)
    assert result["style"] == "choreographed"
    assert result["workflow_id"] == f"orders-{result['order_id']}"
    assert result["total_cents"] == expected["total_cents"]
    assert "tok_" not in json.dumps(result)


async def test_a_declined_choreographed_order_is_cancelled_with_its_reason(shell: Shell) -> None:
    result = await place(shell, "--scenario", "payment_declined", "--wait")

    assert (result["status"], result["reason"]) == ("cancelled", "payment_declined")
    assert result["workflow_id"] == f"orders-{result['order_id']}"


# What the participants tell.


async def test_status_of_an_ended_order_lists_every_participant_that_took_part(
    shell: Shell,
) -> None:
    placed = await place(shell, "--scenario", "happy", "--wait")

    status = await status_json(shell, placed["order_id"])
    text = await shell.run("starters.order_status", placed["order_id"])

    participants = by_service(status)
    assert set(participants) == {service.value for service in Service}
    assert all(p["done"] and p["refused"] == [] for p in participants.values())
    assert all(p["order_id"] == placed["order_id"] for p in participants.values())
    assert participants["orders"]["received"][0]["type"] == EventType.ORDER_PLACED.value
    assert participants["orders"]["received"][0]["producer"] == Party.STOREFRONT.value
    assert [event["type"] for event in participants["orders"]["published"]] == [
        EventType.ORDER_ACCEPTED.value,
        EventType.ORDER_CONFIRMED.value,
        EventType.ORDER_ENDED.value,
    ]
    assert status["silent_participants"] == []
    assert status["status"] == "completed"
    assert text.code == 0, text.stderr
    assert "  participants:" in text.stdout
    assert f"    orders: done; received {len(participants['orders']['received'])}," in text.stdout
    assert "refused " not in text.stdout.replace("0 refused", "")


async def test_a_participant_never_started_is_skipped(shell: Shell) -> None:
    placed = await place(shell, "--scenario", "payment_declined", "--wait")

    views = await participants_of(shell.client, placed["order_id"])

    started = [view.service for view in views]
    assert started == [Service.ORDERS, Service.INVENTORY, Service.PAYMENTS, Service.NOTIFICATIONS]
    for service in set(Service) - set(started):
        with pytest.raises(RPCError, match="not found"):
            await shell.client.get_workflow_handle(
                participant_workflow_id(service, placed["order_id"])
            ).describe()


async def test_an_unknown_order_has_no_participants(shell: Shell) -> None:
    assert await participants_of(shell.client, "ord-never-placed") == []


async def test_a_participant_that_does_not_answer_is_reported_not_fatal(
    shell: Shell, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payments participant on a task queue no worker polls: its query cannot be answered."""
    order_id = f"silent-{uuid.uuid4().hex[:8]}"
    handle = await shell.client.start_workflow(
        Party.PAYMENTS.workflow_type,
        ParticipantStart(order_id=order_id),
        id=participant_workflow_id(Service.PAYMENTS, order_id),
        task_queue="nobody-polls-this",
    )
    monkeypatch.setattr(participants, "QUERY_TIMEOUT", timedelta(seconds=1))
    try:
        found = await survey(shell.client, order_id)
    finally:
        await handle.terminate("test over")

    assert found.answered == []
    assert [silent.service for silent in found.silent] == [Service.PAYMENTS]
    assert found.silent[0].reason


async def test_status_of_an_orchestrated_order_is_unchanged(shell: Shell) -> None:
    placed = json_of(
        await shell.run("starters.place_order", "--scenario", "payment_declined", "--json")
    )

    status = await status_json(shell, placed["order_id"])
    text = await shell.run("starters.order_status", placed["order_id"])

    assert status.keys() == OrderView.model_fields.keys()
    assert "participants" not in text.stdout


# A person reads a waiting choreographed order and is refused what it does not allow.


async def test_human_readable_status_of_a_waiting_choreographed_order(shell: Shell) -> None:
    order_id = await place_waiting_order(shell)

    result = await shell.run("starters.order_status", order_id)

    assert result.code == 0, result.stderr
    assert f"order {order_id} (choreographed): awaiting_approval" in result.stdout
    assert "    orders: running; received " in result.stdout
    await shell.ok("starters.reject_order", order_id)


async def test_approving_a_choreographed_order_that_needs_no_approval_is_refused(
    shell: Shell,
) -> None:
    """The small order waits 30 seconds before dispatch: long enough to be asked to approve."""
    placed = await place(shell, "--order-file", str(EXAMPLES / "small_order.json"))
    order_id = placed["order_id"]
    await reach(shell.client, order_id, OrderStatus.AWAITING_DISPATCH)
    before = await at_rest(shell.client, order_id)

    result = await shell.run("starters.approve_order", order_id)

    one_line_error(result, EXIT_REFUSED, order_id, "it is awaiting_dispatch, not awaiting approval")
    assert await order_status(shell.client, order_id) == before
    await shell.ok("starters.cancel_order", order_id)


# An event that does not fit the contract is refused, shown, and changes nothing.


def bad_events(order_id: str) -> list[tuple[dict[str, Any], str]]:
    """Each event a participant must refuse, and a fragment of the reason it must give."""
    envelope = {
        "event_id": "",
        "type": EventType.STOCK_RESERVED.value,
        "order_id": order_id,
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": Party.INVENTORY.value,
        "payload": {},
    }
    return [
        ({"nonsense": 1}, "malformed envelope"),
        ({**envelope, "event_id": "evt-unknown", "type": "OrderTeleported"}, "OrderTeleported"),
        ({**envelope, "event_id": "evt-empty"}, "malformed StockReserved payload"),
        (
            {
                **envelope,
                "event_id": "evt-other",
                "type": EventType.PAYMENT_AUTHORIZED.value,
                "order_id": "ord-someone-else",
                "producer": Party.PAYMENTS.value,
                "payload": {"authorization_id": "auth-1", "amount_cents": 1},
            },
            "for order ord-someone-else",
        ),
    ]


async def test_a_malformed_event_is_refused_shown_and_harmless(shell: Shell) -> None:
    order_id = await place_waiting_order(shell)
    handle = shell.client.get_workflow_handle(participant_workflow_id(Service.ORDERS, order_id))
    sent = bad_events(order_id)
    for event, _ in sent:
        await handle.signal(SIGNAL_EVENT, event)

    status = await status_json(shell, order_id)
    text = await shell.run("starters.order_status", order_id)

    refused = by_service(status)["orders"]["refused"]
    assert len(refused) == len(sent)
    for (_, fragment), entry in zip(sent, refused, strict=True):
        assert fragment in entry["reason"], entry
    assert (refused[0]["event_id"], refused[0]["type"]) == (None, None)
    assert refused[1]["event_id"] == "evt-unknown"
    assert status["status"] == OrderStatus.AWAITING_APPROVAL
    assert text.code == 0, text.stderr
    refusal_lines = [line for line in text.stdout.splitlines() if "      refused " in line]
    assert len(refusal_lines) == len(sent)
    assert all(entry["reason"] in line for entry, line in zip(refused, refusal_lines, strict=True))
    assert "event (no id), type (no type): malformed envelope" in refusal_lines[0]

    approved = json_of(await shell.run("starters.approve_order", order_id, "--json"))
    after = await status_json(shell, order_id)

    assert approved["status"] == OrderStatus.AWAITING_DISPATCH
    assert after["reason"] is None
    assert len(by_service(after)["orders"]["refused"]) == len(sent)
    await shell.ok("starters.cancel_order", order_id)
    assert (await reach(shell.client, order_id, OrderStatus.CANCELLED)).reason == (
        "customer_cancelled"
    )
