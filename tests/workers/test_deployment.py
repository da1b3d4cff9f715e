"""Which version of the Worker Deployment a worker is (`workers.deployment`), and how the first
build of a deployment becomes current without an operator while no later build ever does."""

from __future__ import annotations

import asyncio
import contextlib
import tomllib
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.testing import WorkflowEnvironment

from client.orders import order_status, place_order
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service, Style
from domain.status import OrderStatus
from infra.cli import RefusedError
from tests.conftest import namespace_client
from tests.support import eventually
from workers.deployment import (
    BUILD_ID_ENV,
    DEFAULT_DEPLOYMENT,
    DEPLOYMENT_ENV,
    ORDER_LIFECYCLE,
    DeploymentConfigError,
    adopt_if_unrouted,
    current_version,
    default_build_id,
    deployment_config,
    label,
    worker_version,
)
from workers.pool import running_workers

NAMESPACE = "deployment"
"""This module's own namespace (one of the suite's `TEST_NAMESPACES`): the builds it makes
current are no other module's."""


# -- which version a worker is ----------------------------------------------------------------


def test_by_default_a_worker_is_the_project_s_version_of_the_orders_deployment() -> None:
    assert worker_version(environ={}) == WorkerDeploymentVersion(
        DEFAULT_DEPLOYMENT, default_build_id()
    )
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert default_build_id() == project["project"]["version"]


def test_the_environment_names_it_and_the_flags_win_over_the_environment() -> None:
    environ = {DEPLOYMENT_ENV: "shop", BUILD_ID_ENV: "2026-12-02.1"}

    assert label(worker_version(environ=environ)) == "shop:2026-12-02.1"
    assert label(worker_version("store", "abc123", environ=environ)) == "store:abc123"


def test_an_empty_variable_counts_as_unset_as_compose_passes_one_nobody_exported() -> None:
    environ = {DEPLOYMENT_ENV: "", BUILD_ID_ENV: ""}

    assert worker_version(environ=environ) == worker_version(environ={})


@pytest.mark.parametrize(
    ("deployment", "build_id", "why"),
    [
        ("orders.eu", "1", "has a '.', which separates a deployment from a build"),
        ("orders", "1 2", "may hold only letters, digits"),
        ("orders", "x" * 256, "longer than 255 characters"),
        ("", "1", "--deployment/ORDERS_DEPLOYMENT: empty"),
        ("orders", "", "--build-id/ORDERS_BUILD_ID: empty"),
        ("ord\u0435rs", "1", "may hold only letters, digits"),  # a Cyrillic e
    ],
)
def test_a_name_the_server_would_refuse_or_misroute_is_bad_input(
    deployment: str, build_id: str, why: str
) -> None:
    with pytest.raises(DeploymentConfigError, match=why.replace(".", r"\.")):
        worker_version(deployment, build_id, environ={})


def test_versioned_workers_pin_every_workflow_they_host() -> None:
    config = deployment_config(worker_version(environ={}))

    assert config.use_worker_versioning
    assert config.default_versioning_behavior is ORDER_LIFECYCLE is VersioningBehavior.PINNED


# -- which build takes new orders -------------------------------------------------------------


@pytest.fixture
async def client(dev_env: WorkflowEnvironment) -> Client:
    return await namespace_client(dev_env, NAMESPACE)


ONE_SERVICE = [Service.NOTIFICATIONS]
"""Enough workers to be a version: one task queue."""


def _build(deployment: str, build_id: str) -> WorkerDeploymentVersion:
    return WorkerDeploymentVersion(deployment, build_id)


@pytest.fixture
def builds() -> tuple[WorkerDeploymentVersion, WorkerDeploymentVersion]:
    """Builds 1 and 2 of a deployment no other test uses."""
    deployment = f"d{uuid.uuid4().hex[:8]}"
    return _build(deployment, "1"), _build(deployment, "2")


