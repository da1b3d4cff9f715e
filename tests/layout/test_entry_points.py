"""The shape a newcomer relies on: every module in `starters/` is a command that parses, calls
and prints, the libraries live in packages named for what they are, and nothing depends on a
command (a command imports no other, and no library imports a command)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES = sorted(
    p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
)
COMMANDS = sorted(p for p in (ROOT / "starters").glob("*.py") if p.name != "__init__.py")
MAX_COMMAND_LINES = 100
"""A command parses its arguments, calls a library and prints: a few dozen lines, its options'
help included. More is a library hiding in `starters/`."""


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "starters":  # `from starters import place_order`
                found |= {f"starters.{alias.name}" for alias in node.names}
    return found


def test_there_are_commands_to_check() -> None:
    assert len(COMMANDS) >= 15, COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: path.stem)
def test_a_module_of_starters_is_a_command_and_imports_no_other(path: Path) -> None:
    source = path.read_text()
    tree = ast.parse(source)
    defined = {
        node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }

    assert "main" in defined, f"{path.name} has no main()"
    assert source.rstrip().endswith('if __name__ == "__main__":\n    cli.run(main)'), path.name
    others = {m for m in imported_modules(path) if m.startswith("starters.")}
    assert others == set(), f"{path.name} imports the commands {sorted(others)}"
    lines = len(source.splitlines())
    assert lines <= MAX_COMMAND_LINES, f"{path.name}: {lines} lines; move the library out"


def test_no_library_imports_a_command() -> None:
    importing = [
        f"{path.relative_to(ROOT)} imports {module}"
        for package in PACKAGES
        if package != "starters"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module in sorted(imported_modules(path))
        if module == "starters" or module.startswith("starters.")
    ]
    assert importing == []


def test_every_package_of_the_tree_is_declared_and_in_the_image() -> None:
    """A new package (`client/`, `insight/`...) must be in the wheel and in the image, or the
    containers fail on their first import."""
    on_disk = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in ("tests", "benchmarks")
    }
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert set(PACKAGES) == on_disk
    for package in on_disk:
        assert f"COPY {package} ./{package}\n" in dockerfile, package
