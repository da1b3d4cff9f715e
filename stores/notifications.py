"""notifications: the messages sent to customers and to operations, kept as a readable outbox.

One message per order and kind: a retried or duplicated send finds the first message and sends
nothing more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from domain.messages.notifications import NotificationKind, SendNotification
from domain.services import Service
from stores.database import (
    Connection,
    ServiceStore,
    from_text,
    in_declared_order,
    one_of,
    retried_on_conflict,
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK ({one_of("kind", NotificationKind)}),
    recipient TEXT NOT NULL CHECK (recipient <> ''),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (order_id, kind)
);
"""


class Sent(NamedTuple):
    message_id: str
    duplicate: bool


@dataclass(frozen=True)
class Message:
    message_id: str
    order_id: str
    kind: NotificationKind
    recipient: str
    subject: str
    body: str
    created_at: datetime


class NotificationsStore(ServiceStore):
    SERVICE = Service.NOTIFICATIONS
    SCHEMA = _SCHEMA

    @retried_on_conflict
    def send(self, message: SendNotification) -> Sent:
        """Put the message in the outbox, unless this order already has one of this kind."""
        with self._db.write() as db:
            existing = _message_id(db, message)
            if existing is not None:
                return Sent(existing, duplicate=True)
            message_id = f"msg-{uuid.uuid4().hex[:16]}"
            db.execute(
                "INSERT INTO messages (message_id, order_id, kind, recipient, subject, body,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    message_id,
                    message.order_id,
                    message.kind,
                    message.recipient,
                    message.subject,
                    message.body,
                    self._now(),
                ),
            )
        return Sent(message_id, duplicate=False)

    def messages(self, order_id: str) -> list[Message]:
        with self._db.read() as db:
            rows = db.execute(
                "SELECT * FROM messages WHERE order_id = ?"
                f" ORDER BY created_at, {in_declared_order('kind', NotificationKind)}",
                (order_id,),
            ).fetchall()
        return [
            Message(
                message_id=row["message_id"],
                order_id=row["order_id"],
                kind=NotificationKind(row["kind"]),
                recipient=row["recipient"],
                subject=row["subject"],
                body=row["body"],
                created_at=from_text(row["created_at"]),
            )
            for row in rows
        ]


def _message_id(db: Connection, message: SendNotification) -> str | None:
    row = db.execute(
        "SELECT message_id FROM messages WHERE order_id = ? AND kind = ?",
        (message.order_id, message.kind),
    ).fetchone()
    return None if row is None else str(row["message_id"])
