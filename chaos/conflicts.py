"""What concurrent workers ran into in the stores: the writes PostgreSQL refused because another
worker's transaction changed what they read, and that the store ran again
(`stores.database.retried_on_conflict`). Read from the workers' logs, which outlive the
processes a run kills (a worker's counters die with it)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from stores.database import CONFLICT_RETRIED

_RETRIED = re.compile(rf"{re.escape(CONFLICT_RETRIED)}: ([\w.]+), attempt")


def conflicts_in_logs(logs: Path) -> Counter[str]:
    """Writes run again after a conflict, by store operation (`InventoryStore.reserve`), in
    every worker's log under `logs`."""
    found: Counter[str] = Counter()
    for log in sorted(logs.glob("*-worker*.log")):
        found.update(_RETRIED.findall(log.read_text(errors="replace")))
    return found
