"""Every version marker is replayed on both sides: a history recorded before the change (no
marker: `workflow.patched` answers False and the old code runs) and one recorded after it (the
marker: the new code runs). Dropping either branch, or the patch, breaks the histories of that
side; these tests make sure there is one of each to break, for every workflow type that reaches
the call, and that every `workflow.patched` in the code is declared (`ALL_PATCHES`)."""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.replay.paths import workflow_type
from tests.replay.recorded import Recorded, recorded_histories
from workers.registry import ALL_WORKFLOWS
from workflows.choreography.versions import ALL_PATCHES, PATCHES_BY_ID, Patch

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = PROJECT_ROOT / "workflows"
_PATCH_CALLS = frozenset({"patched", "deprecate_patch"})


@dataclass(frozen=True)
class PatchCall:
    """One `workflow.patched(...)` in the code, where it is and the patch id it names."""

    where: str
    patch_id: str | None
    """None when the argument is no constant this test can resolve."""


def _is_patch_call(node: ast.Call) -> bool:
    """`workflow.patched(...)`, `temporalio.workflow.patched(...)`, or `patched(...)` imported
    from the SDK."""
    function = node.func
    if isinstance(function, ast.Attribute):
        return function.attr in _PATCH_CALLS
    return isinstance(function, ast.Name) and function.id in _PATCH_CALLS


def _resolve(argument: ast.expr, module: object) -> str | None:
    """The patch id a call names: a string, or a constant the module imports or defines."""
    if isinstance(argument, ast.Constant):
        return argument.value if isinstance(argument.value, str) else None
    if isinstance(argument, ast.Name):
        value = getattr(module, argument.id, None)
    elif isinstance(argument, ast.Attribute):
        owner = _resolve_object(argument.value, module)
        value = getattr(owner, argument.attr, None)
    else:
        return None
    return value if isinstance(value, str) else None


def _resolve_object(node: ast.expr, module: object) -> object:
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve_object(node.value, module), node.attr, None)
    return None


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)


def patch_calls() -> list[PatchCall]:
    """Every patch call under `workflows/`, read from the syntax tree (not a regex: a call may
    span lines, a comment or a string naming `patched` is none)."""
    found = []
    for path in sorted(WORKFLOWS.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _is_patch_call(n)]
        if not calls:
            continue
        module = importlib.import_module(_module_name(path))
        for call in calls:
            where = f"{path.relative_to(PROJECT_ROOT)}:{call.lineno}"
            patch_id = _resolve(call.args[0], module) if call.args else None
            found.append(PatchCall(where, patch_id))
    return found


def test_every_workflow_patched_call_names_a_registered_patch() -> None:
    calls = patch_calls()
    unregistered = [call.where for call in calls if call.patch_id not in PATCHES_BY_ID]

    assert calls, "no workflow.patched call found under workflows/: is the search wrong?"
    assert not unregistered, f"declare these patch ids in ALL_PATCHES: {unregistered}"


def test_every_registered_patch_is_called_in_the_workflows() -> None:
    called = {call.patch_id for call in patch_calls()}
    stale = sorted(patch.patch_id for patch in ALL_PATCHES if patch.patch_id not in called)

    assert not stale, f"ALL_PATCHES declares patches no workflow calls: {stale}"


def test_every_patch_id_is_declared_once() -> None:
    ids = [patch.patch_id for patch in ALL_PATCHES]

    assert len(ids) == len(set(ids)), ids


def test_every_patch_is_called_by_registered_workflow_types_only() -> None:
    registered = {workflow_type(workflow) for workflow in ALL_WORKFLOWS}

    for patch in ALL_PATCHES:
        assert patch.called_by, f"{patch.patch_id} names no workflow type"
        assert patch.called_by <= registered, sorted(patch.called_by - registered)


def _of_type(name: str) -> list[Recorded]:
    return [recorded for recorded in recorded_histories() if recorded.workflow_type == name]


PATCH_TYPES = [(patch, name) for patch in ALL_PATCHES for name in sorted(patch.called_by)]


@pytest.mark.parametrize(
    ("patch", "workflow_type_name"),
    PATCH_TYPES,
    ids=[f"{patch.patch_id}-{name}" for patch, name in PATCH_TYPES],
)
def test_each_patch_has_a_history_with_and_one_without_its_marker_for_each_type_calling_it(
    patch: Patch, workflow_type_name: str
) -> None:
    histories = _of_type(workflow_type_name)
    marked = [r.name for r in histories if patch.patch_id in r.patch_markers]
    unmarked = [r.name for r in histories if patch.patch_id not in r.patch_markers]

    assert marked, (
        f"no history of {workflow_type_name} took the new branch of {patch.patch_id}: "
        "record one with `python -m tests.replay.record_histories`"
    )
    assert unmarked, (
        f"no history of {workflow_type_name} from before {patch.patch_id}: the old branch is "
        "no longer replayed (keep a history recorded before the change)"
    )


def test_no_history_carries_the_marker_of_a_patch_its_type_is_not_declared_to_call() -> None:
    """The other half of `called_by`: a type that records the marker calls the patch."""
    undeclared = [
        f"{recorded.name}: {patch_id}"
        for recorded in recorded_histories()
        for patch_id in sorted(recorded.patch_markers)
        if patch_id not in PATCHES_BY_ID
        or recorded.workflow_type not in PATCHES_BY_ID[patch_id].called_by
    ]

    assert not undeclared, f"markers of patches not declared for the type: {undeclared}"
