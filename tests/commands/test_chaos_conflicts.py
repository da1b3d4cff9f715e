"""A chaos run says what concurrent workers ran into: the store writes run again after a
conflict, read back from the workers' logs in either log format."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from chaos.conflicts import conflicts_in_logs
from infra import logs
from stores.database import StoreConflictError, retried_on_conflict


class ContendedStore:
    """A store whose write conflicts with another worker's the first `conflicts` times."""

    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts

    @retried_on_conflict
    def write(self) -> str:
        if self.conflicts:
            self.conflicts -= 1
            raise StoreConflictError("could not serialize access due to concurrent update")
        return "written"


@pytest.mark.parametrize("fmt", logs.FORMATS)
def test_conflicts_retried_are_counted_from_the_workers_logs(tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    for name, conflicts in (("inventory-worker-1", 2), ("inventory-worker-2", 1)):
        with open(folder / f"{name}.log", "w") as log:
            handler = logs.configure(fmt=fmt, stream=log, services=["inventory"])
            try:
                assert ContendedStore(conflicts).write() == "written"
            finally:
                logs.remove(handler)
    (folder / "dev-server.log").write_text("store conflict retried: NotAWorker.write, attempt 1\n")

    assert conflicts_in_logs(folder) == Counter({"ContendedStore.write": 3})


def test_a_write_that_keeps_conflicting_reaches_the_activity_as_retryable() -> None:
    store = ContendedStore(conflicts=1_000)

    with pytest.raises(StoreConflictError) as raised:
        store.write()
    assert raised.value.retryable  # the activity fails retryable: Temporal tries it later
