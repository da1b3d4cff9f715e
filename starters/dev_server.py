"""`python -m starters.dev_server [--port 7233] [--ui-port 8233] [--db-file PATH]`: the Temporal
dev server with its Web UI, history kept in a SQLite file, the project's search attributes
registered. Runs until Ctrl-C."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from infra import cli
from infra.dev_server import (
    DEFAULT_PORT,
    DEFAULT_UI_PORT,
    DevServerError,
    PortInUseError,
    default_db_file,
    start_dev_server,
)


def _db_file(given: Path | None) -> Path:
    """`--db-file`, or the default; a directory there is bad input, not a server that cannot
    open its database."""
    db_file = given or default_db_file()
    if db_file.is_dir():
        raise cli.BadInputError(f"--db-file {db_file}: is a directory, not a file")
    return db_file


async def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m starters.dev_server", description=__doc__)
    parser.add_argument(
        "--port", type=cli.port_number, default=DEFAULT_PORT, help="gRPC port (7233)"
    )
    parser.add_argument(
        "--ui-port", type=cli.port_number, default=DEFAULT_UI_PORT, help="Web UI port (8233)"
    )
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
    db_file = _db_file(args.db_file)
    try:
        server = await start_dev_server(
            port=args.port,
            ui_port=args.ui_port,
            db_file=db_file,
            ui_codec_endpoint=args.ui_codec_endpoint,
        )
    except (PortInUseError, DevServerError) as error:
        raise cli.RefusedError(str(error)) from error
    try:
        stop = cli.interruption()
        print(
            f"Temporal dev server on localhost:{args.port}; "
            f"Web UI http://localhost:{args.ui_port}; history in {db_file}. Ctrl-C stops it.",
            flush=True,
        )
        await stop.wait()
    finally:
        await server.shutdown()
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
