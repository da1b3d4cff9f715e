"""`python -m starters.codec_server [--port 8081] [--origin URL]`: lets the Temporal Web UI show
encrypted payloads in clear, with the `ORDERS_PAYLOAD_KEY` of this process (see infra/codec.py).

The Web UI sends payloads to `POST /decode` (and `/encode`) from the browser, so the key never
leaves this machine and the Temporal server never sees it. Point the UI at it: start the dev server
with `python -m starters.dev_server --ui-codec-endpoint http://localhost:8081`, or set the codec
endpoint in the UI's settings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra import cli
from infra.codec import KEY_VARIABLE, EncryptionCodec, PayloadKeyError, codec_from_environment

DEFAULT_PORT = 8081
DEFAULT_ORIGIN = "http://localhost:8233"


def transcode(codec: EncryptionCodec, path: str, body: bytes) -> bytes:
    """A codec server's request and answer: `{"payloads": [...]}` in protobuf JSON."""
    payloads = json_format.Parse(body, Payloads())
    if path == "/decode":
        converted = [codec.decrypt(payload) for payload in payloads.payloads]
    else:
        converted = asyncio.run(codec.encode(list(payloads.payloads)))
    return json_format.MessageToJson(Payloads(payloads=converted)).encode()


def handler_for(codec: EncryptionCodec, origin: str) -> type[BaseHTTPRequestHandler]:
    class CodecHandler(BaseHTTPRequestHandler):
        def do_OPTIONS(self) -> None:  # the browser's preflight
            self._reply(HTTPStatus.OK, b"")

        def do_POST(self) -> None:
            if self.path not in ("/decode", "/encode"):
                self._reply(HTTPStatus.NOT_FOUND, _error(f"no {self.path}: use /decode or /encode"))
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                answer = transcode(codec, self.path, body)
            except (json_format.ParseError, PayloadKeyError) as error:
                self._reply(HTTPStatus.BAD_REQUEST, _error(str(error)))
                return
            self._reply(HTTPStatus.OK, answer)

        def _reply(self, status: HTTPStatus, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type, X-Namespace")
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: payloads are the one thing this server must not print."""

    return CodecHandler


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


async def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m starters.codec_server", description=__doc__)
    parser.add_argument("--port", type=cli.port_number, default=DEFAULT_PORT)
    parser.add_argument(
        "--origin", default=DEFAULT_ORIGIN, help="the Web UI's address (for the browser's CORS)"
    )
    args = parser.parse_args(argv)
    try:
        codec = codec_from_environment()
    except PayloadKeyError as error:
        raise cli.BadInputError(str(error)) from error
    if codec is None:
        raise cli.BadInputError(f"{KEY_VARIABLE} is not set: there is nothing to decrypt")
    try:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), handler_for(codec, args.origin))
    except OSError as error:
        raise cli.RefusedError(f"--port {args.port}: cannot listen: {error}") from error
    try:
        await serve_until_interrupted(server, codec, args.origin)
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
