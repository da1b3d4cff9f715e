"""The Mermaid diagram: every event on an edge from its producer to each consumer, drawn by kind,
in text a Mermaid viewer accepts.

The syntax is checked line by line against the few forms the diagram uses, and, where npm could
install it (`tools/mermaid`), by Mermaid's own parser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from domain.events.contract import ORDER_CONTRACT, Contract, EventType
from domain.events.diagram import NO_CONSUMER_ID, mermaid, node_id
from domain.events.envelope import Party
from tests.contract import with_event

ID = r"[A-Za-z_][A-Za-z0-9_]*"
LABEL = r'"[^"<>]+(?:<br/>[^"<>]+)*"'
EDGE = re.compile(
    rf"^\s*(?P<source>{ID}) (?P<arrow>-->|-\.->|==>)\|(?P<label>{LABEL})\| (?P<target>{ID})$"
)
LINE_FORMS = (
    re.compile(r"^flowchart LR$"),
    re.compile(r"^\s*%%.*$"),
    re.compile(rf'^\s*{ID}(\["[^"]+"\]|\(\["[^"]+"\]\)|\(\("[^"]+"\)\))$'),
    re.compile(rf'^\s*subgraph {ID} \["[^"]+"\]$'),
    re.compile(r"^\s*end$"),
    EDGE,
    re.compile(rf"^\s*classDef {ID} [a-z-]+:[^\s;]+$"),
    re.compile(rf"^\s*class {ID}(,{ID})* {ID}$"),
)
MERMAID_KEYWORDS = {"end", "graph", "flowchart", "subgraph", "class", "classDef", "style"}
Edge = tuple[str, str, str, EventType]


def edges(text: str) -> set[Edge]:
    """(source, arrow, target, event) for every event on every edge."""
    found: set[Edge] = set()
    for line in text.splitlines():
        match = EDGE.match(line)
        if match:
            for event in match["label"].strip('"').split("<br/>"):
                found.add((match["source"], match["arrow"], match["target"], EventType(event)))
    return found


def expected_edges(contract: Contract) -> set[Edge]:
    found: set[Edge] = set()
    for spec in contract.events:
        arrow = "-.->" if spec.compensates else "==>" if spec.terminal else "-->"
        targets = [node_id(party) for party in spec.consumers] or [NO_CONSUMER_ID]
        for target in targets:
            found.add((node_id(spec.producer), arrow, target, spec.type))
    return found


def test_it_is_a_left_to_right_flowchart() -> None:
    assert mermaid(ORDER_CONTRACT).startswith("flowchart LR\n")


def test_every_event_is_an_edge_label() -> None:
    labels = {event for *_, event in edges(mermaid(ORDER_CONTRACT))}

    assert labels == {spec.type for spec in ORDER_CONTRACT.events}


def test_every_event_goes_from_its_producer_to_each_consumer() -> None:
    assert edges(mermaid(ORDER_CONTRACT)) == expected_edges(ORDER_CONTRACT)


def test_compensating_events_are_dashed_and_terminal_events_thick() -> None:
    drawn = {event: arrow for _, arrow, _, event in edges(mermaid(ORDER_CONTRACT))}

    assert drawn[EventType.STOCK_RELEASED] == "-.->"
    assert drawn[EventType.PAYMENT_VOIDED] == "-.->"
    assert drawn[EventType.PAYMENT_REFUNDED] == "-.->"
    assert drawn[EventType.CUSTOMER_NOTIFIED] == "==>"
    assert {event for event, arrow in drawn.items() if arrow == "-.->"} == {
        spec.type for spec in ORDER_CONTRACT.events if spec.compensates
    }


def test_every_party_is_a_node_with_a_safe_id() -> None:
    text = mermaid(ORDER_CONTRACT)

    for party in Party:
        assert re.search(rf'^\s*{node_id(party)}\W*"{party.value}"', text, re.MULTILINE), party
        assert re.fullmatch(ID, node_id(party))
        assert node_id(party) not in MERMAID_KEYWORDS


def test_every_line_is_valid_mermaid_and_subgraphs_are_closed() -> None:
    lines = mermaid(ORDER_CONTRACT).splitlines()

    invalid = [line for line in lines if not any(form.match(line) for form in LINE_FORMS)]
    assert invalid == []
    depth = 0
    for line in lines:
        depth += line.strip().startswith("subgraph ") - (line.strip() == "end")
        assert depth >= 0
    assert depth == 0
    assert any(line.strip().startswith("subgraph ") for line in lines)


def test_an_event_nobody_reacts_to_still_shows_on_an_edge() -> None:
    contract = with_event(EventType.PARCEL_PICKED_UP, reactions=())
    text = mermaid(contract)

    assert edges(text) == expected_edges(contract)
    assert (node_id(Party.SHIPPING), "-->", NO_CONSUMER_ID, EventType.PARCEL_PICKED_UP) in edges(
        text
    )
    assert all(any(form.match(line) for form in LINE_FORMS) for line in text.splitlines())


MERMAID_TOOL = Path(__file__).resolve().parents[2] / "tools" / "mermaid"


@pytest.mark.skipif(
    shutil.which("node") is None or not (MERMAID_TOOL / "node_modules" / "mermaid").is_dir(),
    reason="Mermaid's parser is not installed (make test installs it when npm is available)",
)
@pytest.mark.parametrize("broken", [False, True], ids=["real-contract", "broken-text"])
@pytest.mark.timeout(120)  # a Node process loading Mermaid: seconds alone, more on busy cores
def test_mermaids_own_parser_accepts_the_diagram(tmp_path: Path, broken: bool) -> None:
    """What a Mermaid viewer does first: parse. The broken text shows the check can fail."""
    text = mermaid(ORDER_CONTRACT)
    source = tmp_path / "contract.mmd"
    source.write_text(text.replace("-->|", "-->|(", 1) if broken else text)

    result = subprocess.run(
        ["node", str(MERMAID_TOOL / "parse.mjs"), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert (result.returncode != 0) is broken, result.stdout + result.stderr


def test_the_readme_shows_the_contract_as_it_is() -> None:
    """The README's picture of the choreography is the contract's own diagram, not a copy that
    drifts: regenerate it with `python -m starters.contract diagram`."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()

    assert f"```mermaid\n{mermaid(ORDER_CONTRACT)}```" in readme
