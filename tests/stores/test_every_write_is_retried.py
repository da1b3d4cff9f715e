"""Every store method that opens a write transaction runs again when PostgreSQL reports a
conflict with a concurrent worker's (`retried_on_conflict`): a write added without it would pass
every test on SQLite and fail, now and then, under two workers on PostgreSQL."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator

import pytest

from stores import inventory, notifications, orders, payments, shipping
from stores.database import retried_on_conflict

STORE_MODULES = (orders, inventory, payments, shipping, notifications)


def _opens_a_write(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "write"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "_db"
        for node in ast.walk(function)
    )


def _decorators(function: ast.FunctionDef) -> set[str]:
    return {ast.unparse(decorator) for decorator in function.decorator_list}


def writing_methods() -> Iterator[tuple[str, ast.FunctionDef]]:
    for module in STORE_MODULES:
        tree = ast.parse(inspect.getsource(module))
        for cls in (node for node in tree.body if isinstance(node, ast.ClassDef)):
            for method in cls.body:
                if isinstance(method, ast.FunctionDef) and _opens_a_write(method):
                    yield f"{module.__name__}.{cls.name}.{method.name}", method


WRITES = dict(writing_methods())


def test_the_stores_have_writes_to_check() -> None:
    assert len(WRITES) >= 20, sorted(WRITES)  # the check finds them: it is not vacuous


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_write_is_run_again_on_a_conflict(name: str) -> None:
    assert retried_on_conflict.__name__ in _decorators(WRITES[name]), (
        f"{name} opens a write transaction without @{retried_on_conflict.__name__}"
    )
