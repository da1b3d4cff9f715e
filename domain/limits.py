"""Bounds an order's own values share with the faults it carries."""

from __future__ import annotations

from datetime import timedelta

MAX_WAIT = timedelta(days=365)
"""The longest any wait an order asks for may be (a timeout, the simulated carrier's delay). Far
past it the order's timers overflow: the moment a wait ends (now + wait) is past the year 9999,
and every workflow task of the order, or the carrier's booking, fails on it."""
