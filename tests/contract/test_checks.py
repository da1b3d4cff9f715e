"""The contract checks: the real contract is sound, and each way of breaking it is named."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from domain.events import payloads
from domain.events.checks import ContractProblem, ContractRule, check_contract, elementary_cycles
from domain.events.contract import ORDER_CONTRACT, Contract, EventContractError, EventType
from domain.events.envelope import EventEnvelope, Party
from domain.personal import PersonalData
from domain.scenarios import DEMO_TOKEN, SCENARIOS_BY_NAME
from tests.contract import with_cut, with_event, with_publishes, without_event

RETRY_LOOP = (EventType.ORDER_ACCEPTED, EventType.STOCK_RESERVED, EventType.PAYMENT_FAILED)
"""A payment failure that starts the order over: a cycle of three events."""


def retry_loop_contract(*declared: tuple[EventType, ...]) -> Contract:
    """Orders answers a failed payment by accepting the order again (beside the cycles the real
    contract declares)."""
    contract = with_publishes(
        EventType.PAYMENT_FAILED,
        Party.ORDERS,
        (EventType.ORDER_CANCELLED, EventType.ORDER_ACCEPTED),
    )
    return contract.model_copy(
        update={"declared_cycles": (*ORDER_CONTRACT.declared_cycles, *declared)}
    )


def only(problems: list[ContractProblem]) -> ContractProblem:
    assert len(problems) == 1, [str(problem) for problem in problems]
    return problems[0]


def assert_names(problem: ContractProblem, *events: EventType) -> None:
    assert problem.events == events
    for event in events:
        assert event.value in problem.message


def test_the_real_contract_has_no_problem() -> None:
    assert check_contract(ORDER_CONTRACT) == []


def test_an_event_consumed_but_never_published() -> None:
    contract = with_publishes(EventType.ORDER_PLACED, Party.ORDERS, ())

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.CONSUMED_NEVER_PUBLISHED
    assert_names(problem, EventType.ORDER_ACCEPTED)
    assert "payments, inventory, notifications" in problem.message


def test_an_event_neither_published_nor_consumed() -> None:
    confirmed = ORDER_CONTRACT.spec(EventType.ORDER_CONFIRMED).reactions[0].publishes
    contract = with_publishes(
        EventType.ORDER_CONFIRMED,
        Party.SHIPPING,
        tuple(event for event in confirmed if event != EventType.DELIVERY_LATE),
    )
    contract = with_event(EventType.DELIVERY_LATE, contract, reactions=())

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.NEVER_PUBLISHED
    assert_names(problem, EventType.DELIVERY_LATE)


def test_an_event_that_hands_a_party_personal_data_it_does_not_need() -> None:
    """Inventory handed the whole accepted order: the customer's email, the address and the
    (sealed) token, none of which reserving stock uses."""
    contract = with_cut(EventType.ORDER_ACCEPTED, Party.INVENTORY, None)

    problems = check_contract(contract)

    assert [problem.rule for problem in problems] == [ContractRule.PERSONAL_DATA_NOT_NEEDED] * 3
    assert [problem.message for problem in problems] == [
        f"OrderAccepted hands inventory the {what}, which it does not need"
        for what in (
            "email (order.customer.email)",
            "address (order.shipping_address)",
            "payment token (order.payment_token)",
        )
    ]


def test_a_cut_that_still_holds_an_email_is_named_by_its_field() -> None:
    """A dispatch cut for payments as the whole dispatch: the payload's legacy email field."""
    contract = with_cut(EventType.SHIPMENT_DISPATCHED, Party.PAYMENTS, payloads.ShipmentDispatched)

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.PERSONAL_DATA_NOT_NEEDED
    assert problem.message == (
        "ShipmentDispatched hands payments the email (customer_email), which it does not need"
    )


def test_a_party_that_needs_the_data_may_be_handed_it() -> None:
    needs = {**ORDER_CONTRACT.needs, Party.INVENTORY: frozenset(PersonalData)}
    contract = with_cut(EventType.ORDER_ACCEPTED, Party.INVENTORY, None).model_copy(
        update={"needs": needs}
    )

    assert check_contract(contract) == []


