"""Checks on the event contract itself, before any event flows.

In a choreography no one sees the whole process: each participant only knows what it reacts to
and what it publishes. A mistake in the table (an event nobody publishes, one nobody hears, a loop
of reactions nobody meant) shows up only as an order that stalls or never ends. These checks
read the table as a graph and name such mistakes up front; `python -m starters.contract check`
runs them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum

from domain.base import Model
from domain.events.contract import Contract, EventSpec, EventType
from domain.events.cuts import missing_from
from domain.personal import carried_by


class ContractRule(StrEnum):
    """What a problem breaks; the order here is the order problems are reported in."""

    DUPLICATE_EVENT = "duplicate_event"
    """An event type declared twice: `Contract.spec` would silently use the first."""
    UNKNOWN_EVENT = "unknown_event"
    """A reaction, a compensation or a declared cycle names an event the contract lacks."""
    PUBLISHER_MISMATCH = "publisher_mismatch"
    """A party publishes an event whose declared producer is another party."""
    CONSUMED_NEVER_PUBLISHED = "consumed_never_published"
    NEVER_PUBLISHED = "never_published"
    """Declared, but nobody publishes it and nobody reacts to it: dead weight."""
    PUBLISHED_NEVER_CONSUMED = "published_never_consumed"
    UNDECLARED_CYCLE = "undeclared_cycle"
    DECLARED_CYCLE_NOT_FOUND = "declared_cycle_not_found"
    """A declared cycle the reactions no longer form: the declaration is stale."""
    COMPENSATION_MISSING = "compensation_missing"
    COMPENSATES_NOT_COMPENSABLE = "compensates_not_compensable"
    CUT_NOT_OF_THE_PAYLOAD = "cut_not_of_the_payload"
    """A consumer's cut declares a field the payload does not have: it could never be filled."""
    SCHEMA_VERSION_NOT_READ = "schema_version_not_read"
    """An older schema version declared that is not older than the current one, or declared
    twice: a receiver could not tell which upgrade applies."""
    PERSONAL_DATA_NOT_NEEDED = "personal_data_not_needed"
    """An event hands a party personal data (`domain/personal.py`) the contract's `needs` does
    not give it: cut the payload for that party (`sees`), or say why it needs it."""


class ContractProblem(Model):
    rule: ContractRule
    events: tuple[EventType, ...]
    """The event types involved, the one at fault first (a cycle in its order)."""
    message: str

    def __str__(self) -> str:
        return f"{self.rule.value}: {self.message}"


Cycle = tuple[EventType, ...]
Successors = Callable[[EventType], Iterable[EventType]]


def check_contract(contract: Contract) -> list[ContractProblem]:
    """Every problem in the contract, sorted by rule then by where its events are declared."""
    specs = _first_declarations(contract)
    problems = [
        *_duplicates(contract),
        *_unknown_references(contract, specs),
        *_publication_problems(specs),
        *_cycle_problems(contract, specs),
        *_compensation_problems(specs),
        *_cut_problems(specs),
        *_version_problems(specs),
        *_personal_data_problems(contract, specs),
    ]
    return _sorted(problems, contract)


def _first_declarations(contract: Contract) -> dict[EventType, EventSpec]:
    """One spec per event type, the first, as `Contract.spec` resolves them."""
    specs: dict[EventType, EventSpec] = {}
    for spec in contract.events:
        specs.setdefault(spec.type, spec)
    return specs


def _duplicates(contract: Contract) -> Iterator[ContractProblem]:
    counts: dict[EventType, int] = defaultdict(int)
    for spec in contract.events:
        counts[spec.type] += 1
    for event_type, count in counts.items():
        if count > 1:
            yield _problem(
                ContractRule.DUPLICATE_EVENT,
                (event_type,),
                f"{event_type} is declared {count} times; only the first declaration is used",
            )


def _unknown_references(
    contract: Contract, specs: Mapping[EventType, EventSpec]
) -> Iterator[ContractProblem]:
    for spec in specs.values():
        for reaction in spec.reactions:
            for published in reaction.publishes:
                if published not in specs:
                    yield _problem(
                        ContractRule.UNKNOWN_EVENT,
                        (published, spec.type),
                        f"{reaction.consumer} publishes {published} in reaction to {spec.type}, "
                        f"but the contract does not declare {published}",
                    )
        if spec.compensates is not None and spec.compensates not in specs:
            yield _problem(
                ContractRule.UNKNOWN_EVENT,
                (spec.compensates, spec.type),
                f"{spec.type} compensates {spec.compensates}, "
                f"but the contract does not declare {spec.compensates}",
            )
    for cycle in contract.declared_cycles:
        for event_type in dict.fromkeys(cycle):
            if event_type not in specs:
                yield _problem(
                    ContractRule.UNKNOWN_EVENT,
                    (event_type,),
                    f"declared cycle {_arrow(cycle)} names {event_type}, "
                    "which the contract does not declare",
                )


