"""Each service declared once: the workflows its worker hosts on its task queue, its activities
class, its store, how a worker builds the one over the other, and how many activities it runs at
once. The workers (`workers.pool`), the activity tests, the compose checks and the
replay tests read it; a new service is one more declaration here (and its `Service` member).

Which service an activities class belongs to is not said again here: its class says it
(`@service_activities(Service...)`, which a workflow's call by reference reads to pick the task
queue, `workflows.services.call`), and a declaration that hands a service another's activities
is refused at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from temporalio.common import WorkerDeploymentVersion

from activities.common import activity_methods, service_of_activities
from activities.events import EventPublisher
from activities.inventory import InventoryActivities
from activities.notifications import NotificationsActivities
from activities.orders import OrdersActivities
from activities.payments import PaymentsActivities
from activities.shipping import ShippingActivities
from domain.services import Service
from infra.token_seal import unsealing_key
from stores import store_location
from stores.database import ServiceStore
from stores.inventory import InventoryStore
from stores.notifications import NotificationsStore
from stores.orders import OrdersStore
from stores.payments import PaymentsStore
from stores.shipping import ShippingStore
from workflows.choreography.inventory import InventoryParticipant
from workflows.choreography.notifications import NotificationsParticipant
from workflows.choreography.orders import OrdersParticipant
from workflows.choreography.payments import PaymentsParticipant
from workflows.choreography.shipping import ShippingParticipant
from workflows.hybrid.order import HybridOrderWorkflow
from workflows.hybrid.warehouse import HandoffParticipant, PackingParticipant, PickingParticipant
from workflows.orchestrated.order import OrderWorkflow
from workflows.orchestrated.shipment import ShipmentWorkflow

StoreT = TypeVar("StoreT", bound=ServiceStore)
ActivitiesT = TypeVar("ActivitiesT")


class ServiceDeclarationError(ValueError):
    """A declaration that contradicts itself or the others: refused when the module loads."""


@dataclass(frozen=True)
class WorkerExtras:
    """What a worker hands its service's activities besides their store."""

    data_dir: Path
    """Where the process keeps its files (payments' development key among them)."""
    on_outbox_written: Callable[[], None] | None = None
    """Shipping's: told when a dispatch wrote the carrier's reports (the simulated carrier's
    wake-up)."""


@dataclass(frozen=True)
class ServiceDeclaration(Generic[StoreT, ActivitiesT]):
    """One service, everything its worker is made of."""

    service: Service
    """Its task queue (`Service.task_queue`), and whose store and activities these must be."""
    workflows: tuple[type, ...]
    """The workflows its worker hosts on that queue."""
    activities: type[ActivitiesT]
    """Its activities class, declared for this very service (`@service_activities`): the worker
    registers every activity of it (`activity_methods`), and `EventPublisher.publish_event`."""
    store: type[StoreT]
    """Its store class (`ServiceStore.SERVICE` this service), over `stores.store_location`."""
    build: Callable[[StoreT, WorkerExtras], ActivitiesT]
    """The activities object over an open store and what the worker hands it."""
    activity_slots: int
    """How many activities its worker runs at once, each on a thread of the service's own pool
    (`workers.pool.activity_executor`).

    A slot and a thread per service, never shared: a process that serves several services (the
    demo, `workers.run --service all`) once ran them all on one pool of 16 threads, so a carrier
    slow to confirm bookings (`book_shipment` holds its thread for as long as the carrier takes,
    minutes at worst) could hold every thread, and the reservations and authorizations of every
    other order waited behind it until they timed out. Now a slow carrier fills shipping's slots
    only: shipping's work waits, everyone else's goes on. Each pool has as many threads as its
    worker has slots, so an activity that holds a slot always has a thread to run on.

    Shipping has the most because its booking waits on someone else, not on this process. The
    other services' activities are quick writes to their own SQLite store, which takes one writer
    at a time anyway: more slots would only queue on its lock. `publish_event` takes a slot of its
    service too (it is async and needs no thread).
    """

    def __post_init__(self) -> None:
        """Refuse a service handed another's activities or store: a workflow's call to one of
        those activities would go to the other service's queue (its class says so), and nothing
        would run it against this store."""
        try:
            declared = service_of_activities(self.activities)
        except LookupError as error:
            raise ServiceDeclarationError(f"{self.service} declares {error}") from None
        if declared is not self.service:
            raise ServiceDeclarationError(
                f"{self.service} declares {self.activities.__qualname__} as its activities, but "
                f"that class is {declared}'s (@service_activities(Service.{declared.name})): a "
                f"workflow's call to one of them runs on the {declared.task_queue} queue, not on "
                f"{self.service}'s"
            )
        if self.store.SERVICE is not self.service:
            raise ServiceDeclarationError(
                f"{self.service} declares {self.store.__qualname__} as its store, but that store "
                f"is {self.store.SERVICE}'s"
            )
        if self.activity_slots < 1:
            raise ServiceDeclarationError(f"{self.service}: no activity slot, nothing would run")

    @property
    def task_queue(self) -> str:
        return self.service.task_queue

    def open_store(self, data_dir: Path) -> StoreT:
        """The service's store, where `stores.store_location` says it is."""
        return self.store(store_location(data_dir, self.service))

    def registered_activities(
        self,
        data_dir: Path,
        *,
        on_outbox_written: Callable[[], None] | None = None,
        version: WorkerDeploymentVersion | None = None,
    ) -> list[Callable[..., object]]:
        """What its worker registers: every activity of its class over its store, and the one
        every service needs to publish its events (as `version`, the worker's build)."""
        instance = self.build(self.open_store(data_dir), WorkerExtras(data_dir, on_outbox_written))
        return [*activity_methods(instance), EventPublisher(version).publish_event]


