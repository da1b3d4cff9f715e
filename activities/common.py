"""What every service's activities share: how they are declared, and how a store's refusal
becomes a failure a workflow can act on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.errors import BusinessError, TransientError
from domain.messages.resolution import RecordResolvedByHand
from domain.services import Service
from stores.database import StoreError

_EXPECTED = frozenset(
    {error.value for error in BusinessError} | {TransientError.PAYMENT_GATEWAY_UNAVAILABLE.value}
)
"""Answers the process is built to handle (a decline, a gateway time-out): the SDK logs them at
DEBUG, without a traceback, and keeps them out of its failure metrics. The activity still logs
one line. A contract error or a busy store stays loud."""

ActivityMethod = Callable[..., Any]
MethodT = TypeVar("MethodT", bound=ActivityMethod)
ClassT = TypeVar("ClassT", bound=type)

_declared_methods: set[ActivityMethod] = set()
_service_of: dict[ActivityMethod, Service] = {}
_service_of_class: dict[type, Service] = {}


def store_activity(method: MethodT) -> MethodT:
    """A synchronous activity over a store; its name is the method's.

    By default the SDK cancels a sync activity by raising CancelledError asynchronously in its
    thread, which could land between a SQLite BEGIN and COMMIT. Store writes are short and
    atomic, so they run to the end; the one long wait (the carrier booking) checks for
    cancellation itself."""
    defined = activity.defn(no_thread_cancel_exception=True)(method)
    _declared_methods.add(defined)
    return defined


def service_activities(service: Service) -> Callable[[ClassT], ClassT]:
    """Declare a class's activities as `service`'s: a workflow calls one by reference
    (`workflows.services.call.call(PaymentsActivities.capture_payment, ...)`) and it runs on
    that service's task queue; the service's worker registers every one of them. The one
    statement of whose a class is: the registry (`workers.registry`) reads it back
    (`service_of_activities`) rather than saying it again."""

    def declare(cls: ClassT) -> ClassT:
        for method in vars(cls).values():
            if method in _declared_methods:
                _service_of[method] = service
        _service_of_class[cls] = service
        return cls

    return declare


def service_of(method: ActivityMethod) -> Service:
    """The service whose task queue runs this activity method."""
    try:
        return _service_of[method]
    except KeyError:
        raise LookupError(
            f"{getattr(method, '__qualname__', method)} is no activity of a service: declare "
            "its class with @service_activities(Service...)"
        ) from None


def service_of_activities(cls: type) -> Service:
    """The service a class of activities was declared for (`service_activities`)."""
    try:
        return _service_of_class[cls]
    except KeyError:
        raise LookupError(
            f"{cls.__qualname__} is no service's activities class: declare it with "
            "@service_activities(Service...)"
        ) from None


def activity_name(method: ActivityMethod) -> str:
    """The name Temporal knows an activity by, in histories and on the wire: the method's."""
    name: str = method.__name__
    return name


def activity_methods(instance: object) -> list[Callable[..., object]]:
    """The activities of a service's activities object, bound to it, as its worker registers
    them: every method declared with `store_activity`, in the order the class defines them."""
    return [
        getattr(instance, name)
        for name, method in vars(type(instance)).items()
        if method in _declared_methods
    ]


@contextmanager
def store_failures(order_id: str) -> Iterator[None]:
    """Raise a store's refusal as an ApplicationError typed with the refusal's stable name:
    non-retryable for a business answer or a contract bug, retryable for a busy store or a
    gateway time-out."""
    try:
        yield
    except StoreError as error:
        message = str(error) if order_id in str(error) else f"order {order_id}: {error}"
        retry = "will retry" if error.retryable else "will not retry"
        log = activity.logger.info if error.error_type in _EXPECTED else activity.logger.warning
        log("%s (%s, %s)", message, error.error_type, retry)
        raise ApplicationError(
            message,
            type=error.error_type,
            non_retryable=not error.retryable,
            category=(
                ApplicationErrorCategory.BENIGN
                if error.error_type in _EXPECTED
                else ApplicationErrorCategory.UNSPECIFIED
            ),
        ) from error


class HandResolutions(Protocol):
    def record_resolved_by_hand(self, request: RecordResolvedByHand) -> None: ...


def record_resolution(store: HandResolutions, request: RecordResolvedByHand) -> None:
    """Put on record what a person undid by hand (the store's effects untouched); a
    compensation of another service is refused (a contract error: wrong task queue)."""
    with store_failures(request.order_id):
        store.record_resolved_by_hand(request)
    activity.logger.info(
        "order %s: %s done by hand, says %s",
        request.order_id,
        request.compensation.what,
        request.resolved_by,
    )
