"""`python -m starters.contract diff`: each change to the contract since its snapshot, judged by
whether an event in flight survives it; and receivers that read an older schema version.

Each test changes the real contract one way (`tests.contract`), through `main(contract=...)`,
and compares it with the committed snapshot, as a user's change would be."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from domain.base import Model
from domain.events.contract import ORDER_CONTRACT, Contract, EventType, OlderSchema
from domain.events.envelope import Party
from domain.events.snapshot import SNAPSHOT_FILE, render, snapshot_of
from infra.cli import exit_code
from starters.contract import main
from tests.contract import with_event, with_publishes, without_event
from workflows.choreography.inbox import Inbox


class ParcelHandedOver(Model):  # the real one without `carrier`
    tracking_number: str


class WithANote(Model):
    tracking_number: str
    carrier: str
    note: str | None = None


class WithARequiredNote(Model):
    tracking_number: str
    carrier: str
    note: str


class WithANumber(Model):
    tracking_number: int
    carrier: str


class CarrierRenamed(Model):
    """Version 2 of ParcelHandedOver: the carrier is named `carrier_name`."""

    tracking_number: str
    carrier_name: str


def _carrier_renamed(payload: dict[str, Any]) -> dict[str, Any]:
    """The upgrade from version 1: `carrier` is `carrier_name` now."""
    rest = {key: value for key, value in payload.items() if key != "carrier"}
    return {**rest, "carrier_name": payload.get("carrier")}


FROM_VERSION_1 = OlderSchema(version=1, upgrade=_carrier_renamed)


def handed_over(payload: type[Model], **update: Any) -> Contract:
    return with_event(EventType.PARCEL_HANDED_OVER, payload=payload, **update)


async def diff(
    capsys: pytest.CaptureFixture[str], contract: Contract, *args: str
) -> tuple[int, list[str]]:
    code = await main(["diff", *args], contract=contract)
    return code, capsys.readouterr().out.splitlines()


async def test_the_contract_has_no_breaking_change_since_its_snapshot(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = await diff(capsys, ORDER_CONTRACT)

    assert code == 0, lines
    assert lines[-1].endswith(" 0 breaking")


async def test_a_removed_field_is_breaking_and_says_what_would_make_it_safe(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = await diff(capsys, handed_over(ParcelHandedOver))

    assert code == 1
    assert (
        "breaking: ParcelHandedOver: field carrier removed: bump its schema_version to 2 and "
        "keep a reader for 1 (OlderSchema(version=1, upgrade=...))" in lines
    )
    assert lines[-1] == f"against {SNAPSHOT_FILE}: 1 change(s), 1 breaking"


async def test_an_added_optional_field_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines = await diff(capsys, handed_over(WithANote))

    assert code == 0, lines
    assert lines == [
        "compatible: ParcelHandedOver: field note added, optional",
        f"against {SNAPSHOT_FILE}: 1 change(s), 0 breaking",
    ]


@pytest.mark.parametrize(
    ("contract", "says"),
    [
        (handed_over(WithARequiredNote), "ParcelHandedOver: field note added as required"),
        (handed_over(WithANumber), "field tracking_number retyped: string -> integer"),
        (without_event(EventType.PARCEL_PACKED), "ParcelPacked: removed"),
        (
            with_event(EventType.PARCEL_HANDED_OVER, producer=Party.PACKING),
            "producer handoff -> packing",
        ),
        (
            with_event(
                EventType.SHIPMENT_LATE,
                reactions=ORDER_CONTRACT.spec(EventType.SHIPMENT_LATE).reactions[1:],
            ),
            "ShipmentLate: orchestrator no longer reacts",
        ),
        (
            with_event(EventType.PARCEL_HANDED_OVER, summary="the parcel left, or not"),
            "ParcelHandedOver: meaning changed: summary",
        ),
        (
            handed_over(CarrierRenamed, schema_version=2),
            "version 1 is no longer read: declare an upgrade from it",
        ),
    ],
    ids=[
        "required-field-added",
        "retyped",
        "event-removed",
        "producer-changed",
        "reaction-removed",
        "meaning-changed",
        "version-bumped-without-a-reader",
    ],
)
async def test_what_an_event_in_flight_would_not_survive_is_breaking(
    capsys: pytest.CaptureFixture[str], contract: Contract, says: str
) -> None:
    code, lines = await diff(capsys, contract)

    assert code == 1, lines
    assert any(line.startswith("breaking: ") and says in line for line in lines), lines


async def test_a_breaking_payload_change_with_a_version_bump_and_a_reader_is_covered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    renamed = handed_over(CarrierRenamed, schema_version=2, older=(FROM_VERSION_1,))

    code, lines = await diff(capsys, renamed)

    assert code == 0, lines
    assert "compatible: ParcelHandedOver: field carrier removed (schema version 1 -> 2; " in (
        "\n".join(lines)
    )


async def test_what_only_changes_what_happens_next_is_compatible(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fewer = with_publishes(EventType.ORDER_PLACED, Party.ORDERS, ())

    code, lines = await diff(capsys, fewer)

    assert code == 0, lines
    assert "compatible: OrderPlaced: orders no longer publishes OrderAccepted" in lines


async def test_a_snapshot_written_for_a_release_is_what_diff_compares_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / SNAPSHOT_FILE).parent.mkdir(parents=True)

    written = await main(["snapshot"], contract=handed_over(WithANote), root=tmp_path)
    same = await main(["diff"], contract=handed_over(WithANote), root=tmp_path)
    lines = capsys.readouterr().out.splitlines()

    assert (written, same) == (0, 0)
    assert lines == [
        f"wrote {SNAPSHOT_FILE}: {len(ORDER_CONTRACT.events)} event types",
        f"against {SNAPSHOT_FILE}: 0 change(s), 0 breaking",
    ]


# -- against a git ref ---------------------------------------------------------------------


@pytest.fixture
def project_in_git(tmp_path: Path) -> Path:
    """A repository whose one commit, tagged `v1`, holds today's snapshot."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    snapshot = tmp_path / SNAPSHOT_FILE
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text(render(snapshot_of(ORDER_CONTRACT)))

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "v1")
    git("tag", "v1")
    snapshot.write_text("{}")  # the working tree's snapshot is not what --against reads
    return tmp_path