def _one_each(
    declarations: Iterable[ServiceDeclaration[Any, Any]],
) -> Mapping[Service, ServiceDeclaration[Any, Any]]:
    """By service, in `Service` order; refused unless every service is declared exactly once."""
    by_service: dict[Service, ServiceDeclaration[Any, Any]] = {}
    for declaration in declarations:
        if declaration.service in by_service:
            raise ServiceDeclarationError(f"{declaration.service} is declared twice")
        by_service[declaration.service] = declaration
    missing = [service.value for service in Service if service not in by_service]
    if missing:
        raise ServiceDeclarationError(f"no declaration for {', '.join(missing)}")
    return MappingProxyType({service: by_service[service] for service in Service})


SERVICES: Mapping[Service, ServiceDeclaration[Any, Any]] = _one_each(
    [
        ServiceDeclaration(
            service=Service.ORDERS,
            workflows=(OrderWorkflow, OrdersParticipant, HybridOrderWorkflow),
            activities=OrdersActivities,
            store=OrdersStore,
            build=lambda store, _: OrdersActivities(store),
            activity_slots=8,
        ),
        ServiceDeclaration(
            service=Service.INVENTORY,
            workflows=(InventoryParticipant,),
            activities=InventoryActivities,
            store=InventoryStore,
            build=lambda store, _: InventoryActivities(store),
            activity_slots=8,
        ),
        ServiceDeclaration(
            service=Service.PAYMENTS,
            workflows=(PaymentsParticipant,),
            activities=PaymentsActivities,
            store=PaymentsStore,
            build=lambda store, extras: PaymentsActivities(store, unsealing_key(extras.data_dir)),
            activity_slots=8,
        ),
        ServiceDeclaration(
            service=Service.SHIPPING,
            workflows=(
                ShipmentWorkflow,
                ShippingParticipant,
                PickingParticipant,
                PackingParticipant,
                HandoffParticipant,
            ),
            activities=ShippingActivities,
            store=ShippingStore,
            build=lambda store, extras: ShippingActivities(store, extras.on_outbox_written),
            activity_slots=16,
        ),
        ServiceDeclaration(
            service=Service.NOTIFICATIONS,
            workflows=(NotificationsParticipant,),
            activities=NotificationsActivities,
            store=NotificationsStore,
            build=lambda store, _: NotificationsActivities(store),
            activity_slots=8,
        ),
    ]
)
"""Every service's declaration, in `Service` order."""

ALL_WORKFLOWS: tuple[type, ...] = tuple(
    workflow for declaration in SERVICES.values() for workflow in declaration.workflows
)
"""Every workflow some worker hosts (the replay tests replay them all)."""
