"""Where a payment token could be left in clear: the histories as the server stores them, the
stores' files. A trace is the token itself or its base64 in any alignment (a payload's data as
JSON shows it, as a codec or a log might encode it)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from pathlib import Path

import psycopg
from psycopg import sql
from temporalio.client import Client


def traces(token: str) -> tuple[bytes, ...]:
    """The token, and the part of its base64 that the bytes around it cannot change, at each of
    the three offsets it may start at."""
    raw = token.encode()
    found = [raw]
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + raw)
            found.append(encoded[4 if offset else 0 : -4])
    return tuple(found)


def holds(data: bytes, token: str) -> bool:
    return any(trace in data for trace in traces(token))


async def stored_history(client: Client, workflow_id: str) -> bytes:
    """Every event of the workflow's history, serialized as the server keeps it (payloads
    undecoded: `client` should carry no codec)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return b"".join(event.SerializeToString() for event in history.events)


async def histories_holding(client: Client, workflow_ids: Iterable[str], token: str) -> list[str]:
    return [
        workflow_id
        for workflow_id in workflow_ids
        if holds(await stored_history(client, workflow_id), token)
    ]


def files_holding(directory: Path, token: str) -> list[Path]:
    """The files under `directory` (the stores, their write-ahead logs) that hold a trace."""
    return sorted(
        path for path in directory.rglob("*") if path.is_file() and holds(path.read_bytes(), token)
    )


def tables_holding(url: str, token: str) -> list[str]:
    """The tables of a PostgreSQL database (every schema of the stores) with a row that holds a
    trace, each row read as its text form."""
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "AND table_type = 'BASE TABLE'"
        ).fetchall()
        holding = []
        for schema, table in tables:
            rows = conn.execute(
                sql.SQL("SELECT t::text FROM {}.{} AS t").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchall()
            if any(holds(row[0].encode(), token) for row in rows):
                holding.append(f"{schema}.{table}")
    return sorted(holding)
