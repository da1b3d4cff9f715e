"""What a chaos run is asked to do (`Settings`), read from its command line: each option checked
on its own (a count in its range, seconds, a share, a style, a service), bad input refused in
one line by the parser before anything starts."""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from client.orders import PLACEABLE_STYLES
from domain.services import Service, Style
from infra import cli

MAX_ORDERS = 100_000


MAX_CONCURRENCY = 1_000


MAX_REPLICAS = 4
"""Worker processes per service at most: five services of four each are twenty processes."""


MAX_SECONDS = 86_400.0


@dataclass(frozen=True)
class Settings:
    orders: int
    styles: tuple[Style, ...]
    seed: int
    kill_every: float
    spared: frozenset[Service]
    restart_server: bool
    fault_rate: float
    concurrency: int
    settle_timeout: float
    json: bool
    replicas: int = 1
    """Worker processes per service, over the same stores."""


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number (got {text!r})") from None


def _seconds(*, zero_allowed: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _number(text)
        low_ok = value >= 0 if zero_allowed else value > 0
        if not (low_ok and value <= MAX_SECONDS):  # `not` also refuses nan
            low = "0" if zero_allowed else "more than 0"
            raise argparse.ArgumentTypeError(
                f"must be {low} to {MAX_SECONDS:g} seconds (got {text})"
            )
        return value

    return parse


def _share(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be 0 to 1 (got {text})")
    return value


def _style(text: str) -> Style:
    known = {style.value: style for style in PLACEABLE_STYLES}
    if text not in known:
        raise argparse.ArgumentTypeError(f"unknown style {text!r}; choose from {', '.join(known)}")
    return known[text]


def _service(text: str) -> Service:
    known = {service.value: service for service in Service}
    if text not in known:
        raise argparse.ArgumentTypeError(
            f"unknown service {text!r}; choose from {', '.join(known)}"
        )
    return known[text]


def _parser(prog: str, description: str | None) -> cli.ArgumentParser:
    parser = cli.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--orders", type=cli.whole_number(1, MAX_ORDERS), default=100, help="orders to place (100)"
    )
    parser.add_argument(
        "--styles",
        nargs="+",
        type=_style,
        default=list(PLACEABLE_STYLES),
        metavar="STYLE",
        help=f"styles to place them in (default: {' '.join(s.value for s in PLACEABLE_STYLES)})",
    )
    parser.add_argument(
        "--seed",
        type=cli.whole_number(0, 2**63 - 1),
        default=None,
        help="the run's seed (default: random)",
    )
    parser.add_argument(
        "--kill-every",
        type=_seconds(zero_allowed=True),
        default=10.0,
        metavar="SECONDS",
        help="SIGKILL a random worker this often while orders are placed (10; 0: never)",
    )
    parser.add_argument(
        "--spare",
        nargs="+",
        type=_service,
        default=[],
        metavar="SERVICE",
        help="services whose workers are never killed (default: none)",
    )
    parser.add_argument(
        "--restart-server",
        action="store_true",
        help="kill the dev server once mid-run and start it again on the same history",
    )
    parser.add_argument(
        "--fault-rate",
        type=_share,
        default=0.2,
        metavar="F",
        help="share of orders given transient gateway time-outs (0.2)",
    )
    parser.add_argument(
        "--concurrency",
        type=cli.whole_number(1, MAX_CONCURRENCY),
        default=25,
        help="orders in flight at once (25)",
    )
    parser.add_argument(
        "--settle-timeout",
        type=_seconds(zero_allowed=False),
        default=180.0,
        metavar="SECONDS",
        help="how long an order, and the run's end, may take to settle (180)",
    )
    parser.add_argument(
        "--replicas",
        type=cli.whole_number(1, MAX_REPLICAS),
        default=1,
        help="worker processes per service, sharing its store (1); with ORDERS_STORE_URL the "
        "stores are PostgreSQL's, as workers on several machines would share them",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def parse_settings(argv: Sequence[str] | None, prog: str, description: str | None) -> Settings:
    """The settings of `argv`; bad input exits 2 with one line (`cli.ArgumentParser`)."""
    args = _parser(prog, description).parse_args(argv)
    return Settings(
        orders=args.orders,
        styles=tuple(dict.fromkeys(args.styles)),
        seed=args.seed if args.seed is not None else secrets.randbelow(1_000_000),
        kill_every=args.kill_every,
        spared=frozenset(args.spare),
        restart_server=args.restart_server,
        fault_rate=args.fault_rate,
        concurrency=args.concurrency,
        settle_timeout=args.settle_timeout,
        json=args.json,
        replicas=args.replicas,
    )
