"""The workflow sandbox, configured once for workers, tests and the replayer alike."""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# The domain package is pure, deterministic models; passing it through (with pydantic) avoids
# re-importing it for every workflow run and keeps model classes identical inside and outside.
_PASSTHROUGH = ("domain", "pydantic", "pydantic_core", "annotated_types")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*_PASSTHROUGH)
    )
