"""`python -m starters.codec_server --port P` as a user runs it for the Web UI, with
`ORDERS_PAYLOAD_KEY` exported: it decrypts what was encrypted under that key and nothing else,
stops on Ctrl-C, and refuses to start, in one line, without a key or without its port."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from infra.codec import KEY_VARIABLE, EncryptionCodec
from infra.codec_http import MAX_BODY_BYTES, TOKEN_VARIABLE
from infra.dev_server import port_is_free
from starters.codec_server import DEFAULT_ORIGIN
from tests.commands.processes import ended, plain_env, started, taken, until_line
from tests.support import Result, free_port, one_line_error

PROG = "python -m starters.codec_server"
STOP_SECONDS = 30.0
"""The codec server stops within half a second (its serving loop's poll); this bounds the wait."""

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class CodecServer:
    url: str
    codec: EncryptionCodec
    process: asyncio.subprocess.Process


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def a_key() -> tuple[str, EncryptionCodec]:
    """A key as a user exports it (URL-safe base64 of 32 random bytes), and its codec."""
    key = os.urandom(32)
    return base64.urlsafe_b64encode(key).decode(), EncryptionCodec(key)


def start_line(port: int, codec: EncryptionCodec) -> str:
    return (
        f"codec server at http://127.0.0.1:{port} for {DEFAULT_ORIGIN} "
        f"(key {codec.key_id.decode()})"
    )


@pytest.fixture(scope="module")
async def codec_server() -> AsyncIterator[CodecServer]:
    text, codec = a_key()
    port = free_port()
    env = plain_env(**{KEY_VARIABLE: text})
    async with started(env, "starters.codec_server", "--port", str(port)) as process:
        await until_line(process, start_line(port, codec))
        yield CodecServer(f"http://127.0.0.1:{port}", codec, process)


def post(url: str, payloads: Payloads) -> Answer:
    """What the Web UI's browser sends; blocking, so the tests run it in a thread."""
    request = urllib.request.Request(
        url,
        data=json_format.MessageToJson(payloads).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Answer(response.status, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read())


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_it_decrypts_a_payload_encrypted_with_its_key(codec_server: CodecServer) -> None:
    original = plain('{"order_id": "happy-1"}')
    sealed = await codec_server.codec.encode([original])

    answer = await asyncio.to_thread(post, f"{codec_server.url}/decode", Payloads(payloads=sealed))

    assert answer.status == 200, answer.body
    assert json_format.Parse(answer.body, Payloads()) == Payloads(payloads=[original])


async def test_it_encrypts_what_the_ui_sends_back_under_its_key(
    codec_server: CodecServer,
) -> None:
    original = plain('{"approver": "ada"}')

    answer = await asyncio.to_thread(
        post, f"{codec_server.url}/encode", Payloads(payloads=[original])
    )

    assert answer.status == 200, answer.body
    (sealed,) = json_format.Parse(answer.body, Payloads()).payloads
    assert sealed.metadata["encryption-key-id"] == codec_server.codec.key_id
    assert await codec_server.codec.decode([sealed]) == [original]


async def test_a_payload_of_another_key_is_refused_with_400_naming_both_keys(
    codec_server: CodecServer,
) -> None:
    _, other = a_key()
    sealed = await other.encode([plain("secret")])

    answer = await asyncio.to_thread(post, f"{codec_server.url}/decode", Payloads(payloads=sealed))

    assert answer.status == 400
    assert json.loads(answer.body) == {
        "error": f"a payload was encrypted with key {other.key_id.decode()}, "
        f"not with {KEY_VARIABLE} ({codec_server.codec.key_id.decode()})"
    }


async def test_an_unknown_path_is_404(codec_server: CodecServer) -> None:
    answer = await asyncio.to_thread(post, f"{codec_server.url}/decrypt", Payloads())

    assert answer.status == 404
    assert json.loads(answer.body) == {"error": "no /decrypt: use /decode or /encode"}


async def refused(env: dict[str, str], *args: str) -> Result:
    async with started(env, "starters.codec_server", *args) as process:
        return await ended(process, STOP_SECONDS)


async def test_without_a_key_it_exits_2_in_one_line() -> None:
    result = await refused(plain_env(), "--port", str(free_port()))

    assert one_line_error(result, 2) == (
        f"{PROG}: error: {KEY_VARIABLE} is not set: there is nothing to decrypt"
    )


async def test_sigint_stops_it_with_exit_0_and_frees_its_port() -> None:
    """Ctrl-C used to leave it serving: the signal cancelled the command, whose thread went on
    serving, and the interpreter waited for that thread forever."""
    text, codec = a_key()
    port = free_port()
    env = plain_env(**{KEY_VARIABLE: text})
    async with started(env, "starters.codec_server", "--port", str(port)) as process:
        await until_line(process, start_line(port, codec))
        process.send_signal(signal.SIGINT)
        result = await ended(process, STOP_SECONDS)

    assert (result.code, result.stderr) == (0, "")
    assert port_is_free(port)


async def test_a_port_in_use_is_refused_in_one_line_with_exit_1() -> None:
    """It was a traceback (OSError: Address already in use)."""
    text, _ = a_key()
    port = free_port()
    with taken(port):
        result = await refused(plain_env(**{KEY_VARIABLE: text}), "--port", str(port))

    assert one_line_error(result, 1) == (
        f"{PROG}: error: --port {port}: cannot listen: [Errno 98] Address already in use"
    )


async def test_a_port_out_of_range_is_bad_input_in_one_line_with_exit_2() -> None:
    """It was a traceback (OverflowError from the socket)."""
    text, _ = a_key()

    result = await refused(plain_env(**{KEY_VARIABLE: text}), "--port", "99999")

    assert one_line_error(result, 2) == (
        f"{PROG}: error: argument --port: must be 1 to 65535 (got 99999) (see --help)"
    )


# -- who may ask: the browser's Origin, the Host, the body's size, the token ---------------------


@dataclass(frozen=True)
class Reply:
    status: int
    allowed_origin: str | None
    body: bytes


def ask(
    server: CodecServer, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> Reply:
    """A request whose every header the test sets (a browser's, a rebinding page's, one that
    claims a huge body without sending it); blocking, run in a thread."""
    port = int(server.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in {"Host": f"127.0.0.1:{port}", **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Reply(
            response.status, response.getheader("Access-Control-Allow-Origin"), response.read()
        )
    finally:
        connection.close()


def decode_request(sealed: list[Payload]) -> tuple[dict[str, str], bytes]:
    body = json_format.MessageToJson(Payloads(payloads=sealed)).encode()
    return {"Content-Type": "application/json", "Content-Length": str(len(body))}, body


async def test_the_web_uis_origin_is_answered_with_cors_for_it_alone(
    codec_server: CodecServer,
) -> None:
    headers, body = decode_request(await codec_server.codec.encode([plain("{}")]))

    reply = await asyncio.to_thread(
        ask, codec_server, "POST", "/decode", {**headers, "Origin": DEFAULT_ORIGIN}, body
    )

    assert (reply.status, reply.allowed_origin) == (200, DEFAULT_ORIGIN)


@pytest.mark.parametrize("method", ["POST", "OPTIONS"])
async def test_a_page_of_another_origin_is_refused_403_and_given_no_cors(
    codec_server: CodecServer, method: str
) -> None:
    headers, body = decode_request(await codec_server.codec.encode([plain("{}")]))
    evil = {**headers, "Origin": "http://evil.example"}

    reply = await asyncio.to_thread(ask, codec_server, method, "/decode", evil, body)

    assert (reply.status, reply.allowed_origin) == (403, None)
    assert json.loads(reply.body) == {
        "error": f"Origin 'http://evil.example': allowed are {DEFAULT_ORIGIN}"
    }


async def test_a_host_it_does_not_serve_is_refused_403_against_dns_rebinding(
    codec_server: CodecServer,
) -> None:
    headers, body = decode_request(await codec_server.codec.encode([plain("{}")]))
    port = codec_server.url.rsplit(":", 1)[1]

    reply = await asyncio.to_thread(
        ask, codec_server, "POST", "/decode", {**headers, "Host": f"evil.example:{port}"}, body
    )

    assert reply.status == 403
    assert json.loads(reply.body)["error"].startswith(f"Host 'evil.example:{port}': ")


@pytest.mark.parametrize(
    ("length", "status"), [(str(MAX_BODY_BYTES + 1), 413), ("lots", 411)], ids=["huge", "no-number"]
)
async def test_a_body_above_the_limit_or_of_no_length_is_refused_unread(
    codec_server: CodecServer, length: str, status: int
) -> None:
    reply = await asyncio.to_thread(
        ask, codec_server, "POST", "/decode", {"Content-Length": length}
    )

    assert reply.status == status, reply.body


@pytest.fixture(scope="module")
async def guarded_server() -> AsyncIterator[CodecServer]:
    """One started with `ORDERS_CODEC_TOKEN`: it wants the token on every decode."""
    text, codec = a_key()
    port = free_port()
    env = plain_env(**{KEY_VARIABLE: text, TOKEN_VARIABLE: GUARD_TOKEN})
    async with started(env, "starters.codec_server", "--port", str(port)) as process:
        await until_line(process, start_line(port, codec))
        yield CodecServer(f"http://127.0.0.1:{port}", codec, process)


GUARD_TOKEN = "s3cr3t-for-the-ui"


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer wrong", 401), (f"Bearer {GUARD_TOKEN}", 200)],
    ids=["none", "wrong", "right"],
)
async def test_with_a_token_set_a_request_without_it_is_refused_401(
    guarded_server: CodecServer, authorization: str | None, status: int
) -> None:
    headers, body = decode_request(await guarded_server.codec.encode([plain("{}")]))
    if authorization is not None:
        headers["Authorization"] = authorization

    reply = await asyncio.to_thread(ask, guarded_server, "POST", "/decode", headers, body)

    assert reply.status == status, reply.body
