"""`python -m starters.codec_server [--port 8081] [--origin URL ...]`: lets the Temporal Web UI show
encrypted payloads in clear, with the `ORDERS_PAYLOAD_KEY` of this process (see infra/codec.py).

The Web UI sends payloads to `POST /decode` (and `/encode`) from the browser, so the key never
leaves this machine and the Temporal server never sees it. Point the UI at it: start the dev server
with `python -m starters.dev_server --ui-codec-endpoint http://localhost:8081`, or set the codec
endpoint in the UI's settings.

It guards who may ask (infra/codec_http.py): the Web UI's origins (`--origin`), the host names it
serves, a body's size, and with `ORDERS_CODEC_TOKEN` a bearer token.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from http.server import ThreadingHTTPServer

from infra import cli
from infra.codec import KEY_VARIABLE, EncryptionCodec, PayloadKeyError, codec_from_environment
from infra.codec_http import CODEC_PORT, LOOPBACK, TOKEN_VARIABLE, Policy, handler_for

DEFAULT_ORIGIN = "http://localhost:8233"


async def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m starters.codec_server", description=__doc__)
    parser.add_argument("--port", type=cli.port_number, default=CODEC_PORT)
    parser.add_argument(
        "--origin",
        action="append",
        help=f"a Web UI's address the browser may ask from (repeatable; {DEFAULT_ORIGIN})",
    )
    args = parser.parse_args(argv)
    try:
        codec = codec_from_environment()
    except PayloadKeyError as error:
        raise cli.BadInputError(str(error)) from error
    if codec is None:
        raise cli.BadInputError(f"{KEY_VARIABLE} is not set: there is nothing to decrypt")
    origins = args.origin or [DEFAULT_ORIGIN]
    token = os.environ.get(TOKEN_VARIABLE, "").strip() or None
    policy = Policy.for_port(args.port, origins, token)
    try:
        server = ThreadingHTTPServer((LOOPBACK, args.port), handler_for(codec, policy))
    except OSError as error:
        raise cli.RefusedError(f"--port {args.port}: cannot listen: {error}") from error
    try:
        await serve_until_interrupted(server, codec, ", ".join(origins))
    finally:
        server.server_close()
    return cli.EXIT_OK


async def serve_until_interrupted(
    server: ThreadingHTTPServer, codec: EncryptionCodec, origin: str
) -> None:
    """Serve in a thread until Ctrl-C (SIGINT) or SIGTERM, then stop that thread: a signal that
    only cancelled the wait would leave the thread serving, and the process waiting for it."""
    stop = cli.interruption()  # before the start line: whoever reads it may signal at once
    serving = asyncio.create_task(asyncio.to_thread(server.serve_forever))
    where = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"codec server at {where} for {origin} (key {codec.key_id.decode()})", flush=True)
    try:
        await stop.wait()
    finally:
        await asyncio.to_thread(server.shutdown)  # serve_forever returns within its poll
        await serving


if __name__ == "__main__":
    cli.run(main)
