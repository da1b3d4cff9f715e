"""Running a command in-process as `python -m ...` would run it, and what a clean refusal is.

`infra.cli.exit_code` is the part of `infra.cli.run` a process does not need: the command's
`main`, a known failure turned into one line on stderr and an exit code. Here it runs with
stdout and stderr captured, against a client that fails the test if it is ever used, so an input
that should have been refused but got as far as talking to Temporal says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, cast

from hypothesis import HealthCheck, settings
from temporalio.client import Client

from infra.cli import exit_code

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
MAX_LINE = 1_000
"""A refusal a person can read: one line, not a megabyte of the value that was refused."""

Main = Callable[..., Coroutine[Any, Any, int]]


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


class _Unreachable:
    """Stands in for the Temporal client where every input must be refused before one is
    needed: any use of it is an input that was let through."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(
            f"the input was accepted: the command went on to use Temporal ({name})"
        )


UNREACHABLE = cast(Client, _Unreachable())


def prog_of(module: ModuleType) -> str:
    """`python -m starters.place_order`: how the command names itself in its errors."""
    return f"python -m {module.__name__}"


async def run_command(module: ModuleType, argv: Sequence[str], client: Client) -> Outcome:
    """`python -m <module> *argv`, in-process, on the running event loop."""
    main: Main = module.main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = await exit_code(lambda args: main(args, client), list(argv), prog_of(module))
    return Outcome(code, out.getvalue(), err.getvalue())


class InProcess:
    """Runs commands in-process from synchronous code (a Hypothesis test), on an event loop of
    its own, never set as the thread's current one."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()

    def run(self, module: ModuleType, argv: Sequence[str]) -> Outcome:
        return self._loop.run_until_complete(run_command(module, argv, UNREACHABLE))

    def close(self) -> None:
        self._loop.close()


def refused_cleanly(
    outcome: Outcome,
    code: int,
    prog: str,
    *fragments: str,
    secrets: Sequence[str] = (),
) -> str:
    """One line on stderr, `<prog>: error: ...`, naming each fragment (the input, the field),
    the exact exit code, no traceback, nothing on stdout, no secret echoed; the line."""
    assert outcome.code == code, (outcome.code, outcome.stderr[:MAX_LINE], outcome.stdout[:200])
    assert "Traceback" not in outcome.stderr, outcome.stderr[:MAX_LINE]
    assert outcome.stdout == "", outcome.stdout[:200]
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr[:MAX_LINE]
    line = lines[0]
    assert line.startswith(f"{prog}: error: "), line[:MAX_LINE]
    assert len(line) <= MAX_LINE, f"{len(line)} characters: {line[:MAX_LINE]}"
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    for secret in secrets:
        assert secret not in line, ("a secret was echoed", line)
    return line


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible in CI: the same examples every run, none remembered from a previous one,
    no deadline (a megabyte string takes its time), `max_examples` of them."""
    return settings(
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=max_examples,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def fingerprint(*parts: str | bytes) -> str:
    """A short key for one input, so that the same input tried twice counts once."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@dataclass
class Tally:
    """The distinct malformed inputs tried, and those refused cleanly, by category."""

    tried: dict[str, set[str]] = field(default_factory=dict)
    refused: dict[str, set[str]] = field(default_factory=dict)

    @contextlib.contextmanager
    def trying(self, category: str, key: str) -> Iterator[None]:
        """Count the input as tried, and as refused cleanly once the block's checks pass."""
        self.tried.setdefault(category, set()).add(key)
        yield
        self.refused.setdefault(category, set()).add(key)

    def count(self, category: str) -> int:
        return len(self.refused.get(category, set()))

    def summary(self) -> str:
        tried = sum(len(keys) for keys in self.tried.values())
        refused = sum(len(keys) for keys in self.refused.values())
        return f"fuzz: {tried} malformed inputs tried, {refused} refused cleanly"


TALLY = Tally()
"""Every fuzz test's inputs, for the summary at the end of the run."""