async def test_diff_against_a_git_ref_reads_the_snapshot_committed_there(
    project_in_git: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await main(
        ["diff", "--against", "v1"], contract=handed_over(ParcelHandedOver), root=project_in_git
    )
    lines = capsys.readouterr().out.splitlines()

    assert code == 1
    assert lines[-1] == f"against {SNAPSHOT_FILE} at v1: 1 change(s), 1 breaking"


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("v9", "--against v9: no domain/events/contract_snapshot.json there"),
        ("", "--against: an empty git ref"),
        ("--output=/tmp/x", "--against --output=/tmp/x: not a git ref"),
    ],
    ids=["unknown-ref", "empty", "an-option"],
)
async def test_a_ref_with_no_snapshot_is_bad_input_in_one_line(
    project_in_git: Path, capsys: pytest.CaptureFixture[str], ref: str, says: str
) -> None:
    code = await exit_code(
        lambda argv: main(argv, root=project_in_git), ["diff", f"--against={ref}"], "contract"
    )
    err = capsys.readouterr().err

    assert code == 2
    assert err.count("\n") == 1
    assert says in err


@pytest.mark.parametrize(
    ("junk", "says"),
    [
        ("not json", "not JSON"),
        ('{"events": {"OrderPlaced": {}}}', "events.OrderPlaced.summary: Field required"),
        ("{}", "events: Field required"),
    ],
    ids=["not-json", "an-event-without-its-keys", "no-events"],
)
async def test_a_snapshot_that_is_not_one_is_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], junk: str, says: str
) -> None:
    (tmp_path / SNAPSHOT_FILE).parent.mkdir(parents=True)
    (tmp_path / SNAPSHOT_FILE).write_text(junk)

    code = await exit_code(lambda argv: main(argv, root=tmp_path), ["diff"], "contract")
    err = capsys.readouterr().err

    assert code == 2
    assert err.count("\n") == 1
    assert says in err


