"""Run scenarios end to end, as the demo and the end-to-end tests do: place the order, play its
person, wait for the outcome, and time it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client

from client.input_files import scenario_order_id
from client.orders import PlacedOrder, place_order, wait_for_outcome
from client.scenario_player import play_actor
from domain.scenarios import Scenario
from domain.services import Style
from domain.views import OrderOutcome

PATIENCE = timedelta(minutes=5)
"""How long one scenario's order may take before it is reported stuck (each ends in seconds; a
stuck one is named, with where it stands, instead of keeping the run waiting forever)."""


@dataclass(frozen=True)
class ScenarioRun:
    scenario: Scenario
    placed: PlacedOrder
    outcome: OrderOutcome
    seconds: float

    @property
    def as_expected(self) -> bool:
        return (
            self.outcome.status == self.scenario.expected_status.value
            and self.outcome.reason == self.scenario.expected_reason
        )


async def run_scenario(
    client: Client, scenario: Scenario, style: Style, patience: timedelta = PATIENCE
) -> ScenarioRun:
    order = scenario.order(scenario_order_id(scenario))
    started = time.monotonic()
    placed = await place_order(client, order, style)
    actor = asyncio.create_task(play_actor(client, scenario, placed, patience))
    try:
        outcome = await wait_for_outcome(client, placed, patience)
    except BaseException:
        actor.cancel()
        raise
    await actor  # it acted, or it says why it could not (the order ended before its stage)
    return ScenarioRun(scenario, placed, outcome, time.monotonic() - started)


async def run_scenarios(
    client: Client,
    scenarios: Iterable[Scenario],
    styles: Iterable[Style],
    on_done: Callable[[ScenarioRun], None] | None = None,
    patience: timedelta = PATIENCE,
) -> list[ScenarioRun]:
    """Every scenario in every style, all at once; results in the order they were asked for."""

    async def one(scenario: Scenario, style: Style) -> ScenarioRun:
        run = await run_scenario(client, scenario, style, patience)
        if on_done:
            on_done(run)
        return run

    styles = list(styles)
    return list(
        await asyncio.gather(*(one(scenario, style) for scenario in scenarios for style in styles))
    )
