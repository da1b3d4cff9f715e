"""A server start that does not answer in time is tried again, a bounded number of times."""

from __future__ import annotations

import pytest

from infra.server_start import first_to_start


class Starts:
    """A start that fails with the SDK's error `failures` times, then starts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tried = 0

    async def __call__(self) -> str:
        self.tried += 1
        if self.tried <= self.failures:
            raise RuntimeError(f"ephemeral server did not start within 5s (try {self.tried})")
        return "server"


async def test_a_start_that_times_out_is_tried_again() -> None:
    start = Starts(failures=2)

    assert await first_to_start(start, attempts=3) == "server"
    assert start.tried == 3


async def test_the_last_failure_is_raised_once_the_attempts_are_spent() -> None:
    start = Starts(failures=5)

    with pytest.raises(RuntimeError, match=r"try 3\)"):
        await first_to_start(start, attempts=3)
    assert start.tried == 3


async def test_an_error_that_is_not_the_sdks_is_not_retried() -> None:
    async def broken() -> str:
        raise ValueError("not a start failure")

    with pytest.raises(ValueError, match="not a start failure"):
        await first_to_start(broken, attempts=3)
