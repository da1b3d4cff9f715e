"""At least 200 distinct malformed inputs, across every kind the issue names."""

from __future__ import annotations

from tests.fuzz.inputs import AT_LEAST, malformed_inputs


def test_at_least_200_malformed_inputs_across_every_kind() -> None:
    counts = malformed_inputs()

    assert sum(counts.values()) >= AT_LEAST, counts
    assert all(count > 0 for count in counts.values()), counts
    for kind in ("approve", "reject", "cancel", "change_address", "resolve"):
        assert counts[f"{kind} arguments"] > 0
