"""docker-compose.yml and the Dockerfile checked against the code, since no Docker engine runs
here: the compose file is valid for docker-compose itself, what the containers run exists, what
they set is read (by the project or by the library it hands the variable to), every service
declared (`workers.registry`) has its worker and its store, start order and health checks hold
together, and the image carries every package and pinned dependency the project declares."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import tomllib
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import temporalio.envconfig
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from psycopg import sql

from domain import search_attributes
from domain.services import Service
from infra.client import connect_config
from infra.dev_server import TUNED_DYNAMIC_CONFIG
from stores import store_location, store_url_variable
from stores.payments import PaymentsStore
from stores.postgres import close_pools
from tests.postgres_cluster import PostgresServer
from workers.deployment import BUILD_ID_ENV, DEPLOYMENT_ENV
from workers.registry import SERVICES as DECLARED

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = {name: spec for name, spec in SERVICES.items() if "build" in spec}
"""The containers built from our Dockerfile: the workers and the demo."""
WORKERS = {name: spec for name, spec in OURS.items() if "workers.run" in spec["command"]}
DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES = sorted(
    p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
)

ONE_SHOT_RESTARTS = {None, "no"} | {f"on-failure:{n}" for n in range(1, 10)} | {"on-failure"}


def environment(spec: dict[str, Any]) -> dict[str, str]:
    env = spec.get("environment") or {}
    if isinstance(env, list):  # the `- NAME=value` form
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def depends_on(spec: dict[str, Any]) -> dict[str, str]:
    deps = spec.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (cond or {}).get("condition", "service_started") for name, cond in deps.items()}


def is_one_shot(spec: dict[str, Any]) -> bool:
    return spec.get("restart") in ONE_SHOT_RESTARTS and "healthcheck" not in spec


# --- what the code reads -----------------------------------------------------------------------


def project_sources() -> Iterator[tuple[Path, str]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, path.read_text()


@cache
def project_text() -> str:
    return "\n".join(text for _, text in project_sources())


def project_reads_literally(name: str) -> bool:
    """The name appears as a string literal in the project's own code (not its tests)."""
    return re.search(rf"""["']{re.escape(name)}["']""", project_text()) is not None


def project_imports(module: str) -> bool:
    """The project's code imports this module (or something from it)."""
    pattern = (
        rf"^\s*(?:from\s+{re.escape(module)}(?:\.\w+)*\s+import|import\s+{re.escape(module)}\b)"
    )
    return re.search(pattern, project_text(), flags=re.MULTILINE) is not None


def module_source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{module} is not installed"
    assert spec.origin, module
    return Path(spec.origin).read_text()


@cache
def envconfig_reads() -> frozenset[str]:
    """The TEMPORAL_* variables `temporalio.envconfig` reads. The Python module hands the work to
    the SDK core (Rust); its source ships in the wheel, else the names are in the binary."""
    package = Path(temporalio.envconfig.__file__).parent
    rust = package / "bridge/sdk-core/crates/common/src/envconfig.rs"
    if rust.exists():
        code = "\n".join(
            line
            for line in rust.read_text().split("#[cfg(test)]")[0].splitlines()
            if not line.lstrip().startswith("//")
        )
        return frozenset(re.findall(r'"(TEMPORAL_[A-Z_]+)"', code))
    binary = next(package.glob("bridge/temporal_sdk_bridge*.so")).read_bytes()
    return frozenset(name.decode() for name in re.findall(rb"TEMPORAL_[A-Z_]+", binary))


OTEL_READERS = {
    # module whose code reads the variable: the project imports that trigger its use
    "opentelemetry.sdk.resources": ("opentelemetry.sdk.resources", "opentelemetry.sdk.trace"),
    "opentelemetry.exporter.otlp.proto.http.trace_exporter": (
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    ),
    "opentelemetry.sdk._configuration": ("opentelemetry.sdk._configuration",),
}


