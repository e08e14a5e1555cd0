"""Training metrics: device-side accumulators, a JSON-lines log, and a notebook-aware progress bar.

A step adds its loss and correct count to tensors on the device (:class:`DeviceMeter`) without reading
them, so the GPU never waits for the host; the values are read every ``log_every`` steps and at the end
of each epoch. Each read becomes one row of ``<run_dir>/metrics.jsonl``::

    {"stage": "pretrain", "kind": "step", "epoch": 1, "step": 40, "loss": 1.21, "acc": 0.45,
     "lr": 0.001, "clips_per_s": 812.3, "time_s": 5.2}

``kind`` is ``"step"`` (a window of ``log_every`` steps) or ``"epoch"`` (the whole epoch, plus
``"substituted"``: how many undecodable videos the dataset replaced). :func:`read_metrics` loads the
rows back and :func:`pacekit.study.plots.plot_training_curves` draws them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Optional, Union

import torch

from ..atomic import read_json_lines
from .distributed import DistContext, all_reduce_sum


class DeviceMeter:
    """Sums of ``loss * clips``, correct predictions and clips, kept on the device until :meth:`read`."""

    def __init__(self, device: torch.device):
        self.sums = torch.zeros(2, dtype=torch.float64, device=device)  # [loss * clips, correct]
        self.count = 0  # clips, known on the host without a sync

    def add(self, loss: torch.Tensor, correct: torch.Tensor, clips: int) -> None:
        self.sums[0] += loss.detach().double() * clips
        self.sums[1] += correct.detach().double()
        self.count += int(clips)

    def read(self, ctx: DistContext) -> tuple[float, float, int]:
        """(mean loss, accuracy, clips) over every rank; one host sync (and one all-reduce in DDP)."""
        packed = torch.cat([self.sums, self.sums.new_tensor([self.count])])
        all_reduce_sum(packed, ctx)
        loss_sum, correct, count = packed.tolist()
        if count == 0:
            return float("nan"), float("nan"), 0
        return loss_sum / count, correct / count, int(count)

    def reset(self) -> None:
        self.sums.zero_()
        self.count = 0


class MetricsLog:
    """Rows appended to ``metrics.jsonl`` (rank 0 only) and kept in :attr:`rows` for the checkpoint."""

    FILE_NAME = "metrics.jsonl"

    def __init__(self, run_dir: Union[str, os.PathLike], enabled: bool = True, rows: Optional[list] = None):
        self.path = Path(run_dir) / self.FILE_NAME
        self.enabled = enabled
        self.rows: list[dict] = list(rows or [])
        if enabled:  # a fresh run starts a fresh file; a resumed one rewrites the rows its checkpoint holds
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w") as f:
                for row in self.rows:
                    f.write(json.dumps(row) + "\n")

    def append(self, row: dict) -> None:
        self.rows.append(row)
        if self.enabled:
            with open(self.path, "a") as f:
                f.write(json.dumps(row) + "\n")


def read_metrics(path_or_rows: Union[str, os.PathLike, Iterable[dict]]) -> list[dict]:
    """Rows of a ``metrics.jsonl`` file (or a run folder holding one); a list of rows is returned as is.

    A damaged line (a run killed mid-write, an edit) is a :class:`pacekit.errors.DamagedFileError` naming it;
    the run's checkpoints hold the same rows."""
    if isinstance(path_or_rows, (str, os.PathLike)):
        path = Path(path_or_rows)
        if path.is_dir():
            path = path / MetricsLog.FILE_NAME
        if not path.is_file():
            raise FileNotFoundError(f"no metrics log at {path}; it is written by pacekit pretrain/finetune")
        return read_json_lines(path, "the run's checkpoint holds the same rows: read_metrics(load_checkpoint("
                                     f"'{path.parent / 'last.pt'}')['metrics']), or resume the run (--resume), "
                                     "which writes the log again")
    return list(path_or_rows)


def progress_bar(total: int, desc: str, enabled: bool):
    """A tqdm bar that renders as a widget in notebooks and as text in a terminal; None when disabled."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", dynamic_ncols=True, leave=True)
