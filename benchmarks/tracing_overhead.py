"""`python -m benchmarks.tracing_overhead [--orders N] [--rounds R]`: what tracing costs.

Decides `infra.telemetry.DEFAULT_EXPORTER` with figures rather than a timed test. Each round runs
N happy orders of each style at once on a local dev server, with the workers of every service in
this process, once per setting:

- `off`: no tracing interceptors at all (the project before tracing);
- `propagate`: the interceptors with the no-op tracer (`OTEL_TRACES_EXPORTER=none`): the trace
  context travels on, nothing is recorded;
- `memory`: every span recorded into an in-memory exporter;
- `console`: every span recorded and written as JSON to /dev/null (`console`, minus the terminal).

It prints, per setting, the wall time of the batch, the mean order latency and this process's
CPU time (client and workers; the server is another process) per order, and spans per order.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import opentelemetry.trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from client.input_files import new_order_id
from client.orders import PLACEABLE_STYLES, place_order, wait_for_outcome
from domain.scenarios import SCENARIOS_BY_NAME
from domain.services import Service
from infra import cli
from infra.dev_server import start_dev_server
from infra.telemetry import tracing_interceptors
from workers.pool import running_workers


@dataclass(frozen=True)
class Setting:
    name: str
    traced: bool
    provider: Callable[[], opentelemetry.trace.TracerProvider]


def _recording(exporter: Callable[[], SpanExporter]) -> Callable[[], TracerProvider]:
    def provider() -> TracerProvider:
        made = TracerProvider()
        made.add_span_processor(SimpleSpanProcessor(exporter()))
        return made

    return provider


class _CountingConsole(ConsoleSpanExporter):
    """The console exporter (one JSON line a span) into /dev/null, counting what it wrote."""

    def __init__(self) -> None:
        super().__init__(
            out=open(os.devnull, "w"),  # noqa: SIM115 (lives as long as the exporter)
            formatter=lambda span: str(span.to_json(indent=None)) + os.linesep,
        )
        self.count = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.count += len(spans)
        return super().export(spans)


SETTINGS = (
    Setting("off", False, opentelemetry.trace.NoOpTracerProvider),
    Setting("propagate", True, opentelemetry.trace.NoOpTracerProvider),
    Setting("memory", True, _recording(InMemorySpanExporter)),
    Setting("console", True, _recording(_CountingConsole)),
)


@dataclass(frozen=True)
class Sample:
    setting: str
    orders: int
    wall: float
    mean_latency: float
    cpu: float
    spans: int


async def run_setting(target: str, setting: Setting, per_style: int, data_dir: Path) -> Sample:
    provider = setting.provider()
    client = await Client.connect(
        target,
        data_converter=pydantic_data_converter,
        interceptors=tracing_interceptors(provider) if setting.traced else [],
    )
    happy = SCENARIOS_BY_NAME["happy"]
    async with running_workers(client, list(Service), data_dir):

        async def one(style_index: int) -> float:
            style = PLACEABLE_STYLES[style_index % len(PLACEABLE_STYLES)]
            started = time.monotonic()
            placed = await place_order(client, happy.order(new_order_id("bench")), style)
            outcome = await wait_for_outcome(client, placed)
            assert outcome.status == "completed", outcome
            return time.monotonic() - started

        count = per_style * len(PLACEABLE_STYLES)
        wall, cpu = time.monotonic(), time.process_time()
        latencies = await asyncio.gather(*(one(index) for index in range(count)))
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    spans = 0
    if isinstance(provider, TracerProvider):
        provider.force_flush()
        for processor in provider._active_span_processor._span_processors:
            exporter = getattr(processor, "span_exporter", None)
            if isinstance(exporter, InMemorySpanExporter):
                spans = len(exporter.get_finished_spans())
            elif isinstance(exporter, _CountingConsole):
                spans = exporter.count
        provider.shutdown()
    return Sample(setting.name, count, wall, statistics.mean(latencies), cpu, spans)


def report(samples: Sequence[Sample]) -> str:
    lines = [
        f"{'setting':<10} {'orders':>6} {'wall s':>8} {'latency s':>10} "
        f"{'CPU s':>7} {'CPU ms/order':>13} {'spans/order':>12}"
    ]
    for name in dict.fromkeys(sample.setting for sample in samples):
        mine = [sample for sample in samples if sample.setting == name]
        orders = sum(sample.orders for sample in mine)
        wall = statistics.mean(sample.wall for sample in mine)
        latency = statistics.mean(sample.mean_latency for sample in mine)
        cpu = sum(sample.cpu for sample in mine)
        spans = sum(sample.spans for sample in mine)
        lines.append(
            f"{name:<10} {orders:>6} {wall:>8.2f} {latency:>10.2f} {cpu:>7.2f} "
            f"{1000 * cpu / orders:>13.1f} {spans / orders if spans else 0:>12.0f}"
        )
    return "\n".join(lines)


async def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m benchmarks.tracing_overhead", description=__doc__)
    parser.add_argument("--orders", type=int, default=10, help="orders per style (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every setting")
    args = parser.parse_args(argv)
    server = await start_dev_server(port=None, ui_port=None, ui=False)
    target = server.client.service_client.config.target_host
    samples: list[Sample] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tracing-bench-") as tmp:
            for round_number in range(args.rounds):
                # alternate the order of the settings, so warm-up favours none of them
                settings = SETTINGS if round_number % 2 == 0 else tuple(reversed(SETTINGS))
                for setting in settings:
                    data_dir = Path(tmp) / f"{setting.name}-{round_number}"
                    data_dir.mkdir()
                    sample = await run_setting(target, setting, args.orders, data_dir)
                    print(
                        f"round {round_number + 1} {sample.setting:<10} {sample.wall:6.2f} s "
                        f"wall, {sample.cpu:6.2f} s CPU, {sample.spans} spans",
                        flush=True,
                    )
                    samples.append(sample)
    finally:
        await server.shutdown()
    print(report(samples))
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
