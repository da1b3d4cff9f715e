"""The contract-change gate: the contract compared with the snapshot a release committed, by
whether an event in flight survives each change (`domain.events.compatibility`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domain.events import snapshot
from domain.events.compatibility import Change, Verdict, changes
from domain.events.contract import Contract
from infra.cli import BadInputError
from infra.git_files import file_at


@dataclass(frozen=True)
class GateResult:
    against: str
    """Which snapshot: the committed file, or the one at a git ref."""
    changes: list[Change]

    @property
    def breaking(self) -> int:
        return sum(change.verdict is Verdict.BREAKING for change in self.changes)

    def summary(self) -> str:
        return f"against {self.against}: {len(self.changes)} change(s), {self.breaking} breaking"


def contract_gate(contract: Contract, against: str | None, root: Path) -> GateResult:
    """`against`: a git ref whose committed snapshot to compare with (None: the file as it is in
    `root`). A snapshot that cannot be read is a BadInputError, in one line."""
    if against is not None and not against.strip():  # `--against "$BASE"` with BASE unset
        raise BadInputError("--against: an empty git ref (to compare with the file, leave it out)")
    where = f"{snapshot.SNAPSHOT_FILE} at {against}" if against else str(snapshot.SNAPSHOT_FILE)
    try:
        text = (
            file_at(against, snapshot.SNAPSHOT_FILE, root)
            if against
            else (root / snapshot.SNAPSHOT_FILE).read_text()
        )
        before = snapshot.parse(text, where)
    except (OSError, snapshot.SnapshotError) as error:
        raise BadInputError(f"no snapshot to compare with: {error}") from None
    try:
        return GateResult(where, changes(before, snapshot.snapshot_of(contract)))
    except (KeyError, TypeError, AttributeError) as error:  # a payload schema edited by hand
        raise BadInputError(
            f"{where}: a payload schema it holds is malformed ({error!r})"
        ) from None
