"""Where the service stores live: `./.data` unless `ORDERS_DATA_DIR` says otherwise."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_VARIABLE = "ORDERS_DATA_DIR"


def data_dir() -> Path:
    path = Path(os.environ.get(DATA_DIR_VARIABLE) or ".data")
    path.mkdir(parents=True, exist_ok=True)
    return path