async def test_the_first_build_is_made_current_and_a_later_one_waits_for_the_operator(
    client: Client,
    data_dir: Path,
    builds: tuple[WorkerDeploymentVersion, WorkerDeploymentVersion],
) -> None:
    first, later = builds
    deployment = first.deployment_name
    services = ONE_SERVICE
    async with running_workers(client, services, data_dir, version=first) as running:
        assert running.routing is not None
        assert running.routing.made_current
        assert running.routing.line() == (
            f"build {deployment}:1: made current (the deployment had none): new orders come here"
        )
        async with running_workers(client, services, data_dir, version=later) as beside:
            assert beside.routing is not None
            assert not beside.routing.takes_new_orders
            assert beside.routing.current == first
            assert "set-current-version --deployment-name" in beside.routing.line()
        assert await current_version(client, deployment) == first
    async with running_workers(client, services, data_dir, version=later) as alone:
        assert alone.routing is not None
        assert not alone.routing.takes_new_orders, "the first build's workers stopped: still not"
    assert await current_version(client, deployment) == first


async def test_two_builds_starting_at_once_agree_on_one_and_neither_overwrites_it(
    client: Client, data_dir: Path
) -> None:
    deployment = f"race-{uuid.uuid4().hex[:6]}"
    racing = [_build(deployment, str(n)) for n in range(3)]
    async with contextlib.AsyncExitStack() as stack:
        stacks = [await stack.enter_async_context(contextlib.AsyncExitStack()) for _ in racing]
        started = await asyncio.gather(
            *(
                own.enter_async_context(
                    running_workers(client, ONE_SERVICE, data_dir, version=build)
                )
                for own, build in zip(stacks, racing, strict=True)
            )
        )
        routings = [running.routing for running in started]
        assert all(routing is not None for routing in routings)
        made = [r for r in routings if r is not None and r.made_current]
        assert len(made) == 1, routings
        current = await current_version(client, deployment)
        assert {r.current for r in routings if r is not None} == {current}


async def test_promote_moves_new_orders_to_this_build_as_the_local_demo_does(
    client: Client,
    data_dir: Path,
    builds: tuple[WorkerDeploymentVersion, WorkerDeploymentVersion],
) -> None:
    first, later = builds
    services = ONE_SERVICE
    async with running_workers(client, services, data_dir, version=first):
        pass
    async with running_workers(client, services, data_dir, version=later, promote=True) as running:
        assert running.routing is not None
        assert running.routing.takes_new_orders
    assert await current_version(client, later.deployment_name) == later


async def test_an_order_whose_build_stopped_says_which_build_it_waits_for(
    client: Client,
    data_dir: Path,
    builds: tuple[WorkerDeploymentVersion, WorkerDeploymentVersion],
) -> None:
    """An old build stopped before it drained: its orders never move to the build running now,
    so the refusal names the build whose workers they wait for, not just 'the workers'."""
    old, new = builds
    order = SCENARIOS_BY_NAME["approval_granted"].order(f"pinned-{uuid.uuid4().hex[:8]}")
    async with running_workers(client, list(Service), data_dir, version=old):
        placed = await place_order(client, order, Style.ORCHESTRATED)
        await eventually(
            lambda: order_status(client, order.order_id),
            lambda view: view.status is OrderStatus.AWAITING_APPROVAL,
            what="the order waits for approval",
        )
    async with running_workers(client, list(Service), data_dir, version=new, promote=True):
        with pytest.raises(RefusedError) as refused:
            await order_status(client, placed.order_id)

    assert str(refused.value).endswith(
        f"it runs on build {label(old)} only: are that build's workers running? "
        f"(python -m workers.run --deployment {old.deployment_name} --build-id {old.build_id})"
    )


async def test_a_build_whose_workers_never_poll_is_refused_in_time_not_waited_for(
    client: Client, builds: tuple[WorkerDeploymentVersion, WorkerDeploymentVersion]
) -> None:
    first, _ = builds
    with pytest.raises(RuntimeError, match=r"could not make d\w+:1 current within 0.5 s \("):
        await adopt_if_unrouted(client, first, patience=timedelta(seconds=0.5))
    assert await current_version(client, first.deployment_name) is None
