"""Business rules that are the same in every style."""

APPROVAL_THRESHOLD_CENTS = 100_000
"""Orders whose total is above this (1,000.00) wait for a person to approve them."""


def needs_approval(total_cents: int) -> bool:
    return total_cents > APPROVAL_THRESHOLD_CENTS