def test_a_cut_with_a_field_the_payload_lacks() -> None:
    contract = with_cut(EventType.ORDER_ENDED, Party.NOTIFICATIONS, payloads.ParcelLost)

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.CUT_NOT_OF_THE_PAYLOAD
    assert "detail" in problem.message
    assert_names(problem, EventType.ORDER_ENDED)


def test_each_consumer_is_handed_its_cut_and_reads_an_uncut_one_alike() -> None:
    """The bus hands inventory the lines; an event published whole (before payloads were cut,
    in a recorded history) reads as the same cut; an unknown field is still refused."""
    order = SCENARIOS_BY_NAME["happy"].order("cut-1")
    whole = EventEnvelope(
        event_id="e-1",
        type=EventType.ORDER_ACCEPTED.value,
        order_id="cut-1",
        occurred_at=datetime(2030, 1, 1, tzinfo=UTC),
        producer=Party.ORDERS,
        payload=payloads.OrderPayload(order=order).model_dump(mode="json"),
    )

    handed = ORDER_CONTRACT.cut_for(Party.INVENTORY, whole)

    assert set(handed.payload["order"]) == {"order_id", "customer", "items", "timeouts", "faults"}
    assert set(handed.payload["order"]["customer"]) == {"id"}
    assert DEMO_TOKEN not in handed.model_dump_json()
    assert "ada@example.com" not in handed.model_dump_json()
    cut_read = ORDER_CONTRACT.payload_for(Party.INVENTORY, handed)
    assert cut_read == ORDER_CONTRACT.payload_for(Party.INVENTORY, whole)
    assert isinstance(cut_read, payloads.LinesToReserve)
    assert cut_read.order.items == order.items
    forged = handed.model_copy(update={"payload": {**handed.payload, "note": "x"}})
    with pytest.raises(EventContractError, match="note"):
        ORDER_CONTRACT.payload_for(Party.INVENTORY, forged)


def test_an_event_published_by_a_party_other_than_its_producer() -> None:
    contract = with_publishes(
        EventType.ORDER_CANCELLED,
        Party.PAYMENTS,
        (EventType.PAYMENT_VOIDED, EventType.STOCK_RELEASED),
    )

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.PUBLISHER_MISMATCH
    assert_names(problem, EventType.STOCK_RELEASED, EventType.ORDER_CANCELLED)
    assert "payments" in problem.message
    assert "inventory" in problem.message


def test_an_event_only_a_wrong_party_publishes_is_also_never_published() -> None:
    contract = with_event(EventType.ORDER_ACCEPTED, producer=Party.INVENTORY)

    problems = check_contract(contract)

    assert [problem.rule for problem in problems] == [
        ContractRule.PUBLISHER_MISMATCH,
        ContractRule.CONSUMED_NEVER_PUBLISHED,
    ]
    assert_names(problems[0], EventType.ORDER_ACCEPTED, EventType.ORDER_PLACED)
    assert_names(problems[1], EventType.ORDER_ACCEPTED)


def test_an_event_published_but_never_consumed() -> None:
    contract = with_event(EventType.PARCEL_PICKED_UP, reactions=())

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.PUBLISHED_NEVER_CONSUMED
    assert_names(problem, EventType.PARCEL_PICKED_UP)


def test_a_terminal_event_needs_no_consumer() -> None:
    contract = with_event(EventType.PARCEL_PICKED_UP, reactions=(), terminal=True)

    assert check_contract(contract) == []


def test_an_undeclared_cycle() -> None:
    problem = only(check_contract(retry_loop_contract()))

    assert problem.rule is ContractRule.UNDECLARED_CYCLE
    assert_names(problem, *RETRY_LOOP)
    assert "OrderAccepted -> StockReserved -> PaymentFailed -> OrderAccepted" in problem.message


@pytest.mark.parametrize("rotation", range(len(RETRY_LOOP)))
def test_a_declared_cycle_is_allowed_from_whichever_event_it_is_written(rotation: int) -> None:
    declared = RETRY_LOOP[rotation:] + RETRY_LOOP[:rotation]

    assert check_contract(retry_loop_contract(declared)) == []


def test_a_cycle_declared_backwards_is_not_the_cycle() -> None:
    backwards = tuple(reversed(RETRY_LOOP))

    problems = check_contract(retry_loop_contract(backwards))

    assert [problem.rule for problem in problems] == [
        ContractRule.UNDECLARED_CYCLE,
        ContractRule.DECLARED_CYCLE_NOT_FOUND,
    ]


