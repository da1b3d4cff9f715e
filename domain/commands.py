"""The names and arguments of what people (and scripts) ask of an order.

Every style exposes the same update and query names on the workflow that owns the order's
lifecycle, so the command-line tools only need to find that workflow, not know its style.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints, model_validator

from domain.base import Model
from domain.order import Address

UPDATE_APPROVE = "approve"
UPDATE_REJECT = "reject"
UPDATE_CANCEL = "cancel"
UPDATE_CHANGE_ADDRESS = "change_address"
UPDATE_RESOLVE = "resolve"
QUERY_STATUS = "status"

Actor = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Remark = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class Approve(Model):
    approver: Actor
    comment: Remark | None = None


class Reject(Model):
    approver: Actor
    reason: Remark


class Cancel(Model):
    requested_by: Actor
    reason: Remark | None = None


class ChangeAddress(Model):
    address: Address


class Resolution(StrEnum):
    """What a person does about a parked compensation (`starters.resolve_order`)."""

    RETRY = "retry"
    """Run the stuck compensation again (the gateway may take the void now)."""
    MARK_DONE = "mark_done"
    """A person undid it by hand (voided the authorization in the gateway's console, put the
    stock back on the shelf): record that, with their note, and let the order end."""


class Resolve(Model):
    """Sent to an order in `needs_attention`; refused (its validator) when nothing is parked."""

    action: Resolution
    resolved_by: Actor
    note: Remark | None = None

    @model_validator(mode="after")
    def _a_hand_resolution_says_what_was_done(self) -> Resolve:
        if self.action is Resolution.MARK_DONE and self.note is None:
            raise ValueError("note: required with mark_done (what was undone by hand, and how)")
        return self
