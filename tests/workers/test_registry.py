"""Which worker hosts which workflow, read against the parties' declared workflow types: the
event bus starts a participant by its party's type on its party's service's queue, so that
worker must host a workflow of that very type."""

from __future__ import annotations

import pytest
from temporalio import workflow

from domain.events.envelope import Party
from workers.registry import ALL_WORKFLOWS, WORKFLOWS_BY_SERVICE

PARTICIPANTS = [party for party in Party if not party.starts_flows]


def workflow_type(cls: type) -> str:
    definition = workflow._Definition.must_from_class(cls)
    assert definition.name is not None
    return definition.name


@pytest.mark.parametrize("party", PARTICIPANTS, ids=str)
def test_each_party_s_participant_is_hosted_by_its_service(party: Party) -> None:
    assert party.service is not None
    hosted = {workflow_type(cls) for cls in WORKFLOWS_BY_SERVICE[party.service]}

    assert party.workflow_type in hosted
    assert Party.of_workflow_type(party.workflow_type) is party


def test_every_workflow_type_is_hosted_once_and_only_participants_have_a_party() -> None:
    types = [workflow_type(cls) for cls in ALL_WORKFLOWS]

    assert len(types) == len(set(types))
    assert {t for t in types if Party.of_workflow_type(t)} == {
        p.workflow_type for p in PARTICIPANTS
    }


@pytest.mark.parametrize("party", [Party.STOREFRONT, Party.ORCHESTRATOR], ids=str)
def test_a_party_that_starts_flows_runs_no_participant(party: Party) -> None:
    with pytest.raises(ValueError, match="runs no participant workflow"):
        _ = party.workflow_type
