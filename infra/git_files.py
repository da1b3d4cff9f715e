"""A file as a git ref has it: what a release committed, read without checking it out."""

from __future__ import annotations

import subprocess
from pathlib import Path

from infra.cli import BadInputError

GIT_TIMEOUT_SECONDS = 30


def file_at(ref: str, path: Path, repository: Path) -> str:
    """`path` (from the repository's root) as committed at `ref`; a BadInputError naming the
    ref and why when git cannot give it (no such ref, no such file there, no git)."""
    if ref.startswith("-"):  # never an option to git
        raise BadInputError(f"--against {ref}: not a git ref")
    try:
        shown = subprocess.run(
            ["git", "show", f"{ref}:{path.as_posix()}"],
            cwd=repository,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise BadInputError(f"--against {ref}: git is not installed") from None
    if shown.returncode != 0:
        why = (shown.stderr.strip().splitlines() or ["git failed"])[-1].removeprefix("fatal: ")
        raise BadInputError(f"--against {ref}: no {path.as_posix()} there ({why})")
    return shown.stdout
