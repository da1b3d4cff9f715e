"""What the benchmarks read off the machine and off their samples: percentiles, the CPU time and
memory of a process from /proc (Linux), and what machine this is, so a figure is never quoted
without the hardware it came from."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

_PROC = Path("/proc")


def percentile(values: Sequence[float], share: float) -> float:
    """The value at `share` (0..1) of the sorted sample, by the nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def server_pid(port: int) -> int:
    """The process of the dev server listening on `port` (found by its command line: the SDK
    starts `temporal server start-dev --port N`, and does not say which process it started)."""
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"start-dev" in command and str(port).encode() in command:
            return int(entry.name)
    raise RuntimeError(f"no dev server process found on port {port}")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process `pid` so far."""
    # the command name (field 2) may hold spaces and parentheses: split after its last ")"
    fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(port: int) -> float:
    """User and system CPU time of the dev server listening on `port`."""
    return cpu_seconds(server_pid(port))


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory (VmRSS) of a process, in MB; `self` is this one."""
    for line in (_PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def machine() -> dict[str, Any]:
    """The hardware and the versions a run's figures belong to."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "temporalio": metadata.version("temporalio"),
        "load_average": load_average(),
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: on a shared machine, how busy it was meanwhile."""
    try:
        return " ".join((_PROC / "loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in (_PROC / "cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