def test_a_declared_cycle_the_reactions_do_not_form_is_stale() -> None:
    contract = ORDER_CONTRACT.model_copy(
        update={"declared_cycles": (*ORDER_CONTRACT.declared_cycles, RETRY_LOOP)}
    )

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.DECLARED_CYCLE_NOT_FOUND
    assert_names(problem, *RETRY_LOOP)


def test_a_compensable_event_without_compensation() -> None:
    contract = with_event(EventType.PAYMENT_REFUNDED, compensates=None)

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.COMPENSATION_MISSING
    assert_names(problem, EventType.PAYMENT_CAPTURED)


def test_compensating_an_event_that_is_not_compensable() -> None:
    contract = with_event(EventType.STOCK_RESERVED, compensable=False)

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.COMPENSATES_NOT_COMPENSABLE
    assert_names(problem, EventType.STOCK_RELEASED, EventType.STOCK_RESERVED)


def test_a_reaction_publishing_an_undeclared_event() -> None:
    contract = without_event(EventType.PARCEL_LOST)

    problems = check_contract(contract)

    assert [problem.rule for problem in problems] == [
        ContractRule.UNKNOWN_EVENT,
        ContractRule.CONSUMED_NEVER_PUBLISHED,
    ]
    assert_names(problems[0], EventType.PARCEL_LOST, EventType.ORDER_CONFIRMED)
    assert_names(problems[1], EventType.PAYMENT_REFUNDED)


def test_an_event_declared_twice() -> None:
    contract = ORDER_CONTRACT.model_copy(
        update={"events": (*ORDER_CONTRACT.events, ORDER_CONTRACT.spec(EventType.DELIVERY_LATE))}
    )

    problem = only(check_contract(contract))

    assert problem.rule is ContractRule.DUPLICATE_EVENT
    assert_names(problem, EventType.DELIVERY_LATE)


def test_problems_come_sorted_by_rule_then_by_declaration() -> None:
    contract = with_event(
        EventType.PAYMENT_REFUNDED, compensates=None, contract=retry_loop_contract()
    )
    contract = with_event(EventType.PAYMENT_VOIDED, compensates=None, contract=contract)
    contract = with_event(EventType.PARCEL_PICKED_UP, reactions=(), contract=contract)

    problems = check_contract(contract)

    assert [(problem.rule, problem.events) for problem in problems] == [
        (ContractRule.PUBLISHED_NEVER_CONSUMED, (EventType.PARCEL_PICKED_UP,)),
        (ContractRule.UNDECLARED_CYCLE, RETRY_LOOP),
        (ContractRule.COMPENSATION_MISSING, (EventType.PAYMENT_AUTHORIZED,)),
        (ContractRule.COMPENSATION_MISSING, (EventType.PAYMENT_CAPTURED,)),
    ]
    assert all("\n" not in problem.message for problem in problems)


def test_every_elementary_cycle_is_found_once_from_its_earliest_event() -> None:
    a, b, c = EventType.ORDER_PLACED, EventType.ORDER_ACCEPTED, EventType.STOCK_RESERVED
    graph = {a: [b], b: [a, c], c: [c, a]}

    assert elementary_cycles(graph, [a, b, c]) == [(a, b), (a, b, c), (c,)]


def test_a_complete_graph_has_every_elementary_cycle() -> None:
    nodes = list(EventType)[:5]
    graph = {node: [other for other in nodes if other != node] for node in nodes}
    expected = sum(
        len(list(itertools.combinations(nodes, k))) * _factorial(k - 1) for k in range(2, 6)
    )

    cycles = elementary_cycles(graph, nodes)

    assert len(cycles) == expected == 84
    assert len({_least_rotation(cycle) for cycle in cycles}) == expected
    assert all(len(set(cycle)) == len(cycle) for cycle in cycles)


def _factorial(n: int) -> int:
    return 1 if n <= 1 else n * _factorial(n - 1)


def _least_rotation(cycle: tuple[EventType, ...]) -> tuple[EventType, ...]:
    return min(cycle[i:] + cycle[:i] for i in range(len(cycle)))
