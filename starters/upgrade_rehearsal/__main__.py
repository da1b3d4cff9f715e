"""`python -m starters.upgrade_rehearsal`: see the package's docstring."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from chaos.processes import free_port
from infra import cli
from starters import upgrade_rehearsal
from starters.upgrade_rehearsal.rehearsal import audit, rehearsed, verdict_table


def _parser() -> cli.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="python -m starters.upgrade_rehearsal", description=upgrade_rehearsal.__doc__
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the rehearsal's directory (stores, logs)"
    )
    parser.add_argument(
        "--hold",
        action="store_true",
        help="afterwards, keep the server (with its Web UI) and v2's workers up until Ctrl-C, "
        "to look at the orders' histories and the deployment's versions",
    )
    return parser


async def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console(width=max(Console().width, 160))
    work = Path(tempfile.mkdtemp(prefix="upgrade-rehearsal-"))
    stop = cli.interruption() if args.hold else None
    ui_port = free_port() if args.hold else None
    try:
        async with rehearsed(work, console, ui_port) as verdicts:
            console.print(verdict_table(verdicts))
            surprises = [
                f"{verdict.order.order_id}: {surprise}"
                for verdict in verdicts
                for surprise in verdict.surprises
            ] + audit(work / "data")
            if stop is not None:
                console.print(
                    f"Web UI at http://localhost:{ui_port}/namespaces/default/workflows (each "
                    "workflow's page shows its deployment, build and versioning behaviour); "
                    "Ctrl-C to stop"
                )
                await stop.wait()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if surprises:
        for surprise in surprises:
            console.print(f"surprise: {surprise}")
        return cli.EXIT_REFUSED
    console.print(
        f"upgrade rehearsed: {len(verdicts)} orders, each on the build it started on with that "
        "build's behaviour; v1 drained and stopped; the audit is clean"
    )
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