def who_reads(name: str) -> str | None:
    """Who reads this variable in the code that runs: a library it uses, or the project. A
    `TEMPORAL_*` variable the SDK's envconfig reads is its (the project may name one only to
    set it for a child process, as `starters.chaos` does for its workers)."""
    if (
        name.startswith("TEMPORAL_")
        and name in envconfig_reads()
        and project_imports("temporalio.envconfig")
    ):
        return "temporalio.envconfig"
    if project_reads_literally(name):
        return "the project"
    if name in {store_url_variable(service) for service in DECLARED}:
        return "the project (stores.store_url_variable)"
    if name.startswith("OTEL_"):
        for reader, triggers in OTEL_READERS.items():
            if re.search(rf"\b{name}\b", module_source(reader)) and any(
                project_imports(trigger) for trigger in triggers
            ):
                return reader
    return None


VARIABLES_SET = sorted({name for spec in OURS.values() for name in environment(spec)})


# --- docker-compose itself ---------------------------------------------------------------------

DOCKER_COMPOSE = shutil.which("docker-compose")
needs_docker_compose = pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="docker-compose is not installed (.ci/run installs Debian's where apt-get is there): "
    "docker-compose.yml is checked by these tests' own parsing only",
)


def docker_compose(*args: str) -> subprocess.CompletedProcess[str]:
    assert DOCKER_COMPOSE is not None
    return subprocess.run(
        [DOCKER_COMPOSE, "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_docker_compose
def test_docker_compose_validates_the_file() -> None:
    result = docker_compose("config", "-q")

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"warnings: {result.stderr}"


@needs_docker_compose
def test_docker_compose_sees_every_service_and_the_demo_profile() -> None:
    services = docker_compose("config", "--services")
    profiles = docker_compose("config", "--profiles")

    assert services.returncode == 0, services.stderr
    assert profiles.returncode == 0, profiles.stderr
    assert set(services.stdout.split()) == set(SERVICES)
    assert profiles.stdout.split() == ["demo"]


# --- what the containers run -------------------------------------------------------------------


def test_every_service_has_a_worker_container_running_only_it() -> None:
    commands = {tuple(spec["command"]) for spec in WORKERS.values()}

    assert commands == {("python", "-m", "workers.run", "--service", s.value) for s in DECLARED}


@pytest.mark.parametrize("name", sorted(OURS))
def test_the_command_is_a_module_of_the_project_with_those_options(name: str) -> None:
    command: list[str] = OURS[name]["command"]
    assert command[:2] == ["python", "-m"]
    module = importlib.import_module(command[2])
    source = Path(module.__file__ or "").read_text()

    assert command[2].split(".")[0] in PACKAGES, "the image carries only the project's packages"
    assert callable(getattr(module, "main", None))
    for option in (arg for arg in command[3:] if arg.startswith("--")):
        assert f'"{option}"' in source, f"{command[2]} has no option {option}"


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_every_worker_is_a_version_of_the_deployment_the_user_names(name: str) -> None:
    """Versioned as `workers.run` is by default (never `--unversioned`), its deployment and build
    passed through from the shell that runs `docker compose up`: unset, the code's defaults."""
    env = environment(WORKERS[name])

    assert "--unversioned" not in WORKERS[name]["command"]
    assert env[DEPLOYMENT_ENV] == f"${{{DEPLOYMENT_ENV}:-}}"
    assert env[BUILD_ID_ENV] == f"${{{BUILD_ID_ENV}:-}}"


def test_the_demo_is_a_one_shot_against_the_compose_workers() -> None:
    demo = SERVICES["demo"]

    assert demo["profiles"] == ["demo"], "not started by `docker compose up`"
    assert "--no-workers" in demo["command"]
    assert "--exit" in demo["command"]
    assert is_one_shot(demo)
    assert {name: "service_healthy" for name in WORKERS} == depends_on(demo)
    assert demo["volumes"] == WORKERS["orders-worker"]["volumes"], "the audit reads the stores"


# --- what the containers set -------------------------------------------------------------------


@pytest.mark.parametrize("variable", VARIABLES_SET)
def test_every_variable_set_is_one_the_code_reads(variable: str) -> None:
    assert who_reads(variable), (
        f"{variable} is set in docker-compose.yml but nothing in the code reads it: neither the "
        "project's packages nor a library they use (temporalio.envconfig, the OpenTelemetry SDK "
        "and OTLP exporter)"
    )


def test_the_library_readers_are_real() -> None:
    """The check above is only as good as what it believes the libraries read."""
    assert {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_PROFILE"} <= (
        envconfig_reads()
    )
    assert {"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH"} <= envconfig_reads()
    assert who_reads("TEMPORAL_ADDRESS") == "temporalio.envconfig"
    assert who_reads("OTEL_EXPORTER_OTLP_ENDPOINT") is not None
    assert who_reads("TEMPORAL_NOT_A_VARIABLE") is None
    assert who_reads("OTEL_NOT_A_VARIABLE") is None
    assert who_reads("ORDERS_NOT_A_VARIABLE") is None


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_container_reaches_the_compose_server(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for variable in [v for v in os.environ if v.startswith("TEMPORAL_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for variable, value in environment(OURS[name]).items():
        monkeypatch.setenv(variable, value)

    config = connect_config()

    assert config["target_host"] == "temporal:7233"
    assert "7233:7233" in SERVICES["temporal"]["ports"]
    namespace = environment(SERVICES["temporal-namespace"])["TEMPORAL_NAMESPACE"]
    assert config.get("namespace") == namespace, "the namespace the one-shot creates"
    assert "tls" not in config
    assert "api_key" not in config


def test_traces_go_to_the_tracing_backend_over_otlp_http() -> None:
    for name, spec in OURS.items():
        env = environment(spec)
        assert env["OTEL_TRACES_EXPORTER"] == "otlp", name
        endpoint = re.fullmatch(r"http://([\w-]+):(\d+)", env["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert endpoint, name
        assert endpoint.group(1) in SERVICES, name
        assert endpoint.group(2) == "4318", "OTLP/HTTP"
        assert depends_on(spec).get(endpoint.group(1)) == "service_healthy" or name == "demo"
    services = {environment(spec)["OTEL_SERVICE_NAME"] for spec in WORKERS.values()}
    assert services == {s.value for s in DECLARED}, "one trace service per worker"


# --- the service stores ----------------------------------------------------------------------

STORES = SERVICES["orders-stores"]
STORES_SCRIPT = ROOT / "deploy/orders/create-stores.sh"


def with_defaults(env: dict[str, str]) -> dict[str, str]:
    """The environment as compose reads it when the host sets none of its `${NAME:-default}`."""
    return {
        key: re.sub(r"\$\{\w+:-([^}]*)\}", lambda found: found.group(1), value)
        for key, value in env.items()
    }


@pytest.mark.parametrize("name", sorted(OURS))
def test_every_store_is_a_database_of_its_own_on_the_compose_postgresql(name: str) -> None:
    """Each container finds every service's store in that service's own database, as that
    service's own role with the password the one-shot gave it: none falls back to SQLite."""
    env = with_defaults(environment(OURS[name]))
    password = with_defaults(environment(STORES))["ORDERS_STORE_PASSWORD"]

    for service in DECLARED:
        url = urlsplit(str(store_location(Path("/data"), service, env)))
        assert url.scheme == "postgresql", service
        assert (url.hostname, url.port) == ("postgresql", 5432), service
        assert url.username == url.path.lstrip("/") == service.value, "its own role and database"
        assert url.password == password


def test_the_store_databases_are_made_for_every_service_before_any_worker_starts() -> None:
    stores = environment(STORES)

    assert stores["ORDERS_STORES"].split() == [service.value for service in DECLARED]
    assert is_one_shot(STORES)
    assert depends_on(STORES) == {"postgresql": "service_healthy"}
    assert STORES["image"] == SERVICES["postgresql"]["image"], "its psql matches the server"
    for name in WORKERS:
        assert depends_on(SERVICES[name])["orders-stores"] == "service_completed_successfully"
    assert any(source == STORES_SCRIPT for _, source, _ in mounted_files())


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}").geturl()


def _create_stores(server: PostgresServer, services: list[str]) -> subprocess.CompletedProcess[str]:
    url = urlsplit(server.url)
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": url.hostname or "",
        "PGPORT": str(url.port),
        "PGUSER": url.username or "",
        "PGDATABASE": url.path.lstrip("/"),
        "ORDERS_STORES": " ".join(services),
        "ORDERS_STORE_PASSWORD": "a-store-password",
    }
    return subprocess.run(
        ["sh", str(STORES_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_the_store_script_makes_a_database_per_service_only_it_may_use_and_can_run_again(
    postgres_server: PostgresServer,
) -> None:
    """The one-shot's script against a real server, twice (every `docker compose up` runs it):
    each service's role owns its database, and another service's role cannot connect to it."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    services = [prefix + service.value for service in (Service.PAYMENTS, Service.INVENTORY)]
    try:
        for _ in range(2):
            result = _create_stores(postgres_server, services)
            assert result.returncode == 0, result.stderr
            assert "a-store-password" not in result.stdout + result.stderr
        payments, inventory = services
        payments_url = postgres_server.database_url(payments)
        store = PaymentsStore(as_role(payments_url, payments))  # its tables, made as its role
        assert store.gateway_calls("any-order") == 0
        with psycopg.connect(as_role(payments_url, payments)) as connection:
            owner = connection.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            ).fetchone()
        assert owner == (payments,)
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(as_role(payments_url, inventory)).close()
    finally:
        close_pools()
        with psycopg.connect(postgres_server.url, autocommit=True) as admin:
            for name in services:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.mark.parametrize("name", ['pay"; DROP DATABASE postgres; --', "Payments", "9lives"])
def test_the_store_script_refuses_a_name_that_is_not_a_plain_identifier(
    postgres_server: PostgresServer, name: str
) -> None:
    """Before it touches the server: nothing is created, not even for the valid names."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    result = _create_stores(postgres_server, [prefix + "orders", name])

    assert result.returncode == 2
    assert result.stderr.strip().startswith("ORDERS_STORES: "), result.stderr
    assert "is not a store name" in result.stderr
    with psycopg.connect(postgres_server.url) as admin:
        made = admin.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE %s", (prefix + "%",)
        ).fetchone()
    assert made == (0,)


# --- start order and health --------------------------------------------------------------------


def test_dependencies_exist_and_their_conditions_can_be_met() -> None:
    for name, spec in SERVICES.items():
        for dependency, condition in depends_on(spec).items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            target = SERVICES[dependency]
            if condition == "service_healthy":
                assert "healthcheck" in target, f"{name} waits for {dependency} to be healthy"
            elif condition == "service_completed_successfully":
                assert is_one_shot(target), f"{dependency} must end for {name} to start"
            else:
                assert condition == "service_started", f"{name}: {condition}"


def start_order() -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, f"a dependency cycle through {name}"
        if name in order:
            return
        visiting.add(name)
        for dependency in depends_on(SERVICES[name]):
            visit(dependency)
        visiting.discard(name)
        order.append(name)

    for name in SERVICES:
        visit(name)
    return order


def ancestors(name: str) -> set[str]:
    found: set[str] = set()
    for dependency in depends_on(SERVICES[name]):
        found |= {dependency} | ancestors(dependency)
    return found


def test_start_order_puts_the_database_the_server_and_the_namespace_before_the_workers() -> None:
    order = start_order()

    assert order.index("postgresql") < order.index("temporal") < order.index("orders-worker")
    for name in WORKERS:
        assert {"postgresql", "temporal-schema", "temporal", "temporal-namespace"} <= (
            ancestors(name)
        )
        assert depends_on(SERVICES[name])["temporal-namespace"] == "service_completed_successfully"
    assert depends_on(SERVICES["temporal"])["temporal-schema"] == "service_completed_successfully"
    assert depends_on(SERVICES["temporal-schema"])["postgresql"] == "service_healthy"


def test_every_long_running_service_has_a_health_check() -> None:
    for name, spec in SERVICES.items():
        if not is_one_shot(spec):
            check = spec.get("healthcheck")
            assert check, name
            assert check["test"][0] in ("CMD", "CMD-SHELL"), name
            assert not check.get("disable"), name


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_a_worker_is_healthy_when_its_metrics_endpoint_answers(name: str) -> None:
    """The slim image has no curl: Python's urllib asks the worker's own /metrics."""
    spec = WORKERS[name]
    test = spec["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    code = test[3]
    ast.parse(code)  # valid Python
    assert "urllib.request" in code
    assert "/metrics" in code
    assert "ORDERS_METRICS_PORT" in code

    port = environment(spec)["ORDERS_METRICS_PORT"]
    assert re.search(rf"^EXPOSE {port}$", DOCKERFILE, flags=re.MULTILINE)
    assert spec["ports"] == [port], "published on a host port Docker picks, one per replica"


def test_published_host_ports_do_not_collide() -> None:
    published = [
        str(mapping).split(":")[0]
        for spec in SERVICES.values()
        for mapping in spec.get("ports", [])
        if ":" in str(mapping)  # a bare container port gets a host port of Docker's choice
    ]
    assert len(published) == len(set(published)), published


@pytest.mark.parametrize("name", sorted(WORKERS))
def test_a_worker_can_be_scaled_out(name: str) -> None:
    """`docker compose up --scale <worker>=3`: nothing of a worker may be one per host (a fixed
    host port, a container name) and its state is in a database every replica reaches."""
    spec = WORKERS[name]

    assert "container_name" not in spec
    assert all(":" not in str(mapping) for mapping in spec.get("ports", []))
    assert all(
        isinstance(store_location(Path("/data"), service, with_defaults(environment(spec))), str)
        for service in DECLARED
    ), "no store in a file of the container's own"


def test_images_are_pinned() -> None:
    for name, spec in SERVICES.items():
        image = spec.get("image", "")
        if "build" not in spec:
            assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{name}: pin {image!r}"
    assert not any("auto-setup" in spec.get("image", "") for spec in SERVICES.values()), (
        "temporalio/auto-setup is deprecated: schema by admin-tools, server image alone"
    )
    temporal = {
        spec["image"].split(":")[1]
        for spec in SERVICES.values()
        if spec.get("image", "").startswith(("temporalio/server:", "temporalio/admin-tools:"))
    }
    assert len(temporal) == 1, f"server and admin-tools at one version: {temporal}"


# --- files the compose file mounts -------------------------------------------------------------


def mounted_files() -> Iterator[tuple[str, Path, str]]:
    for name, spec in SERVICES.items():
        for volume in spec.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            if source.startswith("."):
                yield name, ROOT / source, target


def test_mounted_files_exist_in_the_repository() -> None:
    mounts = list(mounted_files())

    assert mounts, "the Temporal set-up scripts and dynamic config are mounted"
    for name, source, _ in mounts:
        assert source.is_file(), f"{name} mounts {source}, which does not exist"
        assert source.resolve().is_relative_to(ROOT / "deploy"), source


def test_the_one_shots_run_the_scripts_mounted_for_them() -> None:
    for name, spec in SERVICES.items():
        entrypoint = spec.get("entrypoint")
        if entrypoint and entrypoint[0] == "/bin/sh":
            targets = {target for service, _, target in mounted_files() if service == name}
            assert entrypoint[1] in targets, name


@pytest.mark.parametrize("script", sorted((ROOT / "deploy").rglob("*.sh")), ids=lambda p: p.name)
def test_the_scripts_are_valid_posix_shell(script: Path) -> None:
    result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert script.read_text().startswith("#!/bin/sh\n")


def test_the_dynamic_config_is_yaml_for_the_server() -> None:
    config = yaml.safe_load((ROOT / "deploy/temporal/dynamicconfig.yaml").read_text())
    target = SERVICES["temporal"]["environment"]["DYNAMIC_CONFIG_FILE_PATH"]

    assert any(t == target for _, _, t in mounted_files())
    for key, values in config.items():
        assert isinstance(values, list), key
        assert all("value" in v for v in values), key


def test_the_compose_server_is_tuned_as_the_embedded_one() -> None:
    config = yaml.safe_load((ROOT / "deploy/temporal/dynamicconfig.yaml").read_text())

    assert {key: config[key][0]["value"] for key in TUNED_DYNAMIC_CONFIG} == TUNED_DYNAMIC_CONFIG


def test_the_namespace_gets_the_search_attributes_the_code_uses() -> None:
    script = (ROOT / "deploy/temporal/create-namespace.sh").read_text()
    declared = re.search(r'^SEARCH_ATTRIBUTES="([^"]*)"', script, flags=re.MULTILINE)

    assert declared is not None
    assert set(declared.group(1).split()) == {key.name for key in search_attributes.ALL}
    assert all(key.indexed_value_type.name.endswith("KEYWORD") for key in search_attributes.ALL)
    assert "--type Keyword" in script


# --- the image ---------------------------------------------------------------------------------


def test_the_image_carries_every_package_the_project_declares() -> None:
    copied = set(re.findall(r"^COPY (\w+) \./\1$", DOCKERFILE, flags=re.MULTILINE))

    assert set(PACKAGES) == copied


def test_the_image_is_slim_non_root_and_installs_only_the_lock() -> None:
    base = re.search(r"^FROM (\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim(-\w+)?", base.group(1)), base.group(1)
    python = re.search(r"python:(\d+\.\d+)", base.group(1))
    assert python
    assert PYPROJECT["project"]["requires-python"] == f">={python.group(1)}"

    assert re.search(r"pip install --no-deps -r requirements\.lock", DOCKERFILE)
    assert re.search(r"pip install --no-deps \.", DOCKERFILE)
    assert "pip check" in DOCKERFILE
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, flags=re.MULTILINE)
    assert users, "run as non-root"
    assert users[-1] not in ("root", "0"), "run as non-root"


def test_the_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".venv", ".data", ".git"} <= ignored


def pinned() -> dict[str, str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    pairs = (
        line.strip().split("==") for line in lines if "==" in line and not line.startswith("#")
    )
    return {canonicalize_name(name): version for name, version in pairs}


def test_the_lock_pins_every_declared_dependency_within_its_range() -> None:
    lock = pinned()
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in lock, f"requirements.lock does not pin {name}"
        assert requirement.specifier.contains(lock[name], prereleases=True), (name, lock[name])


def test_the_lock_pins_what_its_pinned_versions_need() -> None:
    """Transitively, as far as this environment has the very versions the lock pins (their
    metadata is then the locked one's); the image's `pip check` checks the rest at build."""
    lock = pinned()
    todo = [Requirement(text) for text in PYPROJECT["project"]["dependencies"]]
    seen: set[str] = set()
    checked = 0
    while todo:
        requirement = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        assert name in lock, f"requirements.lock does not pin {name} ({requirement})"
        assert requirement.specifier.contains(lock[name], prereleases=True), (requirement, lock)
        if name in seen:
            continue
        seen.add(name)
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if distribution.version == lock[name]:
            checked += 1
            todo.extend(Requirement(text) for text in distribution.requires or [])
    assert checked, "no locked version is installed here: nothing was checked transitively"
