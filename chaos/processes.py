"""The processes a chaos run starts, breaks and stops: its own dev server (`python -m
starters.dev_server` on a history file in the run's data dir) and one `python -m workers.run`
per service.

The dev server runs in a process group of its own, so that killing it takes the `temporal`
binary it started with it (the binary would outlive its parent otherwise) and a restart finds
its port free. The workers stay in the run's own group: a Ctrl-C in the terminal reaches them
too (they drain and stop), and whoever kills the run's group kills them with it.
Each process's output goes to `<data dir>/logs/<name>.log`, where a failure can be read later.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from chaos.tasks import together, uninterrupted
from domain.services import Service
from infra.cli import RefusedError
from infra.data_dir import DATA_DIR_VARIABLE

START_PATIENCE = timedelta(seconds=60)
"""How long a process may take to say it is up: seconds, even on two busy cores."""
STOP_GRACE = timedelta(seconds=20)
"""How long a process is given to stop on SIGTERM before it is killed: a worker drains for up
to 10 s (`workers.run`), a dev server stops in under a second."""
SUPERVISE_EVERY = timedelta(seconds=1)

SERVER_NAME = "dev-server"


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


BINARY_VARIABLES = frozenset({"TEMPORAL_CLI_PATH", "TEMPORAL_TEST_SERVER_PATH"})
"""The `TEMPORAL_*` variables that say where the binaries are, not where to connect: kept."""


def child_env(address: str, data_dir: Path) -> dict[str, str]:
    """This environment, pointed at the run's server and data dir only: no profile or config
    file of the user's (`TEMPORAL_*`) may send a worker elsewhere, and no metrics port is shared
    by five processes."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if (not key.startswith("TEMPORAL_") or key in BINARY_VARIABLES)
        and key != "ORDERS_METRICS_PORT"
    }
    return {
        **kept,
        "TEMPORAL_ADDRESS": address,
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_CONFIG_FILE": str(data_dir / "no-temporal.toml"),  # missing: ignored
        DATA_DIR_VARIABLE: str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }


def logs_dir(data_dir: Path) -> Path:
    """Where every process of a run logs: `<data dir>/logs`."""
    return data_dir / "logs"


def _open_log(path: Path) -> BinaryIO:
    """A process's log, appended to: a process started again adds to what it wrote before."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab")  # closed once the process is done (ChildProcess._reap)


def _last_line(path: Path) -> str:
    """What a process that failed said last: its one-line error, for a command."""
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    return next((line for line in reversed(lines) if line), "")


@dataclass
class ChildProcess:
    """`python -m <module> <args>`, up once it has printed a line starting with `ready`."""

    name: str
    module: str
    args: tuple[str, ...]
    env: dict[str, str]
    log_path: Path
    ready: str
    own_group: bool = False
    cwd: Path | None = None
    """Where it runs (and, first on its path, imports from): None, here."""
    process: asyncio.subprocess.Process | None = None
    expected_exit: bool = False
    """Set while the run itself stops or kills the process: any other exit is a crash."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _log: BinaryIO | None = None
    _copier: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        """The process's id (it must have been started)."""
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Start it and wait for its ready line; a process that exits or stays silent instead
        is a refusal naming its log."""
        self._log = await asyncio.to_thread(_open_log, self.log_path)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            *self.args,
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
            start_new_session=self.own_group,
        )
        self.expected_exit = False
        up: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._copier = asyncio.create_task(self._copy_output(up), name=f"{self.name}-output")
        try:
            await asyncio.wait_for(up, START_PATIENCE.total_seconds())
        except TimeoutError:
            await self.kill()
            raise RefusedError(
                f"{self.name} did not start within {START_PATIENCE.total_seconds():g} s "
                f"(see {self.log_path})"
            ) from None
        except RefusedError:
            await self._reap()
            raise

    async def _copy_output(self, up: asyncio.Future[None]) -> None:
        """Copy stdout to the log, noting the ready line; its end before that is a refusal."""
        assert self.process is not None
        assert self.process.stdout is not None
        assert self._log is not None
        async for raw in self.process.stdout:
            self._log.write(raw)
            self._log.flush()
            if not up.done() and raw.decode(errors="replace").startswith(self.ready):
                up.set_result(None)
        if not up.done():
            code = await self.process.wait()
            said = await asyncio.to_thread(_last_line, self.log_path)
            up.set_exception(
                RefusedError(
                    f"{self.name} exited with code {code}"
                    + (f": {said}" if said else "")
                    + f" (see {self.log_path})"
                )
            )

    async def start_again(self) -> None:
        """After a crash: collect what is left of the old process, then start a new one."""
        await self._reap()
        await self.start()

    async def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing gets to finish."""
        self.expected_exit = True
        self._signal(signal.SIGKILL)
        await self._reap()

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within the grace."""
        self.expected_exit = True
        if self.running:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), STOP_GRACE.total_seconds())
        self._signal(signal.SIGKILL)  # anything left, the dev server's binary included
        await self._reap()

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):  # gone already
            if self.own_group:
                os.killpg(self.process.pid, sig)
            elif self.process.returncode is None:
                self.process.send_signal(sig)

    async def _reap(self) -> None:
        if self.process is not None:
            await self.process.wait()
        if self._copier is not None:
            with contextlib.suppress(RefusedError):
                await self._copier
            self._copier = None
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class Cluster:
    """The run's dev server and workers, with what happened to them."""

    address: str
    ui_port: int
    db_file: Path
    server: ChildProcess
    workers: dict[Service, list[ChildProcess]]
    """Each service's worker processes (`--replicas` of them)."""
    crashes: list[str] = field(default_factory=list)
    """Processes that exited without being told to (and were started again)."""

    @property
    def every_worker(self) -> list[ChildProcess]:
        return [worker for replicas in self.workers.values() for worker in replicas]

    async def kill_worker(self, service: Service, replica: int = 0) -> None:
        """SIGKILL one of the service's workers and start a new one; not while the server
        restarts (a worker refuses to start with no server to reach, and that refusal ended
        the run)."""
        worker = self.workers[service][replica]
        async with self.server.lock, worker.lock:
            await worker.kill()
            await worker.start()

    async def restart_server(self) -> None:
        """SIGKILL the dev server (and its binary) and start it again on the same history."""
        async with self.server.lock:
            await self.server.kill()
            await self.server.start()

    async def supervise(self, note: Callable[[str], None]) -> None:
        """Start again any process that exited by itself, and remember it: the run asks for
        survivors, and a crash is a finding, not a reason to stop."""
        while True:
            await asyncio.sleep(SUPERVISE_EVERY.total_seconds())
            for child in (self.server, *self.every_worker):
                if child.lock.locked() or child.running or child.expected_exit:
                    continue
                async with child.lock:
                    code = child.process.returncode if child.process else None
                    self.crashes.append(f"{child.name} exited by itself with code {code}")
                    note(f"{child.name} exited by itself (code {code}): starting it again")
                    try:
                        await child.start_again()
                    except RefusedError as error:  # tried again on the next round
                        self.crashes.append(f"{child.name} did not start again: {error}")


