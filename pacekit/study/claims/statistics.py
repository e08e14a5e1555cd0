"""Paired statistics over seeds and the verdict rule (:data:`VERDICT_RULE`): a 95 % t-interval of the paired
differences decides each comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: Half-width of "comparable" for an "≈" comparison (accuracy as a fraction: 0.05 = 5 points).
DEFAULT_MARGIN = 0.05

VERDICT_RULE = (
    "For each comparison A vs B the paired differences d_s = A_s - B_s over the seeds give a 95% t-interval "
    "[lo, hi] = mean(d) -+ t(0.975, n-1) * sd(d) / sqrt(n). A claim that A beats B (\">\") is **reproduced** when "
    "lo > 0, **not reproduced** when hi < 0, **inconclusive** otherwise. A claim that A and B are comparable "
    "(\"≈\", margin m) is **reproduced** when -m < lo and hi < m, **not reproduced** when lo > m or hi < -m, "
    "**inconclusive** otherwise; a \"≈\" is only reproduced when both arms' means lie above their chance level "
    "(two networks at chance are equal and say nothing). Fewer than two seeds, or a missing number, is "
    "inconclusive.")

VERDICTS = ("reproduced", "not reproduced", "inconclusive")



_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def t_critical_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (two-sided 95 %)."""
    if df < 1:
        return float("nan")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964  # Cornish-Fisher expansion around the normal quantile; < 1e-3 off for df > 30
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


@dataclass
class PairedStats:
    """Paired differences ``a - b`` over seeds: their mean, sd, and the 95 % t-interval ``[lo, hi]``."""

    diffs: list
    mean: float
    sd: float
    lo: float
    hi: float


def paired_ci(a: Sequence[float], b: Sequence[float]) -> PairedStats:
    """The 95 % t-interval of ``mean(a - b)``, ``a`` and ``b`` paired by position (seed)."""
    if len(a) != len(b):
        raise ValueError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    d = np.asarray(a, float) - np.asarray(b, float)
    n = len(d)
    mean = float(d.mean()) if n else float("nan")
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    half = t_critical_975(n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
    return PairedStats(d.tolist(), mean, sd, mean - half, mean + half)


def verdict(lo: float, hi: float, expect: str = ">", margin: float = DEFAULT_MARGIN,
            above_chance: bool = True) -> str:
    """Apply :data:`VERDICT_RULE` to a confidence interval ``[lo, hi]`` of ``better - worse``;
    ``above_chance``: whether both arms' means beat their chance level (needed for a reproduced "≈")."""
    if expect not in (">", "≈"):
        raise ValueError(f"expect must be '>' or '≈', got {expect!r}")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    if expect == ">":
        return "reproduced" if lo > 0 else "not reproduced" if hi < 0 else "inconclusive"
    if expect == "≈":
        if -margin < lo and hi < margin:
            return "reproduced" if above_chance else "inconclusive"
        return "not reproduced" if lo > margin or hi < -margin else "inconclusive"
    raise ValueError(f"expect must be '>' or '≈', got {expect!r}")


__all__ = ["DEFAULT_MARGIN", "PairedStats", "VERDICTS", "VERDICT_RULE", "paired_ci", "t_critical_975", "verdict"]
