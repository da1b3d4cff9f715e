"""Each service declared once (`workers.registry`), and what its worker is made of read from
that declaration: its workflows, read against the parties' declared workflow types (the event
bus starts a participant by its party's type on its party's service's queue, so that worker must
host a workflow of that very type), and its activities, which must be its own service's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.testing import WorkflowEnvironment

from activities.common import service_activities, service_of, service_of_activities
from activities.events import EventPublisher
from activities.inventory import InventoryActivities
from activities.payments import PaymentsActivities
from domain.events.envelope import Party
from domain.services import Service
from stores.inventory import InventoryStore
from stores.payments import PaymentsStore
from workers.pool import activity_executor, build_worker
from workers.registry import (
    ALL_WORKFLOWS,
    SERVICES,
    ServiceDeclaration,
    ServiceDeclarationError,
    _one_each,
)

PARTICIPANTS = [party for party in Party if not party.starts_flows]


def workflow_type(cls: type) -> str:
    definition = workflow._Definition.must_from_class(cls)
    assert definition.name is not None
    return definition.name


def activities_of(cls: type) -> dict[str, Callable[..., Any]]:
    """The activities a class defines, by name, read from the SDK's own marks (not through
    `activity_methods`, which the registry uses)."""
    return {
        definition.name: member
        for member in vars(cls).values()
        if (definition := activity._Definition.from_callable(member)) is not None
        and definition.name is not None
    }


def declaration(**changes: Any) -> ServiceDeclaration[Any, Any]:
    """Payments' declaration, with `changes`."""
    fields = {
        "service": Service.PAYMENTS,
        "workflows": (),
        "activities": PaymentsActivities,
        "store": PaymentsStore,
        "build": lambda store, extras: None,
        "activity_slots": 8,
        **changes,
    }
    return ServiceDeclaration(**fields)


# -- one declaration per service ---------------------------------------------------------------


def test_every_service_has_exactly_one_declaration_in_service_order() -> None:
    assert list(SERVICES) == list(Service)
    assert [declared.service for declared in SERVICES.values()] == list(Service)
    assert all(declared.task_queue == service.task_queue for service, declared in SERVICES.items())


@pytest.mark.parametrize("service", list(Service))
def test_each_declaration_s_activities_and_store_are_its_service_s(service: Service) -> None:
    declared = SERVICES[service]

    assert service_of_activities(declared.activities) is service
    assert declared.store.SERVICE is service
    methods = activities_of(declared.activities)
    assert methods, service
    assert {service_of(method) for method in methods.values()} == {service}


def test_a_declaration_naming_another_service_s_activities_is_refused() -> None:
    with pytest.raises(
        ServiceDeclarationError,
        match=r"payments declares InventoryActivities as its activities, but that class is "
        r"inventory's \(@service_activities\(Service.INVENTORY\)\)",
    ):
        declaration(activities=InventoryActivities)


def test_a_declaration_naming_a_class_of_no_service_is_refused() -> None:
    class Undeclared:
        pass

    with pytest.raises(ServiceDeclarationError, match="Undeclared is no service's activities"):
        declaration(activities=Undeclared)


def test_a_declaration_naming_another_service_s_store_is_refused() -> None:
    with pytest.raises(
        ServiceDeclarationError, match=r"InventoryStore as its store, but that store is inventory's"
    ):
        declaration(store=InventoryStore)


def test_a_service_declared_twice_or_not_at_all_is_refused() -> None:
    payments = declaration()
    others = [declared for service, declared in SERVICES.items() if service is not Service.PAYMENTS]

    assert list(_one_each([*others, payments])) == list(Service)
    with pytest.raises(ServiceDeclarationError, match="payments is declared twice"):
        _one_each([*others, payments, payments])
    with pytest.raises(ServiceDeclarationError, match="no declaration for payments"):
        _one_each(others)


def test_a_class_declared_for_a_service_says_which() -> None:
    @service_activities(Service.NOTIFICATIONS)
    class Declared:
        pass

    assert service_of_activities(Declared) is Service.NOTIFICATIONS


# -- what each worker is made of ---------------------------------------------------------------


async def test_each_service_s_worker_registers_its_class_s_activities_and_publish_event(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Exactly those: each bound to the one activities object over the service's store."""
    for service, declared in SERVICES.items():
        data_dir = tmp_path / service.value
        data_dir.mkdir()
        with activity_executor(service) as executor:
            config = build_worker(time_skipping_env.client, service, data_dir, executor).config()

        registered = list(config.get("activities", ()))
        publishers = [fn for fn in registered if fn.__func__ is EventPublisher.publish_event]  # type: ignore[attr-defined]
        assert len(publishers) == 1, service
        own = [fn for fn in registered if fn not in publishers]
        expected = activities_of(declared.activities)
        assert len(registered) == len(expected) + 1, service
        assert {fn.__name__: fn.__func__ for fn in own} == expected, service  # type: ignore[attr-defined]
        assert len({id(fn.__self__) for fn in own}) == 1, "one activities object"  # type: ignore[attr-defined]
        assert config.get("task_queue") == service.task_queue
        assert list(config.get("workflows", ())) == list(declared.workflows)
        assert config.get("max_concurrent_activities") == declared.activity_slots


# -- which worker hosts which workflow ---------------------------------------------------------


@pytest.mark.parametrize("party", PARTICIPANTS, ids=str)
def test_each_party_s_participant_is_hosted_by_its_service(party: Party) -> None:
    assert party.service is not None
    hosted = {workflow_type(cls) for cls in SERVICES[party.service].workflows}

    assert party.workflow_type in hosted
    assert Party.of_workflow_type(party.workflow_type) is party


def test_every_workflow_type_is_hosted_once_and_only_participants_have_a_party() -> None:
    types = [workflow_type(cls) for cls in ALL_WORKFLOWS]

    assert len(types) == len(set(types))
    assert {t for t in types if Party.of_workflow_type(t)} == {
        p.workflow_type for p in PARTICIPANTS
    }


@pytest.mark.parametrize("party", [Party.STOREFRONT, Party.ORCHESTRATOR], ids=str)
def test_a_party_that_starts_flows_runs_no_participant(party: Party) -> None:
    with pytest.raises(ValueError, match="runs no participant workflow"):
        _ = party.workflow_type
