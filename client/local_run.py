"""A Temporal server and workers for a command that runs orders on this machine (the demo, the
comparison): the server at TEMPORAL_ADDRESS, or an embedded dev server started there when none
answers (with a codec server for its Web UI when payloads are encrypted); every service's workers
in this process, or none when they run elsewhere (`--no-workers`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from rich.console import Console
from temporalio.client import Client

from domain.services import Service
from infra import cli
from infra.client import connect, connect_config
from infra.codec import codec_from_environment
from infra.codec_http import CODEC_PORT, serving_in_background
from infra.data_dir import data_dir
from infra.dev_server import (
    DEFAULT_UI_PORT,
    DevServerError,
    PortInUseError,
    default_db_file,
    port_is_free,
    start_dev_server,
)
from infra.metrics import DEMO_METRICS_PORT
from infra.search_attributes import ensure_search_attributes
from workers.deployment import label, worker_version
from workers.pool import running_workers


@dataclass(frozen=True)
class ServerInUse:
    client: Client
    embedded: bool
    """Started here, for this run: its deployment's routing is this run's to move."""


@contextlib.asynccontextmanager
async def temporal_server(console: Console) -> AsyncIterator[ServerInUse]:
    """A client of the server at TEMPORAL_ADDRESS, starting a dev server there if none answers."""
    target = str(connect_config()["target_host"])
    host, _, port_text = target.rpartition(":")
    local = host in ("localhost", "127.0.0.1", "")
    if local and port_text.isdigit() and not 1 <= int(port_text) <= 65535:
        raise cli.BadInputError(f"TEMPORAL_ADDRESS {target}: the port must be 1 to 65535")
    if local and port_text.isdigit() and port_is_free(int(port_text)):
        ui_port = DEFAULT_UI_PORT if port_is_free(DEFAULT_UI_PORT) else None
        db_file = default_db_file()
        with _codec_server_for(ui_port, console) as codec_endpoint:
            try:
                server = await start_dev_server(
                    port=int(port_text),
                    ui_port=ui_port,
                    db_file=db_file,
                    ui=ui_port is not None,
                    ui_codec_endpoint=codec_endpoint,
                )
            except (DevServerError, PortInUseError) as error:  # PortInUse: taken since we looked
                raise cli.RefusedError(str(error)) from error
            if ui_port is None:
                console.print(f"port {DEFAULT_UI_PORT} is taken: the Web UI is off this time")
            console.print(f"started a Temporal dev server on {target} (history in {db_file})")
            try:
                yield ServerInUse(await connect(), embedded=True)
            finally:
                await server.shutdown()
    else:
        client = await connect()
        console.print(f"using the Temporal server at {target}")
        added = await ensure_search_attributes(client)
        if added:
            console.print(f"registered the search attributes {', '.join(added)}")
        yield ServerInUse(client, embedded=False)


@contextlib.contextmanager
def _codec_server_for(ui_port: int | None, console: Console) -> Iterator[str | None]:
    """With `ORDERS_PAYLOAD_KEY` set, the histories are encrypted: a codec server (in this
    process, on the usual port when it is free) lets the demo's Web UI show them in clear."""
    codec = codec_from_environment()
    if codec is None or ui_port is None:
        yield None
        return
    port = CODEC_PORT if port_is_free(CODEC_PORT) else 0
    with serving_in_background(codec, port, [f"http://localhost:{ui_port}"]) as url:
        console.print(f"codec server at {url} for the Web UI (key {codec.key_id.decode()})")
        yield url


@contextlib.asynccontextmanager
async def workers_here(
    client: Client,
    start: bool,
    console: Console,
    *,
    metrics: bool = False,
    owns_server: bool = False,
) -> AsyncIterator[None]:
    """The workers of every service, in this process; or none (`--no-workers`). With `metrics`,
    their `/metrics` endpoint too, on the demo's port when it is free.

    They are this build's version of the Worker Deployment (`workers.deployment`). On a server
    this run started (`owns_server`) they are made current whatever was (its history file may
    hold an earlier build's orders, which wait for their build); on anyone else's, a build that
    is not current is refused, not left idle with every order waiting."""
    if not start:
        console.print("using the workers already running")
        yield
        return
    port = DEMO_METRICS_PORT if metrics and port_is_free(DEMO_METRICS_PORT) else None
    version = worker_version()
    async with running_workers(
        client,
        list(Service),
        data_dir(),
        metrics_port=port,
        version=version,
        promote=owns_server,
    ) as running:
        routing = running.routing
        if routing is not None and not routing.takes_new_orders:
            raise cli.RefusedError(routing.line())
        note = f"workers of {', '.join(s.value for s in Service)} running here as {label(version)}"
        if metrics:
            note += (
                f"; metrics at http://localhost:{port}/metrics"
                if port
                else f"; port {DEMO_METRICS_PORT} is taken: no metrics endpoint this time"
            )
        console.print(note)
        yield
