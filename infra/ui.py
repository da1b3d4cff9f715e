"""Links into the Temporal Web UI."""

from __future__ import annotations

import os
from urllib.parse import quote

UI_URL_VARIABLE = "TEMPORAL_UI_URL"
DEFAULT_UI_URL = "http://localhost:8233"


def ui_base() -> str:
    return (os.environ.get(UI_URL_VARIABLE) or DEFAULT_UI_URL).rstrip("/")


def workflow_url(workflow_id: str, namespace: str = "default") -> str:
    return f"{ui_base()}/namespaces/{quote(namespace)}/workflows/{quote(workflow_id)}"


def list_url(query: str, namespace: str = "default") -> str:
    return f"{ui_base()}/namespaces/{quote(namespace)}/workflows?query={quote(query)}"
