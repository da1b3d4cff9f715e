"""What every command-line tool shares: argument errors on one line, exit codes, no tracebacks.

Exit codes: 0 done, 1 refused or failed (the order said no, an invariant is broken, the server is
unreachable), 2 bad input (usage, a malformed file, an unknown order id, connection settings that
cannot be read), 130 interrupted.
Logs go to stderr through `infra.logs` (structured, `ORDERS_LOG_FORMAT`), WARNING and above
unless the command asks for more (a worker logs INFO).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, NoReturn

from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError

from infra import logs
from infra.binaries import BinaryNotFoundError
from infra.client import ConnectionFailedError, ConnectionSettingsError
from infra.telemetry import shutdown_tracing
from stores import StoreSettingsError
from stores.database import StoreError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

TIMED_OUT = (
    "Temporal did not answer in time (the server is overloaded or unreachable); what was sent "
    "may still be applied: ask the order again with python -m starters.order_status"
)


class BadInputError(Exception):
    """The input is wrong: say which and why. Exit code 2."""


class RefusedError(Exception):
    """The request was understood and refused, or it failed. Exit code 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {_shortened(message)} (see --help)\n")


MAX_ERROR_LENGTH = 600
"""argparse quotes a rejected value whole (`invalid choice: '...'`): one of megabytes would make
the line megabytes long. (The longest it says of a value it could take, every scenario to choose
from, is under 300.)"""


def _shortened(message: str) -> str:
    """The message with its middle cut when it is too long: what was wrong stays at the start
    (`argument --style: invalid choice:`), what would do at the end (`(choose from ...)`)."""
    if len(message) <= MAX_ERROR_LENGTH:
        return message
    half = MAX_ERROR_LENGTH // 2
    return f"{message[:half]}...{message[-half:]}"


def port_number(text: str) -> int:
    """An argparse type: a TCP port a server can listen on (a wrong one is exit 2, not a
    traceback from the socket)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number (got {text!r})") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be 1 to 65535 (got {port})")
    return port


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (anything else is exit 2)."""

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number (got {text[:40]!r})") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high} (got {number})")
        return number

    return parse


def interruption() -> asyncio.Event:
    """An event set on Ctrl-C (SIGINT) or SIGTERM, from now on. Take it before printing that a
    server is up: whoever reads that line may signal at once, and a signal that came before
    the handlers were in place would end the command as interrupted (exit 130)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


Main = Callable[[Sequence[str] | None], Coroutine[Any, Any, int]]
"""A command's async `main(argv)`: its exit code, or one of the failures `exit_code` knows."""


def run(main: Main) -> NoReturn:
    """Run a command's async `main` and turn known failures into a message and an exit code."""
    logs.configure(level=logging.WARNING)
    prog = _prog()
    try:
        code = asyncio.run(exit_code(main, None, prog))
    except KeyboardInterrupt:
        code = _fail(prog, "interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:  # `... | head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (nothing more reaches the pipe)
        code = EXIT_OK
    _exit(code)


async def exit_code(main: Main, argv: Sequence[str] | None, prog: str) -> int:
    """Run `main(argv)` in the running event loop as `run` does, and return its exit code: a
    known failure is one line on stderr, `prog: error: ...`, never a traceback. What `run` adds
    (logging, Ctrl-C, a closed pipe, the exit itself) belongs to a process; this is the part a
    test can drive in-process, many times over."""
    try:
        return await main(argv)
    except (BadInputError, ConnectionSettingsError, StoreSettingsError) as error:
        return _fail(prog, str(error), EXIT_BAD_INPUT)
    except (RefusedError, ConnectionFailedError, BinaryNotFoundError, StoreError) as error:
        return _fail(prog, str(error), EXIT_REFUSED)
    except RPCError as error:  # e.g. the namespace does not exist
        return _fail(prog, f"Temporal refused ({error.status.name}): {error.message}", EXIT_REFUSED)
    except RPCTimeoutOrCancelledError:  # an update the server did not answer in time
        return _fail(prog, TIMED_OUT, EXIT_REFUSED)
    except SystemExit as error:  # argparse has printed its one line (or the help) already
        if error.code is None or isinstance(error.code, int):
            return error.code or EXIT_OK
        return _fail(prog, str(error.code), EXIT_REFUSED)  # as the interpreter exits on one


def _prog() -> str:
    """`python -m starters.place_order`, as argparse's own errors name the command."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    if spec is None:
        return os.path.basename(sys.argv[0])
    return f"python -m {spec.name.removesuffix('.__main__')}"  # a package's, as it was run


def _fail(prog: str, message: str, code: int) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


def _exit(code: int) -> NoReturn:
    """Exit without the interpreter's teardown. The Temporal client's native threads may still
    call into Python while it finalizes, which aborts the process (`PyGILState_Release`,
    temporalio/sdk-python#300) and turns a finished command's exit code into 134 or 139.
    So what atexit would do is done here: spans still batched are exported, logs flushed."""
    shutdown_tracing()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
