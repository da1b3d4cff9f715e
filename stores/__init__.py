"""Each service's own state, touched only by that service's activities (and read by the audit):
a SQLite file per service in the data directory, or, with `ORDERS_STORE_URL` (or one service's
`ORDERS_<SERVICE>_STORE_URL`), the service's own schema in a PostgreSQL database."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from domain.services import Service
from stores.database import POSTGRES_SCHEMES, StoreLocation, is_postgres

STORE_URL_VARIABLE = "ORDERS_STORE_URL"


class StoreSettingsError(ValueError):
    """A store URL that names no store this project can open: which variable, and why."""


def store_path(data_dir: Path, service: Service) -> Path:
    """`<data dir>/<service>.sqlite3`: where a service keeps its state by default."""
    return data_dir / f"{service.value}.sqlite3"


def store_url_variable(service: Service) -> str:
    """`ORDERS_<SERVICE>_STORE_URL`: one service's store elsewhere than the others'."""
    return f"ORDERS_{service.name}_STORE_URL"


def store_location(
    data_dir: Path, service: Service, environ: Mapping[str, str] = os.environ
) -> StoreLocation:
    """Where `service` keeps its state: the PostgreSQL database of `ORDERS_<SERVICE>_STORE_URL`,
    else of `ORDERS_STORE_URL` (in a schema named for the service), else its SQLite file in
    `data_dir`."""
    for variable in (store_url_variable(service), STORE_URL_VARIABLE):
        url = environ.get(variable, "").strip()
        if not url:
            continue
        if not is_postgres(url):
            scheme = url.split("://", 1)[0] if "://" in url else "no scheme"
            raise StoreSettingsError(
                f"{variable}: not a PostgreSQL URL ({scheme}); expected "
                f"{POSTGRES_SCHEMES[0]}user:password@host:port/database"
            )
        return url
    return store_path(data_dir, service)
