"""The names and arguments of what people (and scripts) ask of an order.

Every style exposes the same update and query names on the workflow that owns the order's
lifecycle, so the command-line tools only need to find that workflow, not know its style.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from domain.base import Model
from domain.order import Address

UPDATE_APPROVE = "approve"
UPDATE_REJECT = "reject"
UPDATE_CANCEL = "cancel"
UPDATE_CHANGE_ADDRESS = "change_address"
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
