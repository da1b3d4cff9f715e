"""With payload encryption on, every style still runs its orders to the same end, the server
holds no payment token in clear, and the project's tools (status, trace) and the Web UI's codec
server read the histories with the key."""

from __future__ import annotations

import asyncio
import os
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from client.orders import PLACEABLE_STYLES, order_status
from client.scenario_runs import ScenarioRun, run_scenarios
from domain.scenarios import DEMO_TOKEN, SCENARIOS
from domain.services import Service
from infra.codec import ENCODING, EncryptionCodec, encrypted_converter
from infra.codec_http import serving_in_background
from insight.causal_trace import EntryKind, trace_order
from tests.conftest import namespace_client
from tests.support import PATIENCE, existing_workflows, expected_workflow_ids
from tests.token_traces import files_holding, holds, stored_history
from workers.pool import running_workers

pytestmark = pytest.mark.e2e

NAMESPACE = "codec"
DECLINE_WORDING = b"the gateway declined"
"""How the payments store words a decline (stores/payments.py): a failure's message, which the
history of a declined order carries, in the activity's failure or in an event's payload."""
TOKEN_PREFIX = b"tok_"
"""What every payment token of the scenarios starts with (domain/scenarios.py)."""


@dataclass(frozen=True)
class Encrypted:
    client: Client
    """With the key: what every process of the deployment would use."""
    raw: Client
    """Without it: what the server, its database and the Web UI see."""
    codec: EncryptionCodec
    runs: list[ScenarioRun]
    data_dir: Path


@pytest.fixture(scope="module")
async def encrypted(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Encrypted]:
    codec = EncryptionCodec(os.urandom(32))
    raw = await namespace_client(dev_env, NAMESPACE)
    client = await Client.connect(
        raw.service_client.config.target_host,
        namespace=NAMESPACE,
        data_converter=encrypted_converter(codec),
    )
    data_dir = tmp_path_factory.mktemp("codec-data")
    async with running_workers(client, list(Service), data_dir):
        runs = await run_scenarios(client, SCENARIOS, PLACEABLE_STYLES, patience=PATIENCE)
        yield Encrypted(client, raw, codec, runs, data_dir)


async def test_every_style_ends_as_expected_with_encrypted_payloads(encrypted: Encrypted) -> None:
    assert [run.as_expected for run in encrypted.runs] == [True] * len(encrypted.runs)


async def test_no_history_of_any_workflow_of_an_order_holds_the_token_in_clear(
    encrypted: Encrypted,
) -> None:
    """The token reaches the participants, the shipment child and the warehouse too: every
    workflow of every order is read, as the server stores it."""
    for run in encrypted.runs:
        order_id = run.placed.order_id
        workflows = await existing_workflows(encrypted.raw, order_id)
        assert set(workflows) == expected_workflow_ids(run.scenario, run.placed.style, order_id)
        for workflow_id in workflows:
            stored = await stored_history(encrypted.raw, workflow_id)

            assert not holds(stored, DEMO_TOKEN), workflow_id
            assert TOKEN_PREFIX not in stored, workflow_id
            assert DECLINE_WORDING not in stored, workflow_id  # failures are encrypted too
            assert ENCODING in stored, workflow_id
    assert files_holding(encrypted.data_dir, DEMO_TOKEN) == []


async def test_status_and_trace_read_the_encrypted_histories(encrypted: Encrypted) -> None:
    for run in encrypted.runs:
        view = await order_status(encrypted.client, run.placed.order_id)
        trace = await trace_order(encrypted.client, run.placed.order_id)

        assert view.status == run.outcome.status
        activities = {entry.name for entry in trace.entries if entry.kind is EntryKind.ACTIVITY}
        assert "reserve_stock" in activities, run.placed.style


UI_ORIGIN = "http://ui"


@pytest.fixture
def codec_server(encrypted: Encrypted) -> Iterator[str]:
    with serving_in_background(encrypted.codec, 0, [UI_ORIGIN]) as url:
        yield url


@dataclass(frozen=True)
class Answer:
    status: int
    origin: str | None
    body: bytes


def post(url: str, payloads: Payloads) -> Answer:
    """What the Web UI's browser does; blocking, so the tests run it in a thread."""
    request = urllib.request.Request(
        url,
        data=json_format.MessageToJson(payloads).encode(),
        headers={"Content-Type": "application/json", "X-Namespace": NAMESPACE, "Origin": UI_ORIGIN},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            origin = response.headers["Access-Control-Allow-Origin"]
            return Answer(response.status, origin, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers["Access-Control-Allow-Origin"], error.read())


async def test_the_web_uis_codec_server_decrypts_what_the_server_stored(
    encrypted: Encrypted, codec_server: str
) -> None:
    run = encrypted.runs[0]
    history = await encrypted.raw.get_workflow_handle(run.placed.workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input

    answer = await asyncio.to_thread(post, f"{codec_server}/decode", started)

    assert (answer.status, answer.origin) == (200, UI_ORIGIN)
    decoded = json_format.Parse(answer.body, Payloads())
    assert TOKEN_PREFIX not in started.SerializeToString()
    assert run.placed.order_id.encode() in decoded.payloads[0].data


async def test_the_codec_server_refuses_a_payload_of_another_key(codec_server: str) -> None:
    (sealed,) = await EncryptionCodec(os.urandom(32)).encode([Payload(data=b"x")])

    answer = await asyncio.to_thread(post, f"{codec_server}/decode", Payloads(payloads=[sealed]))

    assert answer.status == 400
    assert b"encrypted with key" in answer.body
