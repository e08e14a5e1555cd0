"""The machine a measurement ran on, recorded beside the figures it produced (ledger, benchmarks)."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where there is one, else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity), not the machine's total."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def describe_machine(device=None) -> dict:
    """CPU, usable cores, GPU, torch, Python and OS, as plain values. The GPU is ``device``'s when it is a CUDA
    device; without one, the first CUDA device when there is one; a CPU ``device`` names no GPU."""
    info = {"cpu": cpu_name(), "cores": usable_cores(), "torch": torch.__version__,
            "python": platform.python_version(), "os": platform.platform(terse=True)}
    device = torch.device(device) if device is not None else (torch.device("cuda", 0) if torch.cuda.is_available()
                                                              else torch.device("cpu"))
    if device.type == "cuda":
        info.update(gpu=torch.cuda.get_device_name(device), cuda=torch.version.cuda)
    return info


__all__ = ["cpu_name", "describe_machine", "usable_cores"]
