"""Matplotlib helpers for training runs and pace clips; every function returns its Figure.

Package code never chooses a backend: notebooks show the figures inline, scripts save them with
``fig.savefig(path)``.
"""

from __future__ import annotations

import os
from typing import Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from .pace import PACE_NAMES, as_pace
from .training.logging import read_metrics

MetricsLike = Union[str, os.PathLike, Iterable[dict]]


def _runs(metrics: Union[MetricsLike, Mapping[str, MetricsLike]]) -> dict[str, list[dict]]:
    """{run label: rows}; a single log becomes one run labelled by its stage."""
    if isinstance(metrics, Mapping):
        return {str(name): read_metrics(m) for name, m in metrics.items()}
    rows = read_metrics(metrics)
    stages = sorted({r.get("stage", "run") for r in rows})
    return {stage: [r for r in rows if r.get("stage", "run") == stage] for stage in stages}


def plot_training_curves(metrics: Union[MetricsLike, Mapping[str, MetricsLike]], title: Optional[str] = None):
    """Loss and accuracy against the training step.

    Args:
        metrics: a ``metrics.jsonl`` path, a run folder, a list of metric rows (see
            :mod:`pacekit.training.logging`), or a dict ``{label: any of those}`` to overlay several runs.
            Rows of kind ``"step"`` are drawn as lines (a window of ``log_every`` steps each), rows of kind
            ``"epoch"`` as dots at the end of each epoch.
        title: the figure's title.

    Returns:
        A Figure with two axes: loss (left) and accuracy in % (right).
    """
    import matplotlib.pyplot as plt

    runs = _runs(metrics)
    if not any(runs.values()):
        raise ValueError("no metric rows to plot; the run has not logged a step yet (see log_every)")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for i, (label, rows) in enumerate(runs.items()):
        color = f"C{i}"
        steps = [r for r in rows if r.get("kind") == "step"]
        epochs = [r for r in rows if r.get("kind") == "epoch"]
        for ax, key, scale in ((ax_loss, "loss", 1.0), (ax_acc, "acc", 100.0)):
            if steps:
                ax.plot([r["step"] for r in steps], [scale * r[key] for r in steps], color=color, alpha=0.6,
                        lw=1.2, label=f"{label} (every {_log_every(steps)} steps)")
            if epochs:
                ax.plot([r["step"] for r in epochs], [scale * r[key] for r in epochs], "o", color=color, ms=4,
                        label=f"{label} (epoch mean)")
    ax_loss.set(xlabel="step", ylabel="training loss", title="loss")
    ax_acc.set(xlabel="step", ylabel="training accuracy (%)", title="accuracy", ylim=(0, 100))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    ax_acc.legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    return fig


def _log_every(rows: Sequence[dict]) -> int:
    return int(rows[1]["step"] - rows[0]["step"]) if len(rows) > 1 else int(rows[0]["step"])


def plot_pace_strip(frames_by_pace: Mapping, max_frames: int = 8, title: Optional[str] = None,
                    frame_width: float = 1.1):
    """One row of frames per pace: the same video played slow, normal and fast (paper Fig. 2).

    Rows are labelled ``p = 2``; when every pace is one of Fig. 2's five, its name ("super slow" ...)
    is shown as well.

    Args:
        frames_by_pace: ``{pace: frames}``, frames ``(T, H, W, C)`` uint8 (tensor or array) as a dataset
            returns them; keys are paces (``Fraction``, number or str such as ``"1/2"``) or row labels.
            Rows are drawn in the order given.
        max_frames: the first ``max_frames`` frames of each clip are shown.
        title: the figure's title.
        frame_width: inches per frame.

    Returns:
        The Figure (rows = paces, columns = frames).
    """
    import matplotlib.pyplot as plt

    if not frames_by_pace:
        raise ValueError("frames_by_pace is empty; give {pace: (T, H, W, C) frames}")
    rows = list(frames_by_pace.items())
    clips = [np.asarray(frames)[:max_frames] for _, frames in rows]
    for (key, _), clip in zip(rows, clips):
        if clip.ndim != 4 or clip.shape[-1] not in (1, 3):
            raise ValueError(f"frames for pace {key!r} have shape {clip.shape}; expected (T, H, W, C)")
    ncols = max(len(c) for c in clips)
    height, width = clips[0].shape[1:3]
    fig, axes = plt.subplots(len(rows), ncols, squeeze=False, constrained_layout=True,
                             figsize=(ncols * frame_width, len(rows) * frame_width * height / width + 0.4))
    labels = [_pace_label(key) for key, _ in rows]
    if all(name for name, _ in labels):  # the paces of Fig. 2: show their names too
        labels = [(None, f"{name}\n{text}") for name, text in labels]
    for r, ((_, text), clip) in enumerate(zip(labels, clips)):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(clip):
                ax.imshow(clip[c].squeeze(-1) if clip.shape[-1] == 1 else clip[c], cmap="gray")
            if r == 0:
                ax.set_title(f"frame {c + 1}", fontsize=7)
        axes[r, 0].set_ylabel(text, fontsize=8, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _pace_label(key) -> tuple[str | None, str]:
    """(the paper's name of the pace or None, ``"p = 1/2"``); keys that are no pace label themselves."""
    try:
        pace = as_pace(key)
    except (TypeError, ValueError):
        return None, str(key)
    return PACE_NAMES.get(pace), f"p = {pace}"


__all__ = ["plot_pace_strip", "plot_training_curves"]
