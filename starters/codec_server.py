"""`python -m starters.codec_server [--port 8081] [--origin URL ...]`: lets the Temporal Web UI show
encrypted payloads in clear, with the `ORDERS_PAYLOAD_KEY` of this process (see infra/codec.py).

The Web UI sends payloads to `POST /decode` (and `/encode`) from the browser, so the key never
leaves this machine and the Temporal server never sees it. Point the UI at it: start the dev server
with `python -m starters.dev_server --ui-codec-endpoint http://localhost:8081`, or set the codec
endpoint in the UI's settings.

It decrypts for whoever may ask, so it is safe to leave running: it listens on loopback only; it
answers a browser only from the Web UI's origin(s) (`--origin`, 403 for another `Origin`), and
only under the host names it serves (403 for another `Host`: a page that rebinds its own domain
to 127.0.0.1 reaches the port, but not with this host name); it refuses a body above 4 MiB (413)
or without a length (411); and with `ORDERS_CODEC_TOKEN` set it asks for `Authorization: Bearer
<token>` (401), for a UI deployed behind its own authentication that forwards it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra import cli
from infra.codec import KEY_VARIABLE, EncryptionCodec, PayloadKeyError, codec_from_environment

DEFAULT_PORT = 8081
DEFAULT_ORIGIN = "http://localhost:8233"
LOOPBACK = "127.0.0.1"
TOKEN_VARIABLE = "ORDERS_CODEC_TOKEN"
MAX_BODY_BYTES = 4 * 1024 * 1024
"""Four times the Temporal server's default limit on one payload: a page of the Web UI's
history sends many, a request above it is no Web UI's."""


@dataclass(frozen=True)
class Policy:
    """Who may ask this server to decrypt, and how much at once."""

    origins: frozenset[str]
    hosts: frozenset[str]
    token: str | None = None
    max_body: int = MAX_BODY_BYTES

    @classmethod
    def for_port(cls, port: int, origins: Sequence[str], token: str | None) -> Policy:
        return cls(
            frozenset(origins), frozenset({f"{LOOPBACK}:{port}", f"localhost:{port}"}), token
        )

    def refusal(
        self, headers: Mapping[str, str], *, preflight: bool = False
    ) -> tuple[HTTPStatus, str] | None:
        """Why this request is refused, or None. A request without `Origin` comes from no
        browser (the Temporal CLI, curl) and is judged by the rest."""
        host = headers.get("Host")
        if host not in self.hosts:
            return (
                HTTPStatus.FORBIDDEN,
                f"Host {host!r}: this server answers only {_listed(self.hosts)}",
            )
        origin = headers.get("Origin")
        if origin is not None and origin not in self.origins:
            return HTTPStatus.FORBIDDEN, f"Origin {origin!r}: allowed are {_listed(self.origins)}"
        if preflight:
            return None
        if self.token is not None and not hmac.compare_digest(
            headers.get("Authorization", "").encode(), f"Bearer {self.token}".encode()
        ):
            return (
                HTTPStatus.UNAUTHORIZED,
                f"Authorization: a bearer token is required ({TOKEN_VARIABLE})",
            )
        length = headers.get("Content-Length", "")
        if not length.isdigit():
            return HTTPStatus.LENGTH_REQUIRED, "Content-Length: required, a number of bytes"
        if int(length) > self.max_body:
            return (
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"Content-Length {length}: at most {self.max_body} bytes",
            )
        return None


def _listed(names: frozenset[str]) -> str:
    return ", ".join(sorted(names))


def transcode(codec: EncryptionCodec, path: str, body: bytes) -> bytes:
    """A codec server's request and answer: `{"payloads": [...]}` in protobuf JSON."""
    payloads = json_format.Parse(body, Payloads())
    if path == "/decode":
        converted = [codec.decrypt(payload) for payload in payloads.payloads]
    else:
        converted = asyncio.run(codec.encode(list(payloads.payloads)))
    return json_format.MessageToJson(Payloads(payloads=converted)).encode()


def handler_for(codec: EncryptionCodec, policy: Policy) -> type[BaseHTTPRequestHandler]:
    class CodecHandler(BaseHTTPRequestHandler):
        def do_OPTIONS(self) -> None:  # the browser's preflight
            if self._refused(preflight=True):
                return
            self._reply(HTTPStatus.OK, b"")

        def do_POST(self) -> None:
            if self._refused():
                return
            if self.path not in ("/decode", "/encode"):
                self._reply(HTTPStatus.NOT_FOUND, _error(f"no {self.path}: use /decode or /encode"))
                return
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                answer = transcode(codec, self.path, body)
            except (json_format.ParseError, PayloadKeyError) as error:
                self._reply(HTTPStatus.BAD_REQUEST, _error(str(error)))
                return
            self._reply(HTTPStatus.OK, answer)

        def _refused(self, *, preflight: bool = False) -> bool:
            refusal = policy.refusal(dict(self.headers.items()), preflight=preflight)
            if refusal is None:
                return False
            status, why = refusal
            self.close_connection = True  # the body, if any, is left unread
            self._reply(status, _error(why))
            return True

        def _reply(self, status: HTTPStatus, body: bytes) -> None:
            self.send_response(status)
            origin = self.headers.get("Origin")
            if origin in policy.origins:
                self.send_header("Access-Control-Allow-Origin", origin)
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header(
                    "Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization"
                )
                self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Vary", "Origin")
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
