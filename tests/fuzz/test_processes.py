"""The worst of the corpus as a user meets it: `python -m ...` in a child process ends with one
line and exit 2, not a traceback (a recursion, a decoding error, a timer that overflows, a
number too long, an argument of 100 kB). No Temporal server is needed: every one is refused
before a command connects, and one that would connect finds nothing on the port it is given."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.fuzz.corpus import ADDRESS_FILES, ORDER_FILES, FileCase, changed, valid_order
from tests.fuzz.harness import EXIT_BAD_INPUT, MAX_LINE
from tests.support import free_port, one_line_error, run_module, user_env


def case(cases: tuple[FileCase, ...], name: str) -> FileCase:
    return next(c for c in cases if c.name == name)


async def test_the_worst_inputs_end_in_one_line_in_a_real_process(tmp_path: Path) -> None:
    env = user_env(f"127.0.0.1:{free_port()}", "fuzz", tmp_path)
    files = {
        "deep.json": case(ORDER_FILES, "nested-lists-10000").content(),
        "latin-1.json": case(ORDER_FILES, "latin-1").content(),
        "forever.json": json.dumps(
            changed(valid_order(), ("timeouts", "approval_window"), "P999999999D")
        ),
        "digits.json": case(ADDRESS_FILES, "number-of-5000-digits").content(),
    }
    for name, content in files.items():
        if isinstance(content, bytes):
            (tmp_path / name).write_bytes(content)
        else:
            (tmp_path / name).write_text(content)
    long_id = "o" * 100_000  # an argument a shell passes whole (the kernel's limit is 128 kB)
    runs = {
        "deep.json": ("starters.place_order", "--order-file", str(tmp_path / "deep.json")),
        "latin-1.json": ("starters.place_order", "--order-file", str(tmp_path / "latin-1.json")),
        "forever.json": ("starters.place_order", "--order-file", str(tmp_path / "forever.json")),
        "digits.json": (
            "starters.change_address",
            "fuzz-order-1",
            "--address-file",
            str(tmp_path / "digits.json"),
        ),
        "ORDER_ID": ("starters.approve_order", long_id),
    }
    says = {
        "deep.json": "nested too deeply",
        "latin-1.json": "is not UTF-8 text",
        "forever.json": "timeouts.approval_window",
        "digits.json": "more than 4300 digits",
        "ORDER_ID": "argument ORDER_ID",
    }

    results = await asyncio.gather(*(run_module(env, *args) for args in runs.values()))

    for name, result in zip(runs, results, strict=True):
        line = one_line_error(result, EXIT_BAD_INPUT, name, says[name])
        assert len(line) <= MAX_LINE, line[:MAX_LINE]
        assert result.stdout == ""
