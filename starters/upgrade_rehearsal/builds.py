"""The two builds the rehearsal deploys: this checkout (v1), and the next release (v2), which is
this checkout with `next_build.patch` applied, in a copy of its own, as a release would be a
commit of its own. Each build's workers run as `python -m workers.run` from its own tree."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from temporalio.common import WorkerDeploymentVersion

from chaos.processes import ChildProcess
from infra.cli import RefusedError
from workers.deployment import DEFAULT_DEPLOYMENT, DEPLOYMENT_ENV, line_start

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PATCH = Path(__file__).with_name("next_build.patch")

V1 = "v1"
V2 = "v2"
"""The build ids of the rehearsal's two builds (of the `orders` deployment, on its own server)."""

V2_NOTICE = "Follow it at https://track.example.com/"
"""What v2 adds to the dispatch notice (workflow code: every style's notice says it)."""
V2_EVENT_FIELD = "tracking_url"
"""What v2 adds to the `ShipmentDispatched` event's payload (the choreographed shipping
participant sets it, the notifications participant reads it)."""


@dataclass(frozen=True)
class Build:
    build_id: str
    tree: Path
    """Where its code is: the checkout, or the copy the patch was applied to."""


def version_of(build: Build) -> WorkerDeploymentVersion:
    return WorkerDeploymentVersion(DEFAULT_DEPLOYMENT, build.build_id)


def this_build() -> Build:
    return Build(V1, PROJECT_ROOT)


def next_build(into: Path) -> Build:
    """This checkout's packages copied into `into`, with the next release's patch applied."""
    packages = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    into.mkdir(parents=True)
    for pattern in packages:
        name = pattern.rstrip("*")
        shutil.copytree(
            PROJECT_ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", into / "pyproject.toml")
    applied = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", str(PATCH)],
        cwd=into,
        capture_output=True,
        text=True,
        check=False,
    )
    if applied.returncode != 0:
        said = applied.stderr.strip().splitlines()
        raise RefusedError(
            f"the next release's patch ({PATCH.name}) does not apply to this checkout any more: "
            + (said[0] if said else "git apply failed")
        )
    return Build(V2, into)


def workers_of(build: Build, env: dict[str, str], logs: Path) -> ChildProcess:
    """Every service's workers of `build` in one process, up once they say where new orders go.
    No simulated carrier: the rehearsal sends the carrier's reports itself, when it chooses, so
    that orders wait for the carrier across the upgrade."""
    return ChildProcess(
        name=f"workers of build {build.build_id}",
        module="workers.run",
        args=("--build-id", build.build_id, "--no-carrier-simulator"),
        env={**env, DEPLOYMENT_ENV: DEFAULT_DEPLOYMENT, "PYTHONPATH": str(build.tree)},
        log_path=logs / f"workers-{build.build_id}.log",
        ready=line_start(version_of(build)),
        cwd=build.tree,
    )