def _publication_problems(specs: Mapping[EventType, EventSpec]) -> Iterator[ContractProblem]:
    """Who publishes what: only an event's producer may, and someone must, and someone hears it."""
    published: set[EventType] = set()
    for spec in specs.values():
        for reaction in spec.reactions:
            for event_type in reaction.publishes:
                target = specs.get(event_type)
                if target is None:
                    continue  # reported as unknown
                if target.producer == reaction.consumer:
                    published.add(event_type)
                else:
                    yield _problem(
                        ContractRule.PUBLISHER_MISMATCH,
                        (event_type, spec.type),
                        f"{reaction.consumer} publishes {event_type} in reaction to {spec.type}, "
                        f"but the producer of {event_type} is {target.producer}",
                    )
    for spec in specs.values():
        is_published = spec.producer.starts_flows or spec.type in published
        consumers = ", ".join(spec.consumers)
        if not is_published and spec.reactions:
            yield _problem(
                ContractRule.CONSUMED_NEVER_PUBLISHED,
                (spec.type,),
                f"{spec.type} is consumed by {consumers} but never published: "
                f"no reaction of its producer {spec.producer} publishes it",
            )
        elif not is_published:
            yield _problem(
                ContractRule.NEVER_PUBLISHED,
                (spec.type,),
                f"{spec.type} is declared but nobody publishes it and nobody reacts to it",
            )
        elif not spec.reactions and not spec.terminal:
            yield _problem(
                ContractRule.PUBLISHED_NEVER_CONSUMED,
                (spec.type,),
                f"{spec.type} is published by {spec.producer} but nobody reacts to it "
                "and it is not terminal: the chain stops there",
            )


def _cycle_problems(
    contract: Contract, specs: Mapping[EventType, EventSpec]
) -> Iterator[ContractProblem]:
    found = elementary_cycles(_publish_graph(specs), list(specs))
    declared = {_canonical(cycle): cycle for cycle in contract.declared_cycles if cycle}
    found_keys = {_canonical(cycle) for cycle in found}
    for cycle in found:
        if _canonical(cycle) not in declared:
            yield _problem(
                ContractRule.UNDECLARED_CYCLE,
                cycle,
                f"reactions form the cycle {_arrow(cycle)}, which declared_cycles does not "
                "declare: an order could loop forever",
            )
    for cycle in contract.declared_cycles:
        if not cycle or (_canonical(cycle) not in found_keys and all(e in specs for e in cycle)):
            yield _problem(
                ContractRule.DECLARED_CYCLE_NOT_FOUND,
                cycle,
                f"declared cycle {_arrow(cycle) or '(empty)'} is not formed by any reactions: "
                "the declaration is stale",
            )


def _publish_graph(specs: Mapping[EventType, EventSpec]) -> dict[EventType, list[EventType]]:
    """Event -> the declared events its reactions may publish, in declaration order."""
    return {
        spec.type: list(
            dict.fromkeys(
                published
                for reaction in spec.reactions
                for published in reaction.publishes
                if published in specs
            )
        )
        for spec in specs.values()
    }


def _compensation_problems(specs: Mapping[EventType, EventSpec]) -> Iterator[ContractProblem]:
    """Every compensable step has an undo, and every undo undoes a compensable step."""
    compensated = {spec.compensates for spec in specs.values() if spec.compensates is not None}
    for spec in specs.values():
        if spec.compensable and spec.type not in compensated:
            yield _problem(
                ContractRule.COMPENSATION_MISSING,
                (spec.type,),
                f"{spec.type} is compensable but no event compensates it: "
                "a cancelled order could not undo its step",
            )
        target = specs.get(spec.compensates) if spec.compensates is not None else None
        if target is not None and not target.compensable:
            yield _problem(
                ContractRule.COMPENSATES_NOT_COMPENSABLE,
                (spec.type, target.type),
                f"{spec.type} compensates {target.type}, which is not declared compensable",
            )


def _cut_problems(specs: Mapping[EventType, EventSpec]) -> Iterator[ContractProblem]:
    for spec in specs.values():
        for reaction in spec.reactions:
            if reaction.sees is None:
                continue
            for path in missing_from(reaction.sees, spec.payload):
                yield _problem(
                    ContractRule.CUT_NOT_OF_THE_PAYLOAD,
                    (spec.type,),
                    f"{spec.type} is cut for {reaction.consumer.value} as "
                    f"{reaction.sees.__name__}, whose {path} the payload "
                    f"({spec.payload.__name__}) does not have",
                )


def _version_problems(specs: Mapping[EventType, EventSpec]) -> Iterator[ContractProblem]:
    for spec in specs.values():
        if spec.schema_version < 1:
            yield _problem(
                ContractRule.SCHEMA_VERSION_NOT_READ,
                (spec.type,),
                f"{spec.type} is at schema version {spec.schema_version}: versions start at 1",
            )
        seen: set[int] = set()
        for older in spec.older:
            if older.version >= spec.schema_version or older.version < 1:
                yield _problem(
                    ContractRule.SCHEMA_VERSION_NOT_READ,
                    (spec.type,),
                    f"{spec.type} reads schema version {older.version} as an older one, but "
                    f"it publishes version {spec.schema_version}",
                )
            elif older.version in seen:
                yield _problem(
                    ContractRule.SCHEMA_VERSION_NOT_READ,
                    (spec.type,),
                    f"{spec.type} declares two upgrades from schema version {older.version}",
                )
            seen.add(older.version)


