"""What every command-line tool shares: argument errors on one line, exit codes, no tracebacks.

Exit codes: 0 done, 1 refused or failed (the order said no, an invariant is broken, the server is
unreachable), 2 bad input (usage, a malformed file, an unknown order id), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, NoReturn

from infra.binaries import BinaryNotFoundError
from infra.client import ConnectionFailedError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class BadInputError(Exception):
    """The input is wrong: say which and why. Exit code 2."""


class RefusedError(Exception):
    """The request was understood and refused, or it failed. Exit code 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def run(main: Callable[[Sequence[str] | None], Coroutine[Any, Any, int]]) -> NoReturn:
    """Run a command's async `main` and turn known failures into a message and an exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    prog = sys.argv[0].rsplit("/", 1)[-1]
    try:
        code: int = asyncio.run(main(None))
    except BadInputError as error:
        _fail(prog, str(error), EXIT_BAD_INPUT)
    except (RefusedError, ConnectionFailedError, BinaryNotFoundError) as error:
        _fail(prog, str(error), EXIT_REFUSED)
    except KeyboardInterrupt:
        _fail(prog, "interrupted", EXIT_INTERRUPTED)
    sys.exit(code)


def _fail(prog: str, message: str, code: int) -> NoReturn:
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(code)
