"""One way to connect to Temporal, for every worker, starter and tool.

Connection settings come from `temporalio.envconfig`: a profile in `temporal.toml` and the
standard variables (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, TLS files...),
with `localhost:7233` when nothing is set.
"""

from __future__ import annotations

import os
from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime

from infra.codec import PayloadKeyError, data_converter
from infra.telemetry import TracingConfigError, configure_tracing, tracing_interceptors

DEFAULT_ADDRESS = "localhost:7233"


class ConnectionFailedError(RuntimeError):
    pass


class ConnectionSettingsError(ConnectionFailedError):
    """The settings themselves are wrong (an unknown profile, a missing TLS file, an address
    that is no address): bad input, not a server that did not answer."""


def connect_config(profile: str | None = None) -> dict[str, Any]:
    """The connection settings; an empty variable counts as unset (`TEMPORAL_PROFILE=` is the
    default profile, as a shell user means it), not as a profile named ''."""
    environment = {name: value for name, value in os.environ.items() if value != ""}
    config: dict[str, Any] = dict(
        ClientConfig.load_client_connect_config(
            profile=profile or environment.get("TEMPORAL_PROFILE"),
            override_env_vars=environment,
        )
    )
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if not config.get("target_host"):
        config["target_host"] = DEFAULT_ADDRESS
    return config


def target_of(config: dict[str, Any]) -> str:
    return f"{config['target_host']} (namespace {config.get('namespace') or 'default'})"


async def connect(profile: str | None = None, *, runtime: Runtime | None = None) -> Client:
    """Connect with the project's data converter (pydantic v2) and the tracing interceptors,
    which workers built from this client inherit. Tracing is set up on the first connection
    (`infra.telemetry.configure_tracing`), unless the process set it up before with its name.
    `runtime`: the one whose metrics a worker's endpoint serves (`infra.metrics`); None for the
    SDK's default."""
    try:
        config = connect_config(profile)
    except (RuntimeError, OSError) as error:  # an unknown profile, an unreadable TLS file
        raise ConnectionSettingsError(f"cannot read the connection settings: {error}") from error
    try:
        converter = data_converter()
    except PayloadKeyError as error:
        raise ConnectionFailedError(str(error)) from error
    try:
        configure_tracing()
    except TracingConfigError as error:  # a command reports it on one line, as it does this
        raise ConnectionFailedError(f"cannot set up tracing: {error}") from error
    try:
        return await Client.connect(
            **config,
            data_converter=converter,
            interceptors=tracing_interceptors(),
            runtime=runtime,
        )
    except ValueError as error:  # the address itself is malformed: `localhost:abc`
        raise ConnectionSettingsError(
            f"TEMPORAL_ADDRESS (or the profile's address) {config['target_host']!r}: {error}"
        ) from error
    except RuntimeError as error:
        raise ConnectionFailedError(
            f"cannot reach Temporal at {target_of(config)}: {error}. "
            "Start one with `python -m starters.dev_server`, or set TEMPORAL_ADDRESS."
        ) from error


def describe(client: Client) -> str:
    """Where a client is connected, for people: `localhost:7233 (namespace default)`."""
    return f"{client.service_client.config.target_host} (namespace {client.namespace})"
