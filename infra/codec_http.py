"""The codec server's HTTP side: what the Temporal Web UI's browser may ask of it (`Policy`) and
how it answers (`handler_for`), for `python -m starters.codec_server` and the demo alike.

It decrypts for whoever may ask, so it is safe to leave running: it listens on loopback only; it
answers a browser only from the Web UI's origin(s) (403 for another `Origin`), and only under the
host names it serves (403 for another `Host`: a page that rebinds its own domain to 127.0.0.1
reaches the port, but not with this host name); it refuses a body above 4 MiB (413) or without a
length (411); and with `ORDERS_CODEC_TOKEN` set it asks for `Authorization: Bearer <token>` (401),
for a UI deployed behind its own authentication that forwards it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra.codec import EncryptionCodec, PayloadKeyError

CODEC_PORT = 8081
"""Where a codec server listens unless told otherwise."""
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


@contextlib.contextmanager
def serving_in_background(
    codec: EncryptionCodec, port: int, origins: Sequence[str], token: str | None = None
) -> Iterator[str]:
    """A codec server in a thread of this process, for as long as the block runs; its URL.
    `port` 0 takes a free one (the policy then names the port taken)."""
    server = ThreadingHTTPServer((LOOPBACK, port), BaseHTTPRequestHandler)
    taken = int(server.server_address[1])
    server.RequestHandlerClass = handler_for(codec, Policy.for_port(taken, origins, token))
    thread = threading.Thread(target=server.serve_forever, name="codec-server", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{taken}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
