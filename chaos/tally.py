"""What the run did, counted as it goes: the report shows it beside the invariants, so that a
clean run can be seen to have been a rough one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from domain.services import Service


@dataclass
class Tally:
    acted: Counter[str] = field(default_factory=Counter)
    """Disturbances that acted, by kind."""
    overtaken: Counter[str] = field(default_factory=Counter)
    """Disturbances that never acted: the order settled (or reached no such stage) first."""
    worker_kills: list[Service] = field(default_factory=list)
    server_restarts: int = 0
    cancels: Counter[str] = field(default_factory=Counter)
    """`before_pivot`, `after_pivot`, `too_late` (the order had ended), by where the order stood."""
    requests: Counter[str] = field(default_factory=Counter)
    """`accepted`, `refused`, `unanswered`, `failed`."""
    request_errors: list[str] = field(default_factory=list)
    """Requests that neither went through nor were refused: what they met instead."""
    conflicting_decisions: list[str] = field(default_factory=list)
    """Orders where an approval and a rejection sent together were both accepted."""
    redelivered: int = 0
    redelivered_to: int = 0
    redelivery_refused_late: int = 0
    actor_failures: dict[str, str] = field(default_factory=dict)
    """Orders whose scenario's person could not act for the run's outages, and what they met:
    such an order is not held to its scenario's outcome."""
    actor_refusals: dict[str, str] = field(default_factory=dict)
    """Orders that refused their scenario's person, or never reached the stage where the person
    acts (ended first, say): the order's doing, so it is still held to its scenario."""

    @property
    def disruptions(self) -> int:
        """Each kill or restart may cost an activity in flight one attempt."""
        return len(self.worker_kills) + self.server_restarts

    def as_json(self) -> dict[str, object]:
        return {
            "disturbances_acted": dict(self.acted),
            "disturbances_overtaken": dict(self.overtaken),
            "worker_kills": len(self.worker_kills),
            "killed": [service.value for service in self.worker_kills],
            "server_restarts": self.server_restarts,
            "workflow_cancels": dict(self.cancels),
            "requests": dict(self.requests),
            "request_errors": self.request_errors,
            "events_redelivered": self.redelivered,
            "redelivered_to": self.redelivered_to,
            "redelivery_refused_late": self.redelivery_refused_late,
            "actor_failures": self.actor_failures,
            "actor_refusals": self.actor_refusals,
        }
