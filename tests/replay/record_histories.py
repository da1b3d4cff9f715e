"""Record the histories that the replay test replays: `python -m tests.replay.record_histories`.

Run it when a workflow type or a style is added: it writes only the histories not yet recorded.
Delete one only for a deliberate, versioned change that makes a new history worth keeping. Never
re-record to make a failing replay pass: a replay failure
means the change would break the workflows already running in production.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from domain.events.envelope import Party
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import (
    Service,
    Style,
    participant_workflow_id,
    shipment_workflow_id,
)
from domain.status import CancelReason
from infra.dev_server import start_dev_server
from starters.order_client import PLACEABLE_STYLES
from starters.scenario_runs import ScenarioRun, run_scenarios
from workers.pool import running_workers

HISTORIES = Path(__file__).parent / "histories"
RECORDED_SCENARIOS = (
    "happy",
    "approval_rejected",
    "customer_cancels",
    "late_delivery",
    "payment_declined",  # recorded after the `confirms-final-notice` version marker
    "lost_parcel",
)


async def record() -> list[Path]:
    server = await start_dev_server(port=None, ui_port=None, ui=False)
    written: list[Path] = []
    try:
        client = server.client
        with tempfile.TemporaryDirectory() as data_dir:
            async with running_workers(client, list(Service), Path(data_dir)):
                scenarios = [SCENARIOS_BY_NAME[name] for name in RECORDED_SCENARIOS]
                runs = await run_scenarios(client, scenarios, PLACEABLE_STYLES)
        for run in runs:
            stem = f"{run.placed.style.value}-{run.scenario.name}"
            for workflow_type, workflow_id in _workflows_of(run).items():
                path = HISTORIES / f"{stem}-{workflow_type}.json"
                if path.exists():  # a recorded history is kept: it is what production ran
                    continue
                history = await client.get_workflow_handle(workflow_id).fetch_history()
                path.write_text(history.to_json())
                written.append(path)
    finally:
        await server.shutdown()
    return written


def _workflows_of(run: ScenarioRun) -> dict[str, str]:
    order_id = run.placed.order_id
    shipped = (
        run.outcome.status == "completed" or run.outcome.reason is CancelReason.LOST_IN_TRANSIT
    )
    if run.placed.style is Style.CHOREOGRAPHED:
        services = [Service.ORDERS, Service.INVENTORY, Service.PAYMENTS, Service.NOTIFICATIONS]
        if shipped:
            services.append(Service.SHIPPING)
        return {
            Party(service.value).workflow_type: participant_workflow_id(service, order_id)
            for service in services
        }
    if run.placed.style is Style.HYBRID:
        warehouse = (Party.PICKING, Party.PACKING, Party.HANDOFF) if shipped else ()
        return {
            "HybridOrderWorkflow": run.placed.workflow_id,
            **{party.workflow_type: party.workflow_id(order_id) for party in warehouse},
        }
    workflow_ids = {"OrderWorkflow": run.placed.workflow_id}
    if shipped:
        workflow_ids["ShipmentWorkflow"] = shipment_workflow_id(order_id)
    return workflow_ids


if __name__ == "__main__":
    for path in asyncio.run(record()):
        print(path)
