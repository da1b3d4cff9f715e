"""Which version of the Worker Deployment a worker is, and how a first build becomes the one new
orders go to.

Every worker `workers.run` starts is a version (`ORDERS_DEPLOYMENT`, `ORDERS_BUILD_ID`) of one
Worker Deployment, and every order workflow is pinned to the version it started on
(`ORDER_LIFECYCLE`). So starting workers of a new build moves no order in flight:
the server goes on handing an order's tasks to the workers of its own build until it ends, and
hands new orders to the deployment's *current* version, which an operator moves
(`temporal worker deployment set-current-version`) once the new build's workers are up.

Only the very first build is made current without an operator: a deployment with no current
version routes new workflows to unversioned workers, of which there are none, and the first
`workers.run` against a fresh server would otherwise sit idle. `adopt_if_unrouted` never moves a
current version to another build; `promote` (the local demo's) does.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from temporalio.api.enums.v1 import VersionDrainageStatus
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    DescribeWorkerDeploymentResponse,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import WorkerDeploymentConfig

from infra.cli import BadInputError

DEPLOYMENT_ENV = "ORDERS_DEPLOYMENT"
BUILD_ID_ENV = "ORDERS_BUILD_ID"
DEFAULT_DEPLOYMENT = "orders"
DISTRIBUTION = "order-fulfilment-styles"
"""The project's distribution name: its version is the default build id."""

ORDER_LIFECYCLE = VersioningBehavior.PINNED
"""How every workflow a versioned worker hosts meets a new build: pinned to the build it started
on, the orchestrators, the shipment and every participant alike.

An order lives for weeks (a 24 h approval window, a 5-day delivery deadline, 14 days before a
parcel is lost), so every deployment meets orders in flight. Pinned, all of an order's tasks go
to the workers of the build that started it until it ends (its child shipment and the
participants its events start are pinned there too): it never runs half on one build and half
on the other, and the new build's changes to commands, timers or events never meet its history.
The price: the old build's workers run until its last order ends (the deployment shows the
version draining), and a fix reaches orders in flight only if an operator moves them
(`temporal workflow update-options --versioning-override-behavior auto_upgrade`). Such a move,
and a deployment run `--unversioned`, replays old histories on new code, so changes are still
versioned with `workflow.patched` and checked by `make upgrade-check`.

Auto-upgrade (every task on the current build) would suit a workflow short enough to finish
within a deploy; none of these is. The behaviour is the workers' default, not said on each
`workflow.defn`: the server refuses a workflow that names one from an unversioned worker
(`--unversioned`, the time-skipping tests)."""

NAME_LIMIT = 255
"""The server's default bound on a deployment name and a build id (`limit.workerBuildIdSize`)."""

ADOPTION_PATIENCE = timedelta(seconds=30)
"""How long a first build waits for the server to see its pollers before it gives up making
itself current (the server refuses a version none of whose workers it has heard from yet)."""

TOKEN_REFUSALS = 3
"""Conflict tokens refused in a row before `adopt_if_unrouted` sets its version without one."""

FIRST_PAUSE = 0.25
LONGEST_PAUSE = 2.0
"""Seconds between two looks at the deployment while a worker waits to make its build current:
doubling, jittered, so that workers starting together do not ask in step."""

_PLAIN = re.compile(r"[A-Za-z0-9_\-.+:]+")

logger = logging.getLogger(__name__)


class DeploymentConfigError(BadInputError):
    """A deployment name or build id the server would refuse, or that would misroute: bad
    input (exit 2) wherever a command reads it."""


class NoDeploymentsError(RuntimeError):
    """The server cannot version workers at all."""


def default_build_id() -> str:
    """The project's version: a release is a build."""
    return importlib.metadata.version(DISTRIBUTION)


