"""The event contract drawn as a Mermaid flowchart: who publishes each event to whom.

The table in `contract.py` is exact but says nothing at a glance about how the parties talk;
the picture does. One node per party; one edge per producer, consumer and kind of event, carrying
every event of that kind between them. Compensating events are dashed and terminal events thick,
so the undo paths and the ends of the process stand out. Paste the text into a Mermaid viewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum

from domain.events.contract import Contract, EventSpec, EventType
from domain.events.envelope import Party

NO_CONSUMER_ID = "no_consumer"
"""The node an event nobody reacts to points at, so that it still shows on an edge."""


class EdgeKind(Enum):
    """How an edge is drawn, in Mermaid arrow syntax."""

    EVENT = "-->"
    COMPENSATING = "-.->"
    TERMINAL = "==>"


def mermaid(contract: Contract) -> str:
    """The contract as a Mermaid `flowchart LR`, one line per node and per edge."""
    lines = [
        "flowchart LR",
        "    %% solid: an event; dashed: a compensating event; thick: a terminal event",
        *_nodes(contract),
        *_edges(contract),
        "    classDef entry stroke-width:3px",
        *(
            f"    class {node_id(party)} entry"
            for party in Party
            if party.starts_flows and party in _parties(contract)
        ),
    ]
    return "\n".join(lines) + "\n"


def node_id(party: Party) -> str:
    """A Mermaid-safe id: letters, digits and underscores, never a keyword such as `end`."""
    return "party_" + re.sub(r"\W", "_", party.value)


def _nodes(contract: Contract) -> Iterator[str]:
    """The storefront outside, the services inside a subgraph; only parties the contract uses."""
    used = _parties(contract)
    for party in Party:
        if party.starts_flows and party in used:
            yield f'    {node_id(party)}(["{party.value}"])'
    groups = (
        ("services", "services", lambda party: not party.starts_flows and not party.is_warehouse),
        ("warehouse", "warehouse (hybrid style)", lambda party: party.is_warehouse),
    )
    for group_id, title, belongs in groups:
        members = [party for party in Party if party in used and belongs(party)]
        if members:
            yield f'    subgraph {group_id} ["{title}"]'
            for party in members:
                yield f'        {node_id(party)}["{party.value}"]'
            yield "    end"
    if any(not spec.reactions for spec in contract.events):
        yield f'    {NO_CONSUMER_ID}(("no consumer"))'


def _parties(contract: Contract) -> set[Party]:
    return {spec.producer for spec in contract.events} | {
        party for spec in contract.events for party in spec.consumers
    }


def _edges(contract: Contract) -> Iterator[str]:
    """Events grouped per (producer, consumer, kind), labels in contract order."""
    grouped: dict[tuple[str, str, EdgeKind], list[EventType]] = {}
    for spec in contract.events:
        targets = [node_id(party) for party in spec.consumers] or [NO_CONSUMER_ID]
        for target in dict.fromkeys(targets):
            key = (node_id(spec.producer), target, _kind(spec))
            grouped.setdefault(key, []).append(spec.type)
    for (source, target, kind), events in grouped.items():
        label = "<br/>".join(event.value for event in events)
        yield f'    {source} {kind.value}|"{label}"| {target}'


def _kind(spec: EventSpec) -> EdgeKind:
    if spec.compensates is not None:
        return EdgeKind.COMPENSATING
    if spec.terminal:
        return EdgeKind.TERMINAL
    return EdgeKind.EVENT
