"""`python -m workers.run [--service all|NAME[,NAME...]] [--metrics-port PORT]
[--drain-timeout SECONDS] [--deployment NAME] [--build-id ID | --unversioned]
[--no-carrier-simulator]`: the workers of one, several or all services in one process, until
SIGINT or SIGTERM.

At start it prints one line per service (`worker payments: task queue payments, namespace
default, server localhost:7233`) before serving, and, once they poll, which build they are and
whether new orders come to it.

The workers are a version of a Worker Deployment (`--deployment`/`ORDERS_DEPLOYMENT`, default
`orders`; `--build-id`/`ORDERS_BUILD_ID`, default the project's version): each order stays on the
build it started on, so starting the workers of a new build moves no order in flight. The first
build of a deployment is made current at once; a later one takes new orders once an operator
makes it current (`workers.deployment`). `--unversioned`: for a server without Worker
Deployments; the workers then run every order, whichever build started it.

On the first SIGINT or SIGTERM the workers stop polling and drain their in-flight activities for
up to the drain timeout, then cancel what is left; the process exits 0 once they are down. A
shutdown is bounded: if cancelled activities or the teardown still hang `SHUTDOWN_GRACE` after
the drain, or on a second signal, the process exits 1 at once (Temporal retries the abandoned
activities elsewhere).

Metrics (`--metrics-port`, or `ORDERS_METRICS_PORT`; unset or 0: none): the SDK's runtime
metrics and the business counters at `http://<host>:<port>/metrics` (`infra.metrics`).
Logs: structured, on stderr (`infra.logs`; `ORDERS_LOG_FORMAT=json|text`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion

from domain.services import Service
from infra import cli, logs
from infra.client import connect
from infra.data_dir import data_dir
from infra.metrics import (
    MetricsConfigError,
    MetricsEndpoint,
    metrics_port,
    start_metrics_endpoint,
)
from infra.telemetry import configure_tracing, worker_service_name
from infra.token_seal import SealKeyError, unsealing_key
from workers.deployment import (
    BUILD_ID_ENV,
    DEFAULT_DEPLOYMENT,
    DEPLOYMENT_ENV,
    worker_version,
)
from workers.pool import DRAIN_TIMEOUT, SHUTDOWN_GRACE, running_workers

DRAIN_TIMEOUT_ENV = "ORDERS_DRAIN_TIMEOUT"
MAX_DRAIN_TIMEOUT = timedelta(days=1)
"""A longer drain is a mistake, not a plan (and the watchdog's timer cannot hold just any)."""

logger = logging.getLogger(__name__)


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


def start_line(service: Service, client: Client) -> str:
    """The one line a worker prints at start: what it serves, and where."""
    return (
        f"worker {service.value}: task queue {service.task_queue}, "
        f"namespace {client.namespace}, server {client.service_client.config.target_host}"
    )


def _parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog="python -m workers.run", description=__doc__)
    parser.add_argument(
        "--service",
        default="all",
        help="all (default), or a comma-separated list of: "
        + ", ".join(service.value for service in Service),
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve Prometheus metrics at http://<host>:PORT/metrics "
        "(default: $ORDERS_METRICS_PORT; 0 or unset: no endpoint)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=None,
        help="seconds in-flight activities get to finish on shutdown, "
        f"0 to {MAX_DRAIN_TIMEOUT.total_seconds():g} "
        f"(default: ${DRAIN_TIMEOUT_ENV} or {DRAIN_TIMEOUT.total_seconds():g})",
    )
    parser.add_argument(
        "--deployment",
        default=None,
        help=f"the Worker Deployment these workers are a version of "
        f"(default: ${DEPLOYMENT_ENV} or {DEFAULT_DEPLOYMENT})",
    )
    parser.add_argument(
        "--no-carrier-simulator",
        action="store_true",
        help="shipping without the simulated carrier: something else sends the carrier's "
        "reports (your carrier's integration; the upgrade rehearsal's own simulator)",
    )
    versioning = parser.add_mutually_exclusive_group()
    versioning.add_argument(
        "--build-id",
        default=None,
        help=f"this build's id (default: ${BUILD_ID_ENV} or the project's version)",
    )
    versioning.add_argument(
        "--unversioned",
        action="store_true",
        help="no Worker Deployment (a server without them): every order runs on these workers",
    )
    return parser


def _version(args: argparse.Namespace) -> WorkerDeploymentVersion | None:
    if args.unversioned:
        if args.deployment is not None:
            raise cli.BadInputError("--deployment: not with --unversioned")
        return None
    return worker_version(args.deployment, args.build_id)


