"""Each service's own state, one SQLite file per service, touched only by that service's
activities (and read by the audit)."""

from __future__ import annotations

from pathlib import Path

from domain.services import Service


def store_path(data_dir: Path, service: Service) -> Path:
    """`<data dir>/<service>.sqlite3`: where a service keeps its state."""
    return data_dir / f"{service.value}.sqlite3"