def worker_version(
    deployment: str | None = None,
    build_id: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> WorkerDeploymentVersion:
    """The version a worker runs as: the flags', else the environment's, else the defaults (an
    empty variable counts as unset, as compose passes one the user did not export)."""
    name = _checked(
        "--deployment",
        DEPLOYMENT_ENV,
        deployment if deployment is not None else environ.get(DEPLOYMENT_ENV) or DEFAULT_DEPLOYMENT,
    )
    if "." in name:
        raise DeploymentConfigError(
            f"--deployment/{DEPLOYMENT_ENV}: {name!r} has a '.', which separates a deployment "
            "from a build in a version's name"
        )
    build = _checked(
        "--build-id",
        BUILD_ID_ENV,
        build_id if build_id is not None else environ.get(BUILD_ID_ENV) or default_build_id(),
    )
    return WorkerDeploymentVersion(deployment_name=name, build_id=build)


def _checked(flag: str, env: str, value: str) -> str:
    if not value:
        raise DeploymentConfigError(f"{flag}/{env}: empty")
    if len(value) > NAME_LIMIT:
        raise DeploymentConfigError(f"{flag}/{env}: longer than {NAME_LIMIT} characters")
    if not _PLAIN.fullmatch(value):
        raise DeploymentConfigError(
            f"{flag}/{env}: {value!r} may hold only letters, digits and _ - . + :"
        )
    return value


def deployment_config(version: WorkerDeploymentVersion) -> WorkerDeploymentConfig:
    """A worker of `version`, which runs only what the server routes to that version; its
    workflows pinned (`ORDER_LIFECYCLE`)."""
    return WorkerDeploymentConfig(
        version=version, use_worker_versioning=True, default_versioning_behavior=ORDER_LIFECYCLE
    )


def label(version: WorkerDeploymentVersion) -> str:
    """`orders:0.1.0`, as the Web UI and the Temporal CLI show a version."""
    return f"{version.deployment_name}:{version.build_id}"


@dataclass(frozen=True)
class Routing:
    """Where the deployment sends new workflows, as a worker of `version` found it."""

    version: WorkerDeploymentVersion
    current: WorkerDeploymentVersion | None
    made_current: bool

    @property
    def takes_new_orders(self) -> bool:
        return self.current == self.version

    def line(self) -> str:
        """What a worker prints once its workers poll (after `line_start`)."""
        start = line_start(self.version)
        if self.made_current:
            return f"{start}made current (the deployment had none): new orders come here"
        if self.takes_new_orders:
            return f"{start}current: new orders come here"
        current = label(self.current) if self.current else "none"
        return (
            f"{start}not current ({current} is): it finishes the orders pinned to it and "
            "takes new ones once `temporal worker deployment set-current-version "
            f"--deployment-name {self.version.deployment_name} --build-id "
            f"{self.version.build_id}` makes it current"
        )


def line_start(version: WorkerDeploymentVersion) -> str:
    """How `Routing.line` begins: what a process watching a worker's output waits for."""
    return f"build {label(version)}: "


async def current_version(client: Client, deployment: str) -> WorkerDeploymentVersion | None:
    """The deployment's current version; None when it has none, or is not known yet."""
    info = await _describe(client, deployment)
    return info[0] if info is not None else None


async def adopt_if_unrouted(
    client: Client,
    version: WorkerDeploymentVersion,
    *,
    promote: bool = False,
    patience: timedelta = ADOPTION_PATIENCE,
) -> Routing:
    """Make `version` current if its deployment has no current version (or, with `promote`, if
    another is), once the server has heard from its workers; call it after they started polling.

    Safe when many workers start at once: each sets the version with the conflict token of the
    state it saw, so a worker of another build that got there first is never overwritten (unless
    `promote`); workers of the same build all end up agreeing.

    After `TOKEN_REFUSALS` refusals of a fresh token, it sets the version without one, if the
    deployment still has no current version: a dev server killed while workers registered came
    back refusing every token of that deployment (the chaos run's workers never got going), and
    the race that token guards against is then a few milliseconds wide."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience.total_seconds()
    pause = FIRST_PAUSE
    refusals = 0
    last = "its workers have not polled yet"
    while True:
        try:
            described = await _describe(client, version.deployment_name)
            if described is not None:
                current, token = described
                if current == version or (current is not None and not promote):
                    return Routing(version, current, made_current=False)
                try:
                    await _set_current(client, version, token if refusals < TOKEN_REFUSALS else b"")
                except RPCError as error:
                    if "conflict token" in error.message:
                        refusals += 1
                    raise
                logger.info("made %s the current version of its deployment", label(version))
                return Routing(version, version, made_current=True)
        except RPCError as error:
            if error.status == RPCStatusCode.UNIMPLEMENTED:
                raise NoDeploymentsError(
                    "the server has no Worker Deployments (it answered UNIMPLEMENTED): run the "
                    "workers with --unversioned, or on a server that has them"
                ) from error
            if not _worth_retrying(error):
                raise
            last = f"{error.status.name}: {error.message}"
        if loop.time() > deadline:
            raise RuntimeError(
                f"could not make {label(version)} current within "
                f"{patience.total_seconds():g} s ({last})"
            )
        await asyncio.sleep(pause * random.uniform(0.5, 1.5))  # jitter: workers started together
        pause = min(pause * 2, LONGEST_PAUSE)


async def is_drained(client: Client, version: WorkerDeploymentVersion) -> bool:
    """Whether the server counts no open workflow pinned to `version` any more (it refreshes
    that every `matching.wv.VersionDrainageStatusRefreshInterval`, 3 minutes by default)."""
    response = await _deployment(client, version.deployment_name)
    return response is not None and any(
        summary.deployment_version.build_id == version.build_id
        and summary.drainage_status == VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED
        for summary in response.worker_deployment_info.version_summaries
    )


async def _deployment(client: Client, deployment: str) -> DescribeWorkerDeploymentResponse | None:
    """The deployment as the server describes it; None before any worker of it has polled."""
    try:
        return await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=deployment)
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def _describe(
    client: Client, deployment: str
) -> tuple[WorkerDeploymentVersion | None, bytes] | None:
    """Its current version (None: none) and the conflict token of that state."""
    response = await _deployment(client, deployment)
    if response is None:
        return None
    current = response.worker_deployment_info.routing_config.current_deployment_version
    version = (
        WorkerDeploymentVersion(current.deployment_name, current.build_id)
        if current.build_id
        else None
    )
    return version, response.conflict_token


async def _set_current(client: Client, version: WorkerDeploymentVersion, token: bytes) -> None:
    await client.workflow_service.set_worker_deployment_current_version(
        SetWorkerDeploymentCurrentVersionRequest(
            namespace=client.namespace,
            deployment_name=version.deployment_name,
            build_id=version.build_id,
            conflict_token=token,
            identity=client.identity,
        )
    )


def _worth_retrying(error: RPCError) -> bool:
    """Look again, later, unless the request itself is wrong. What passes with time: the
    version's pollers not registered yet, another worker changing the routing between our
    describe and our set (the conflict token), the server limiting the requests to one
    deployment while many workers start at once (measured: ten processes of one build starting
    together were refused `RESOURCE_EXHAUSTED`, and four of them exited), a server restarting
    (the chaos run's workers, mid-adoption when it was killed, got `UNKNOWN: transport error`,
    and exited)."""
    return error.status not in _NEVER_BETTER


_NEVER_BETTER = frozenset(
    {
        RPCStatusCode.INVALID_ARGUMENT,
        RPCStatusCode.PERMISSION_DENIED,
        RPCStatusCode.UNAUTHENTICATED,
        RPCStatusCode.UNIMPLEMENTED,
    }
)
