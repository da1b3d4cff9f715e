"""Structured logs: every line says which service, order and workflow it is about, when known,
and never shows a payment token.

`ORDERS_LOG_FORMAT` picks `text` (the default: a person at a terminal reads it, and it still
carries `service=… order=… workflow=…` as key=value pairs a log search can match) or `json` (one
object per line, for a log shipper; a deployment sets it). Why not guess from whether stderr is
a terminal: the same command would log differently in a shell and under a supervisor, which is
the surprise nobody wants when following one order.

Where the fields come from, first match wins: an explicit `extra={"order_id": ...}`; the
`temporal_workflow` / `temporal_activity` dicts the SDK's `workflow.logger` and
`activity.logger` add (workflow id; the task queue, which is the service); the order id read
from the workflow id (`order-<id>`, `shipment-<id>`, `<party>-<id>`); the project's message
convention `order <id>: …`; the logger (the carrier simulator is shipping's); the one service
this process serves.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

import temporalio.activity
import temporalio.workflow

from domain.events.envelope import Party
from domain.services import Service, order_workflow_id, shipment_workflow_id

LOG_FORMAT_ENV = "ORDERS_LOG_FORMAT"
FORMATS = ("text", "json")
DEFAULT_FORMAT = "text"

TOKEN_PATTERN = re.compile(r"tok_[A-Za-z0-9_]+")
"""What a payment token looks like; masked in every line as the last line of defence (the token
is a SecretStr everywhere, so it should never reach a log in the first place)."""
MASKED_TOKEN = "tok_***"

_WORKFLOW_PREFIXES = frozenset(
    workflow_id("").removesuffix("-")
    for workflow_id in (
        order_workflow_id,
        shipment_workflow_id,
        *(party.workflow_id for party in Party),
    )
)
"""What the workflow ids of an order start with, as the domain builds them."""
_ORDER_IN_MESSAGE = re.compile(r"\border ([A-Za-z0-9][\w.-]*):")
_SERVICE_OF_LOGGER = {"workers.carrier_simulator": Service.SHIPPING.value}
_SERVICES = frozenset(service.value for service in Service)


def log_format(env: dict[str, str] | None = None) -> tuple[str, str | None]:
    """The format to use and, if `ORDERS_LOG_FORMAT` was not understood, why it was ignored."""
    raw = (os.environ if env is None else env).get(LOG_FORMAT_ENV, "").strip().lower()
    if not raw:
        return DEFAULT_FORMAT, None
    if raw in FORMATS:
        return raw, None
    return DEFAULT_FORMAT, f"{LOG_FORMAT_ENV}={raw!r} is neither json nor text: using text"


def order_of_workflow(workflow_id: str) -> str | None:
    """The order id in a workflow id of this project, e.g. `payments-happy-4f35` → `happy-4f35`."""
    prefix, _, rest = workflow_id.partition("-")
    return rest if prefix in _WORKFLOW_PREFIXES and rest else None


def mask_secrets(text: str) -> str:
    return TOKEN_PATTERN.sub(MASKED_TOKEN, text)


class OrderContext(logging.Filter):
    """Sets `service`, `order_id` and `workflow_id` on every record it sees (None if unknown)."""

    def __init__(self, default_service: str | None = None) -> None:
        super().__init__()
        self.default_service = default_service

    def filter(self, record: logging.LogRecord) -> bool:
        temporal: dict[str, Any] = {
            **(getattr(record, "temporal_workflow", None) or {}),
            **(getattr(record, "temporal_activity", None) or {}),
        }
        workflow_id = getattr(record, "workflow_id", None) or temporal.get("workflow_id")
        order_id = getattr(record, "order_id", None) or (
            order_of_workflow(workflow_id) if workflow_id else None
        )
        if order_id is None:
            found = _ORDER_IN_MESSAGE.search(record.getMessage())
            order_id = found.group(1) if found else None
        if workflow_id is None and order_id is not None:
            workflow_id = _workflow_in_message(record.getMessage(), order_id)
        record.order_id = order_id
        record.workflow_id = workflow_id
        record.service = getattr(record, "service", None) or _service(
            temporal.get("task_queue"), record.name, self.default_service
        )
        record.workflow_type = temporal.get("workflow_type")
        record.activity_type = temporal.get("activity_type")
        record.attempt = temporal.get("attempt")
        return True


def _workflow_in_message(message: str, order_id: str) -> str | None:
    """A workflow of the order named in the message, e.g. the carrier's `sent … to shipment-X`."""
    found = re.search(rf"\b([a-z]+)-{re.escape(order_id)}\b", message)
    if found and found.group(1) in _WORKFLOW_PREFIXES:
        return found.group(0)
    return None


def _service(task_queue: Any, logger: str, default: str | None) -> str | None:
    if isinstance(task_queue, str) and task_queue in _SERVICES:
        return task_queue
    return _SERVICE_OF_LOGGER.get(logger, default)


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> service=… order=… workflow=… <logger>: <message>`, `-` for unknown."""

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{key}={getattr(record, attr, None) or '-'}"
            for key, attr in (
                ("service", "service"),
                ("order", "order_id"),
                ("workflow", "workflow_id"),
            )
        )
        line = f"{_timestamp(record)} {record.levelname} {context} {record.name}: "
        line += record.getMessage()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return mask_secrets(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the same keys on every line (null when unknown)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "service": getattr(record, "service", None),
            "order_id": getattr(record, "order_id", None),
            "workflow_id": getattr(record, "workflow_id", None),
            "message": record.getMessage(),
        }
        for optional in ("workflow_type", "activity_type", "attempt"):
            value = getattr(record, optional, None)
            if value is not None:
                entry[optional] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_secrets(json.dumps(entry, default=str, ensure_ascii=False))


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


_installed: logging.Handler | None = None
_SDK_DEFAULTS = (
    temporalio.workflow.logger.workflow_info_on_message,
    temporalio.activity.logger.activity_info_on_message,
)


def configure(
    *,
    level: int = logging.INFO,
    fmt: str | None = None,
    stream: TextIO | None = None,
    services: Iterable[str] = (),
) -> logging.Handler:
    """Route every log record through one handler with the order context and the chosen format.

    Calling it again replaces the handler (a command configures WARNING first, the worker then
    INFO with the services it serves). With exactly one service, lines that do not say which
    service they concern are that service's.
    """
    global _installed
    chosen, problem = (fmt, None) if fmt in FORMATS else log_format()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(OrderContext(_only(services)))
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    root.addHandler(handler)
    root.setLevel(level)
    _installed = handler
    # The fields are on every line now: the SDK need not repeat its info dict in the message.
    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False
    if problem:
        logging.getLogger(__name__).warning("%s", problem)
    return handler


def remove(handler: logging.Handler) -> None:
    """Undo `configure` (for tests that capture the logs of a run)."""
    global _installed
    logging.getLogger().removeHandler(handler)
    if _installed is handler:
        _installed = None
        (
            temporalio.workflow.logger.workflow_info_on_message,
            temporalio.activity.logger.activity_info_on_message,
        ) = _SDK_DEFAULTS


def _only(services: Iterable[str]) -> str | None:
    chosen = list(dict.fromkeys(services))
    return chosen[0] if len(chosen) == 1 else None