async def main(argv: Sequence[str] | None = None, client: Client | None = None) -> int:
    args = _parser().parse_args(argv)
    services = parse_services(args.service)
    drain = _drain_timeout(args.drain_timeout)
    version = _version(args)
    try:
        port = metrics_port(args.metrics_port)
    except MetricsConfigError as error:
        raise cli.BadInputError(str(error)) from error
    opens = _payments_key(services)
    logs.configure(level=logging.INFO, services=[service.value for service in services])
    stop = asyncio.Event()  # listening before the start line: whoever reads it may signal at once
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _on_signal, stop, drain)
    endpoint = _serve_metrics(port) if port is not None else None
    configure_tracing(worker_service_name(services))  # spans named after the service served
    # On the endpoint's runtime from the start, so the workers need no second connection for it.
    client = client or await connect(runtime=endpoint.runtime if endpoint is not None else None)
    for service in services:
        print(start_line(service, client), flush=True)
    if opens is not None:
        logging.getLogger(__name__).info("payments opens tokens sealed for key %s", opens)
    if endpoint is not None:
        print(f"metrics at {endpoint.url}", flush=True)
    try:
        async with running_workers(
            client,
            services,
            data_dir(),
            metrics_port=port,
            drain_timeout=drain,
            version=version,
            simulate_carrier=not args.no_carrier_simulator,
        ) as running:
            print(running.routing.line() if running.routing else "unversioned", flush=True)
            await stop.wait()
            print(
                f"stopping: draining in-flight tasks (up to {drain.total_seconds():g} s)...",
                flush=True,
            )
    except RuntimeError as error:  # a worker gave up, e.g. its namespace does not exist
        raise cli.RefusedError(f"a worker failed: {error}") from error
    finally:
        if endpoint is not None:
            endpoint.close()
    print("stopped: every worker has shut down", flush=True)
    return cli.EXIT_OK


def _payments_key(services: Sequence[Service]) -> str | None:
    """The id of the key the payments worker opens tokens with, checked before it starts: a
    malformed `ORDERS_PAYMENTS_KEY` is bad input, not a worker failing at its first order."""
    if Service.PAYMENTS not in services:
        return None
    try:
        return unsealing_key(data_dir()).sealing.key_id
    except SealKeyError as error:
        raise cli.BadInputError(str(error)) from error


def _drain_timeout(flag: float | None) -> timedelta:
    raw = os.environ.get(DRAIN_TIMEOUT_ENV, "").strip()
    source = "--drain-timeout" if flag is not None else DRAIN_TIMEOUT_ENV
    try:
        seconds = flag if flag is not None else float(raw) if raw else None
    except ValueError:
        raise cli.BadInputError(f"{DRAIN_TIMEOUT_ENV}: not a number (got {raw!r})") from None
    if seconds is None:
        return DRAIN_TIMEOUT
    # `not <=` also refuses nan; inf and huge numbers would overflow timedelta and the watchdog
    if not 0 <= seconds <= MAX_DRAIN_TIMEOUT.total_seconds():
        raise cli.BadInputError(
            f"{source}: must be 0 to {MAX_DRAIN_TIMEOUT.total_seconds():g} seconds "
            f"(got {seconds:g})"
        )
    return timedelta(seconds=seconds)


def _serve_metrics(port: int) -> MetricsEndpoint:
    try:
        return start_metrics_endpoint(port)
    except OSError as error:
        raise cli.RefusedError(f"--metrics-port {port}: cannot serve metrics: {error}") from error


def _on_signal(stop: asyncio.Event, drain: timedelta) -> None:
    """First signal: drain, under a deadline kept by a thread (the event loop may be the thing
    that is stuck). Second signal: stop now."""
    if stop.is_set():
        _give_up("second signal: exiting without waiting for the drain")
    stop.set()
    deadline = drain + SHUTDOWN_GRACE
    watchdog = threading.Timer(
        deadline.total_seconds(),
        _give_up,
        args=(f"shutdown still not done {deadline.total_seconds():g} s after the signal",),
    )
    watchdog.daemon = True
    watchdog.start()


def _give_up(why: str) -> None:
    logger.error("%s: abandoning the tasks in flight (Temporal retries them)", why)
    print(f"python -m workers.run: error: {why}", file=sys.stderr, flush=True)
    os._exit(cli.EXIT_REFUSED)


if __name__ == "__main__":
    cli.run(main)