async def test_a_snapshot_whose_payload_schema_was_mangled_is_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mangled = snapshot_of(ORDER_CONTRACT)
    mangled["events"][EventType.PARCEL_HANDED_OVER.value]["payload"]["properties"] = 5
    (tmp_path / SNAPSHOT_FILE).parent.mkdir(parents=True)
    (tmp_path / SNAPSHOT_FILE).write_text(render(mangled))

    code = await exit_code(lambda argv: main(argv, root=tmp_path), ["diff"], "contract")
    err = capsys.readouterr().err

    assert code == 2
    assert err.count("\n") == 1
    assert "a payload schema it holds is malformed" in err


# -- a receiver of the new contract, an event of the old ----------------------------------


def test_a_receiver_upgrades_an_event_of_an_older_schema_version_it_still_reads() -> None:
    renamed = handed_over(CarrierRenamed, schema_version=2, older=(FROM_VERSION_1,))
    orchestrator = Inbox(Party.ORCHESTRATOR, "o-1", contract=renamed)
    now = datetime(2026, 12, 1, tzinfo=UTC)

    def event(version: int, payload: dict[str, Any], event_id: str) -> dict[str, Any]:
        return {
            "event_id": event_id,
            "type": EventType.PARCEL_HANDED_OVER.value,
            "order_id": "o-1",
            "occurred_at": now.isoformat(),
            "producer": Party.HANDOFF.value,
            "schema_version": version,
            "payload": payload,
        }

    old = orchestrator.accept(event(1, {"tracking_number": "T1", "carrier": "DHL"}, "e1"), now)
    new = orchestrator.accept(event(2, {"tracking_number": "T2", "carrier_name": "UPS"}, "e2"), now)
    unknown = orchestrator.accept(event(3, {"tracking_number": "T3"}, "e3"), now)
    not_a_mapping = orchestrator.accept(event(1, {"carrier": ["not", "a", "name"]}, "e4"), now)

    assert old is not None
    assert old.payload == CarrierRenamed(tracking_number="T1", carrier_name="DHL")
    assert new is not None
    assert new.payload == CarrierRenamed(tracking_number="T2", carrier_name="UPS")
    assert unknown is None
    assert not_a_mapping is None
    assert [refusal.reason for refusal in orchestrator.refused] == [
        "ParcelHandedOver of schema version 3 is not read by this build (it reads 2, 1)",
        "malformed ParcelHandedOver payload: tracking_number: Field required; carrier_name: "
        "Input should be a valid string",
    ]


def test_an_upgrade_that_fails_on_an_old_payload_refuses_the_event_not_the_workflow_task() -> None:
    def breaks(payload: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("carrier")

    renamed = handed_over(
        CarrierRenamed, schema_version=2, older=(OlderSchema(version=1, upgrade=breaks),)
    )
    orchestrator = Inbox(Party.ORCHESTRATOR, "o-1", contract=renamed)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    old = {
        "event_id": "e1",
        "type": EventType.PARCEL_HANDED_OVER.value,
        "order_id": "o-1",
        "occurred_at": now.isoformat(),
        "producer": Party.HANDOFF.value,
        "schema_version": 1,
        "payload": {"tracking_number": "T1"},
    }

    assert orchestrator.accept(old, now) is None
    assert [refusal.reason for refusal in orchestrator.refused] == [
        "ParcelHandedOver of schema version 1 could not be upgraded to 2: KeyError: 'carrier'"
    ]
