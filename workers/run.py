"""`python -m workers.run [--service all|NAME[,NAME...]]`: the workers of one, several or all
services in one process, until SIGINT or SIGTERM; in-flight activities are drained first."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from temporalio.client import Client

from domain.services import Service
from infra import cli
from infra.client import connect, describe
from infra.data_dir import data_dir
from workers.pool import running_workers


def parse_services(text: str) -> list[Service]:
    if text.strip() == "all":
        return list(Service)
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = {service.value: service for service in Service}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise cli.BadInputError(
            f"--service: unknown service {', '.join(unknown) or '(none)'}; "
            f"choose all or some of {', '.join(known)}"
        )
    return [known[name] for name in names]


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m workers.run", description=__doc__)
    parser.add_argument(
        "--service",
        default="all",
        help="all (default), or a comma-separated list of: "
        + ", ".join(service.value for service in Service),
    )
    args = parser.parse_args(argv)
    services = parse_services(args.service)
    client = client or await connect()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await _run_until(stop, client, services)
    except RuntimeError as error:  # a worker gave up, e.g. its namespace does not exist
        raise cli.RefusedError(f"a worker failed: {error}") from error
    print("stopped: every worker has shut down", flush=True)
    return cli.EXIT_OK


async def _run_until(stop: asyncio.Event, client: Client, services: Sequence[Service]) -> None:
    async with running_workers(client, services, data_dir()):
        for service in services:
            print(
                f"worker {service.value}: task queue {service.task_queue}, "
                f"{describe(client)}, data in {data_dir()}",
                flush=True,
            )
        await stop.wait()
        print("stopping: draining in-flight tasks...", flush=True)


if __name__ == "__main__":
    cli.run(main)