def worker_processes(
    env: dict[str, str], logs: Path, replicas: int = 1
) -> dict[Service, list[ChildProcess]]:
    """`replicas` processes of `python -m workers.run --service S` for every service, not yet
    started, each logging to `logs/<service>-worker[-n].log`."""

    def suffix(n: int, separator: str) -> str:
        return f"{separator}{n + 1}" if replicas > 1 else ""

    return {
        service: [
            ChildProcess(
                name=f"{service.value} worker{suffix(n, ' ')}",
                module="workers.run",
                args=("--service", service.value),
                env=env,
                log_path=logs / f"{service.value}-worker{suffix(n, '-')}.log",
                ready=f"worker {service.value}: ",
            )
            for n in range(replicas)
        ]
        for service in Service
    }


async def _stop_all(processes: list[ChildProcess]) -> None:
    await asyncio.gather(*(process.stop() for process in processes))


@contextlib.asynccontextmanager
async def started_workers(
    env: dict[str, str], logs: Path, replicas: int = 1
) -> AsyncIterator[dict[Service, list[ChildProcess]]]:
    """`worker_processes`, all started at once and each up; all stopped on the way out (SIGTERM:
    they drain), however the block ends."""
    workers = worker_processes(env, logs, replicas)
    every = [worker for replicas_of in workers.values() for worker in replicas_of]
    try:
        await together(*(worker.start() for worker in every))
        yield workers
    finally:
        await uninterrupted(_stop_all(every))


@contextlib.asynccontextmanager
async def running_cluster(data_dir: Path, replicas: int = 1) -> AsyncIterator[Cluster]:
    """A dev server on free ports with its history in `data_dir`, and `replicas` workers of
    every service, each in a process of its own; all stopped on the way out, however the run
    ends."""
    port, ui_port = free_port(), free_port()
    address = f"localhost:{port}"
    env = child_env(address, data_dir)
    db_file = data_dir / "temporal.sqlite3"
    logs = logs_dir(data_dir)
    server = ChildProcess(
        name=SERVER_NAME,
        module="starters.dev_server",
        args=("--port", str(port), "--ui-port", str(ui_port), "--db-file", str(db_file)),
        env=env,
        log_path=logs / f"{SERVER_NAME}.log",
        ready=f"Temporal dev server on {address};",
        own_group=True,
    )
    try:
        await server.start()
        # workers stop first: they would only retry against a server gone
        async with started_workers(env, logs, replicas) as workers:
            yield Cluster(address, ui_port, db_file, server, workers)
    finally:
        await uninterrupted(_stop_all([server]))
