"""Every malformed order file and address file is refused before anything is placed or sent: one
line that names the file and the field, exit 2, no traceback, the payment token never echoed.

The commands run in-process (`tests.fuzz.harness`), as `python -m` would run them, against a
client that fails the test if an input ever gets as far as needing Temporal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from client.input_files import read_address, read_order
from starters import change_address, place_order
from tests.fuzz.corpus import (
    ADDRESS_FILES,
    ORDER_FILES,
    TOKEN,
    FileCase,
    valid_address,
    valid_order,
)
from tests.fuzz.harness import (
    EXIT_BAD_INPUT,
    TALLY,
    InProcess,
    fingerprint,
    fuzz_settings,
    prog_of,
    refused_cleanly,
)
from tests.fuzz.inputs import (
    ADDRESS_EXAMPLES,
    ADDRESS_EXAMPLES_DISTINCT,
    ORDER_EXAMPLES,
    ORDER_EXAMPLES_DISTINCT,
)
from tests.fuzz.strategies import (
    ADDRESS_SPECS,
    MUTATIONS,
    ORDER_ID,
    ORDER_SPECS,
    Mutation,
    Spec,
    address_mutations,
    order_mutations,
)


def write(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")


# The documents every mutation starts from are valid: what breaks them is the mutation alone.


def test_the_valid_order_and_address_are_taken(tmp_path: Path, commands: InProcess) -> None:
    order_file, address_file = tmp_path / "order.json", tmp_path / "address.json"
    write(order_file, json.dumps(valid_order()))
    write(address_file, json.dumps(valid_address()))

    assert read_order(order_file).total_cents == 8_900 + 2 * 2_900
    assert read_address(address_file).city == "Arlington"
    with pytest.raises(AssertionError, match="the input was accepted"):
        commands.run(place_order, ["--order-file", str(order_file)])


@pytest.mark.parametrize(
    ("specs", "document"),
    [(ORDER_SPECS, valid_order()), (ADDRESS_SPECS, valid_address())],
    ids=["order", "address"],
)
def test_every_field_a_mutation_breaks_is_in_the_valid_document(
    specs: tuple[Spec, ...], document: dict[str, object]
) -> None:
    for spec in specs:
        value: Any = document
        for part in spec.path:
            assert part in (value if isinstance(value, dict) else range(len(value))), spec.path
            value = value[part]


def test_corpus_cases_are_distinct() -> None:
    for cases in (ORDER_FILES, ADDRESS_FILES):
        names = [case.name for case in cases]
        assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


# The hand-written corpus.


@pytest.mark.parametrize("case", ORDER_FILES, ids=lambda case: case.name)
def test_a_malformed_order_file_is_refused(
    case: FileCase, commands: InProcess, tmp_path: Path
) -> None:
    path = tmp_path / "order.json"
    write(path, case.content())

    with TALLY.trying("order files", case.name):
        outcome = commands.run(place_order, ["--order-file", str(path)])
        refused_cleanly(
            outcome, EXIT_BAD_INPUT, prog_of(place_order), str(path), *case.says, secrets=[TOKEN]
        )


@pytest.mark.parametrize("case", ADDRESS_FILES, ids=lambda case: case.name)
def test_a_malformed_address_file_is_refused(
    case: FileCase, commands: InProcess, tmp_path: Path
) -> None:
    path = tmp_path / "address.json"
    write(path, case.content())

    with TALLY.trying("address files", case.name):
        outcome = commands.run(change_address, [ORDER_ID, "--address-file", str(path)])
        refused_cleanly(outcome, EXIT_BAD_INPUT, prog_of(change_address), str(path), *case.says)


# Mutations of a valid document, by Hypothesis.


def _refused(
    commands: InProcess, path: Path, category: str, mutation: Mutation, tried: dict[str, str]
) -> None:
    text = json.dumps(mutation.document)
    key = fingerprint(text)
    tried[key] = mutation.what
    write(path, text)
    secrets = [TOKEN, *([mutation.secret] if mutation.secret else [])]
    command, argv = (
        (place_order, ["--order-file", str(path)])
        if category == ORDERS_GENERATED
        else (change_address, [ORDER_ID, "--address-file", str(path)])
    )
    with TALLY.trying(category, key):
        outcome = commands.run(command, argv)
        refused_cleanly(
            outcome, EXIT_BAD_INPUT, prog_of(command), str(path), mutation.where, secrets=secrets
        )


ORDERS_GENERATED = "order files, generated"
ADDRESSES_GENERATED = "address files, generated"


def test_mutated_orders_are_refused_naming_the_field(commands: InProcess, tmp_path: Path) -> None:
    path, tried = tmp_path / "order.json", dict[str, str]()

    @fuzz_settings(max_examples=ORDER_EXAMPLES)
    @given(order_mutations())
    def refused(mutation: Mutation) -> None:
        _refused(commands, path, ORDERS_GENERATED, mutation, tried)

    refused()
    assert len(tried) >= ORDER_EXAMPLES_DISTINCT
    assert set(tried.values()) == set(MUTATIONS)


def test_mutated_addresses_are_refused_naming_the_field(
    commands: InProcess, tmp_path: Path
) -> None:
    path, tried = tmp_path / "address.json", dict[str, str]()

    @fuzz_settings(max_examples=ADDRESS_EXAMPLES)
    @given(address_mutations())
    def refused(mutation: Mutation) -> None:
        _refused(commands, path, ADDRESSES_GENERATED, mutation, tried)

    refused()
    assert len(tried) >= ADDRESS_EXAMPLES_DISTINCT
    assert set(tried.values()) == set(MUTATIONS) - {"unknown sku"}
