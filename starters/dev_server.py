"""`python -m starters.dev_server [--port 7233] [--ui-port 8233] [--db-file PATH]`: the Temporal
dev server with its Web UI, history kept in a SQLite file, the project's search attributes
registered. Runs until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path

from infra import cli
from infra.data_dir import data_dir
from infra.dev_server import DEFAULT_PORT, DEFAULT_UI_PORT, PortInUseError, start_dev_server


def default_db_file() -> Path:
    """Where the dev server keeps its history unless told otherwise."""
    return data_dir() / "temporal.sqlite3"


async def until_interrupted() -> None:
    """Until Ctrl-C (SIGINT) or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m starters.dev_server", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="gRPC port (7233)")
    parser.add_argument("--ui-port", type=int, default=DEFAULT_UI_PORT, help="Web UI port (8233)")
    parser.add_argument(
        "--ui-codec-endpoint",
        help="a codec server for the Web UI (python -m starters.codec_server), when payloads "
        "are encrypted (ORDERS_PAYLOAD_KEY)",
    )
    parser.add_argument(
        "--db-file",
        type=Path,
        default=None,
        help="SQLite file that keeps the history (default: <data dir>/temporal.sqlite3)",
    )
    args = parser.parse_args(argv)
    db_file: Path = args.db_file or default_db_file()
    try:
        server = await start_dev_server(
            port=args.port,
            ui_port=args.ui_port,
            db_file=db_file,
            ui_codec_endpoint=args.ui_codec_endpoint,
        )
    except PortInUseError as error:
        raise cli.RefusedError(str(error)) from error
    print(
        f"Temporal dev server on localhost:{args.port}; Web UI http://localhost:{args.ui_port}; "
        f"history in {db_file}. Ctrl-C stops it.",
        flush=True,
    )
    try:
        await until_interrupted()
    finally:
        await server.shutdown()
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