def _personal_data_problems(
    contract: Contract, specs: Mapping[EventType, EventSpec]
) -> Iterator[ContractProblem]:
    """What each consumer is handed (its cut, or the whole payload), field by field."""
    for spec in specs.values():
        for reaction in spec.reactions:
            needed = contract.needs.get(reaction.consumer, frozenset())
            for carried in carried_by(spec.seen_by(reaction.consumer)):
                if carried.kind not in needed:
                    yield _problem(
                        ContractRule.PERSONAL_DATA_NOT_NEEDED,
                        (spec.type,),
                        f"{spec.type} hands {reaction.consumer.value} the {carried.kind.value} "
                        f"({carried.path}), which it does not need",
                    )


def elementary_cycles(
    graph: Mapping[EventType, Sequence[EventType]], order: Sequence[EventType]
) -> list[Cycle]:
    """Every elementary cycle of `graph` once (Johnson's algorithm), in a stable order.

    Each cycle starts at its node earliest in `order`; cycles are listed by that start, then in
    the order the search meets them, which follows the order of each node's successors.
    """
    position = {node: index for index, node in enumerate(order)}
    cycles: list[Cycle] = []
    for start in order:
        allowed = {node for node in order if position[node] >= position[start]}
        component = _strong_component(graph, start, allowed)
        if start in component:
            cycles.extend(_circuits_through(graph, start, component))
    return cycles


def _strong_component(
    graph: Mapping[EventType, Sequence[EventType]], start: EventType, allowed: set[EventType]
) -> set[EventType]:
    """The nodes of `allowed` on some cycle through `start` (empty if there is none)."""
    reverse: dict[EventType, list[EventType]] = defaultdict(list)
    for node in allowed:
        for successor in graph.get(node, ()):
            if successor in allowed:
                reverse[successor].append(node)
    forward = _reach(start, lambda node: [s for s in graph.get(node, ()) if s in allowed])
    backward = _reach(start, lambda node: reverse[node])
    component = forward & backward
    on_cycle = any(predecessor in component for predecessor in reverse[start])
    return component if on_cycle else set()


def _reach(start: EventType, successors: Successors) -> set[EventType]:
    """`start` and every node reachable from it."""
    seen = {start}
    frontier = [start]
    while frontier:
        for successor in successors(frontier.pop()):
            if successor not in seen:
                seen.add(successor)
                frontier.append(successor)
    return seen


def _circuits_through(
    graph: Mapping[EventType, Sequence[EventType]], start: EventType, component: set[EventType]
) -> list[Cycle]:
    """Johnson's CIRCUIT procedure: the elementary cycles through `start` within `component`."""
    cycles: list[Cycle] = []
    path: list[EventType] = []
    blocked: set[EventType] = set()
    blocked_by: dict[EventType, set[EventType]] = defaultdict(set)

    def unblock(node: EventType) -> None:
        blocked.discard(node)
        for waiting in blocked_by.pop(node, set()):
            if waiting in blocked:
                unblock(waiting)

    def circuit(node: EventType) -> bool:
        found = False
        path.append(node)
        blocked.add(node)
        successors = [s for s in graph.get(node, ()) if s in component]
        for successor in successors:
            if successor == start:
                cycles.append(tuple(path))
                found = True
            elif successor not in blocked and circuit(successor):
                found = True
        if found:
            unblock(node)
        else:
            for successor in successors:
                blocked_by[successor].add(node)
        path.pop()
        return found

    circuit(start)
    return cycles


def _canonical(cycle: Cycle) -> Cycle:
    """The same cycle whichever event it is written from: its least rotation."""
    return min(cycle[i:] + cycle[:i] for i in range(len(cycle)))


def _arrow(cycle: Cycle) -> str:
    return " -> ".join([*cycle, cycle[0]]) if cycle else ""


def _problem(rule: ContractRule, events: Iterable[EventType], message: str) -> ContractProblem:
    return ContractProblem(rule=rule, events=tuple(events), message=message)


def _sorted(problems: list[ContractProblem], contract: Contract) -> list[ContractProblem]:
    """By rule, then by where the events are declared (undeclared ones last, by name)."""
    rules = list(ContractRule)
    position = {spec.type: index for index, spec in reversed(list(enumerate(contract.events)))}

    def key(problem: ContractProblem) -> tuple[int, tuple[tuple[int, str], ...]]:
        events = tuple((position.get(e, len(position)), e.value) for e in problem.events)
        return rules.index(problem.rule), events

    return sorted(problems, key=key)
