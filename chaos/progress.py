"""Progress on stderr while the run goes: a bar that redraws on a terminal, a plain line every
few seconds anywhere else (a log, CI), and a line for each thing the run breaks, either way.
stdout is kept for the report (and `--json`)."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

PLAIN_EVERY = timedelta(seconds=5)
PREFIX = "chaos: "


class Reporter(Protocol):
    def note(self, line: str) -> None:
        """Something happened (a kill, the restart): say it now."""

    def show(self, placed: int, settled: int, detail: str) -> None:
        """Where the run stands; called often, shown as often as the medium bears."""

    def close(self) -> None: ...


def reporter(total: int, stream: TextIO | None = None) -> Reporter:
    stream = stream or sys.stderr
    return BarReporter(total, stream) if stream.isatty() else LineReporter(total, stream)


class LineReporter:
    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = total
        self._stream = stream
        self._started = time.monotonic()
        self._last = 0.0

    def note(self, line: str) -> None:
        print(f"{PREFIX}{line}", file=self._stream, flush=True)

    def show(self, placed: int, settled: int, detail: str) -> None:
        now = time.monotonic()
        if now - self._last < PLAIN_EVERY.total_seconds():
            return
        self._last = now
        self.note(
            f"{placed}/{self._total} placed, {settled}/{self._total} settled, {detail}, "
            f"{now - self._started:.0f} s"
        )

    def close(self) -> None:
        return None


class BarReporter:
    def __init__(self, total: int, stream: TextIO) -> None:
        self._console = Console(file=stream)
        self._progress = Progress(
            TextColumn("{task.description:<8}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}"),
            console=self._console,
            transient=True,
        )
        self._placed = self._progress.add_task("placed", total=total, detail="")
        self._settled = self._progress.add_task("settled", total=total, detail="")
        self._progress.start()

    def note(self, line: str) -> None:
        self._console.print(f"{PREFIX}{line}", highlight=False, markup=False)

    def show(self, placed: int, settled: int, detail: str) -> None:
        self._progress.update(self._placed, completed=placed)
        self._progress.update(self._settled, completed=settled, detail=detail)

    def close(self) -> None:
        self._progress.stop()
