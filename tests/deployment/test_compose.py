"""docker-compose.yml and the Dockerfile checked against the code, since no Docker engine runs
here: what the containers run must exist, what they set must be read, every service must have
its worker, and the image must carry every package the project declares."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from domain.services import Service
from infra.data_dir import DATA_DIR_VARIABLE
from infra.ui import UI_URL_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = {name: spec for name, spec in SERVICES.items() if "build" in spec}

VARIABLES_THE_CODE_READS = {
    # temporalio.envconfig reads the TEMPORAL_* connection variables.
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    DATA_DIR_VARIABLE,
    UI_URL_VARIABLE,
}


def test_every_service_has_a_worker_container_running_only_it() -> None:
    commands = {tuple(spec["command"]) for spec in OURS.values()}

    for service in Service:
        assert ("python", "-m", "workers.run", "--service", service.value) in commands


@pytest.mark.parametrize("name", sorted(OURS))
def test_the_command_is_a_module_of_the_project_with_those_options(name: str) -> None:
    command: list[str] = OURS[name]["command"]
    assert command[:2] == ["python", "-m"]
    module = importlib.import_module(command[2])
    source = Path(module.__file__ or "").read_text()

    assert callable(getattr(module, "main", None))
    for option in (arg for arg in command[3:] if arg.startswith("--")):
        assert f'"{option}"' in source, f"{command[2]} has no option {option}"


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_variable_set_is_one_the_code_reads(name: str) -> None:
    assert set(OURS[name]["environment"]) <= VARIABLES_THE_CODE_READS


def test_dependencies_name_existing_services_and_images_are_pinned() -> None:
    for name, spec in SERVICES.items():
        assert set(spec.get("depends_on", {})) <= set(SERVICES), name
        image = spec.get("image", "")
        if "build" not in spec:
            assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{name}: pin {image!r}"


def test_the_image_carries_every_package_the_project_declares() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.MULTILINE))

    assert packages == copied
    assert "requirements.lock" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, flags=re.MULTILINE), "run as non-root"


def test_the_lock_pins_every_runtime_dependency() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {
        re.split(r"[<>=\[ ]", dep)[0].lower() for dep in pyproject["project"]["dependencies"]
    }
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    pinned = {line.split("==")[0].lower() for line in lines if "==" in line}

    assert declared <= pinned
