"""Where every command connects: `infra.client.connect_config` over `temporalio.envconfig`, from a
`temporal.toml` profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) and the TEMPORAL_* variables, so
the same commands reach a dev server, a self-hosted cluster behind mTLS, or Temporal Cloud with an
API key. No server is needed: this is the configuration a client would connect with."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from temporalio.envconfig import ClientConfig
from temporalio.service import TLSConfig

from infra.client import DEFAULT_ADDRESS, ConnectionFailedError, connect, connect_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "temporal.toml.example"

CERT = "-----BEGIN CERTIFICATE-----\nZHVtbXkgY2xpZW50IGNlcnQ=\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nZHVtbXkgY2xpZW50IGtleQ==\n-----END PRIVATE KEY-----\n"
CA = "-----BEGIN CERTIFICATE-----\nZHVtbXkgY2EgY2VydA==\n-----END CERTIFICATE-----\n"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TEMPORAL_* variable of the machine, and no temporal.toml at the default location."""
    for name in [name for name in os.environ if name.startswith("TEMPORAL_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """Dummy PEM files: the configuration reads them, nothing parses them here."""
    files = {"cert": CERT, "key": KEY, "ca": CA}
    paths = {name: tmp_path / f"{name}.pem" for name in files}
    for name, text in files.items():
        paths[name].write_text(text)
    return paths


@pytest.fixture
def config_file(tmp_path: Path, pki: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "temporal.toml"
    path.write_text(
        f"""
[profile.default]
address = "127.0.0.1:7233"
namespace = "orders-dev"

[profile.cloud]
address = "orders.a1b2c.tmprl.cloud:7233"
namespace = "orders.a1b2c"
api_key = "file-api-key"

[profile.cloud.tls]
server_name = "orders.a1b2c.tmprl.cloud"

[profile.selfhosted]
address = "temporal.internal.example:7233"
namespace = "orders"

[profile.selfhosted.tls]
client_cert_path = "{pki["cert"]}"
client_key_path = "{pki["key"]}"
server_ca_cert_path = "{pki["ca"]}"
server_name = "temporal.internal.example"
"""
    )
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(path))
    return path


def tls_of(config: dict[str, Any]) -> TLSConfig:
    tls = config.get("tls")
    assert isinstance(tls, TLSConfig), f"expected TLS settings, got {tls!r}"
    return tls


# --- nothing configured ------------------------------------------------------------------------


def test_nothing_configured_means_a_local_server_without_tls() -> None:
    config = connect_config()

    assert config["target_host"] == DEFAULT_ADDRESS == "localhost:7233"
    assert config.get("namespace", "default") == "default"
    assert "api_key" not in config
    assert not config.get("tls")


def test_an_empty_address_variable_is_the_default_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "")

    assert connect_config()["target_host"] == DEFAULT_ADDRESS


# --- profiles from temporal.toml ---------------------------------------------------------------


@pytest.mark.usefixtures("config_file")
def test_the_default_profile_is_used_when_none_is_chosen() -> None:
    config = connect_config()

    assert config["target_host"] == "127.0.0.1:7233"
    assert config["namespace"] == "orders-dev"
    assert "api_key" not in config
    assert not config.get("tls")


@pytest.mark.usefixtures("config_file")
def test_temporal_profile_chooses_the_cloud_profile_with_its_api_key_and_tls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "cloud")

    config = connect_config()

    assert config["target_host"] == "orders.a1b2c.tmprl.cloud:7233"
    assert config["namespace"] == "orders.a1b2c"
    assert config["api_key"] == "file-api-key"
    tls = tls_of(config)
    assert tls.domain == "orders.a1b2c.tmprl.cloud"
    assert tls.client_cert is None
    assert tls.client_private_key is None
    assert tls.server_root_ca_cert is None, "the system's CAs check Temporal Cloud"


@pytest.mark.usefixtures("config_file")
def test_the_self_hosted_profile_reads_the_mtls_files(
    monkeypatch: pytest.MonkeyPatch, pki: dict[str, Path]
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "selfhosted")

    config = connect_config()

    assert config["target_host"] == "temporal.internal.example:7233"
    assert config["namespace"] == "orders"
    assert "api_key" not in config
    tls = tls_of(config)
    assert tls.client_cert == CERT.encode()
    assert tls.client_private_key == KEY.encode()
    assert tls.server_root_ca_cert == CA.encode()
    assert tls.domain == "temporal.internal.example"


@pytest.mark.usefixtures("config_file")
def test_a_profile_named_by_the_caller_wins_over_temporal_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "selfhosted")

    config = connect_config("cloud")

    assert config["target_host"] == "orders.a1b2c.tmprl.cloud:7233"


# --- variables over the profile ----------------------------------------------------------------


@pytest.mark.usefixtures("config_file")
def test_variables_override_the_profile_field_by_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "cloud")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "eu-west-1.aws.api.temporal.io:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "orders-staging.a1b2c")
    monkeypatch.setenv("TEMPORAL_API_KEY", "env-api-key")

    config = connect_config()

    assert config["target_host"] == "eu-west-1.aws.api.temporal.io:7233"
    assert config["namespace"] == "orders-staging.a1b2c"
    assert config["api_key"] == "env-api-key"
    assert tls_of(config).domain == "orders.a1b2c.tmprl.cloud", "the rest stays the profile's"


@pytest.mark.usefixtures("config_file")
def test_an_address_variable_keeps_the_profiles_mtls(
    monkeypatch: pytest.MonkeyPatch, pki: dict[str, Path]
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "selfhosted")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "10.0.0.5:7233")

    config = connect_config()

    assert config["target_host"] == "10.0.0.5:7233"
    assert tls_of(config).client_cert == CERT.encode()


def test_variables_alone_reach_temporal_cloud_with_an_api_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "us-east-1.aws.api.temporal.io:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "orders.a1b2c")
    monkeypatch.setenv("TEMPORAL_API_KEY", "env-api-key")

    config = connect_config()

    assert config["target_host"] == "us-east-1.aws.api.temporal.io:7233"
    assert config["namespace"] == "orders.a1b2c"
    assert config["api_key"] == "env-api-key"
    assert config["tls"] is True, "an API key turns TLS on"


def test_variables_alone_reach_a_cluster_behind_mtls(
    monkeypatch: pytest.MonkeyPatch, pki: dict[str, Path]
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal.example:7233")
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(pki["cert"]))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(pki["key"]))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(pki["ca"]))
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.internal.example")

    config = connect_config()

    tls = tls_of(config)
    assert tls.client_cert == CERT.encode()
    assert tls.client_private_key == KEY.encode()
    assert tls.server_root_ca_cert == CA.encode()
    assert tls.domain == "temporal.internal.example"
    assert "api_key" not in config


def test_tls_can_be_turned_off_for_an_api_key_behind_a_plain_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_API_KEY", "env-api-key")
    monkeypatch.setenv("TEMPORAL_TLS", "false")

    config = connect_config()

    assert config["api_key"] == "env-api-key"
    assert config["tls"] is False


def test_a_config_file_that_does_not_exist_is_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """temporalio.envconfig's choice, not ours: a mistyped TEMPORAL_CONFIG_FILE silently means
    the defaults (the README should say so)."""
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(tmp_path / "missing.toml"))

    assert connect_config()["target_host"] == DEFAULT_ADDRESS


# --- what should be one line, not a traceback --------------------------------------------------


def test_an_empty_temporal_profile_means_the_default_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "")

    assert connect_config()["target_host"] == DEFAULT_ADDRESS


@pytest.mark.usefixtures("config_file")
async def test_an_unknown_profile_is_a_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_PROFILE", "staging")

    with pytest.raises(ConnectionFailedError, match="staging"):
        await connect()


async def test_a_missing_client_certificate_is_a_connection_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(tmp_path / "missing.key"))

    with pytest.raises(ConnectionFailedError, match=r"missing\.pem"):
        await connect()


# --- the example in deploy/ --------------------------------------------------------------------


def test_the_example_has_a_local_a_cloud_and_an_mtls_profile_and_no_secret() -> None:
    profiles = ClientConfig.load(config_source=EXAMPLE, config_file_strict=True).profiles
    raw = tomllib.loads(EXAMPLE.read_text())["profile"]

    assert set(profiles) == {"default", "cloud", "selfhosted"}
    assert profiles["default"].address == DEFAULT_ADDRESS
    assert profiles["default"].tls is None

    cloud = profiles["cloud"]
    assert cloud.address
    assert cloud.address.endswith(".api.temporal.io:7233")
    assert cloud.api_key is None, "the API key comes from TEMPORAL_API_KEY, never the file"
    assert cloud.tls is not None
    assert cloud.tls.disabled is False

    mtls = profiles["selfhosted"]
    assert mtls.tls is not None
    assert mtls.tls.client_cert is not None
    assert mtls.tls.client_private_key is not None
    for table in raw.values():
        assert "api_key" not in table
        assert not any(key.endswith("_data") for key in table.get("tls", {}))


def test_the_example_cloud_profile_gives_tls_and_takes_the_key_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(EXAMPLE))
    monkeypatch.setenv("TEMPORAL_PROFILE", "cloud")
    monkeypatch.setenv("TEMPORAL_API_KEY", "env-api-key")

    config = connect_config()

    assert config["api_key"] == "env-api-key"
    assert isinstance(config["tls"], TLSConfig)
