"""The machine a benchmark ran on, for the figures it prints: :mod:`pacekit.machine`, importable from a
checkout that is not installed (``benchmarks/`` scripts run as plain scripts)."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pacekit.machine import cpu_name, describe_machine, usable_cores  # noqa: E402,F401
