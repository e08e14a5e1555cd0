"""Figures of training runs and pace clips: matplotlib helpers, x-t slices and clip animations.

Every ``plot_*`` function returns its Figure. Package code never chooses a backend: notebooks show the
figures inline, scripts save them with ``fig.savefig(path)``. Beside them:

- :func:`kymograph` cuts an x-t slice through a clip (one row of pixels per frame, stacked in time):
  an object moving at constant speed draws a straight line whose slope is its speed in pixels per clip
  frame, so a clip at pace ``p`` draws it ``p`` times steeper (paper Sec. 3.1: a pace scales the speed).
  :func:`track_columns` and :func:`kymograph_speed` read that slope back from a mask's kymograph.
- :func:`clips_gif` and :func:`clips_html` play clips side by side as one animated GIF at a true frame
  rate, for a notebook (``IPython.display.HTML``) or a file.
"""

from __future__ import annotations

import base64
import html
import io
import os
from typing import Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from ..pace import PACE_NAMES, as_pace
from ..training.logging import read_metrics

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


# ------------------------------------------------------------------------------ x-t slices (kymographs)


def kymograph(frames, row: int, band: int = 1) -> np.ndarray:
    """The x-t slice of a clip: pixel row ``row`` of every frame, stacked top (first frame) to bottom.

    Args:
        frames: ``(T, H, W, C)`` or ``(T, H, W)`` (an image clip, or masks), array or tensor.
        row: the 0-based pixel row to cut, e.g. through the middle of the moving object.
        band: average ``band`` rows centred on ``row`` (clipped at the frame's edges) for a steadier slice.

    Returns:
        ``(T, W, C)`` or ``(T, W)``, the dtype of ``frames`` for ``band=1``, float32 for wider bands.
        An object moving right at ``v`` pixels per clip frame draws a line of slope ``v`` (columns per row).
    """
    frames = np.asarray(frames)
    if frames.ndim not in (3, 4):
        raise ValueError(f"frames must be (T, H, W, C) or (T, H, W), got shape {frames.shape}")
    height = frames.shape[1]
    if not 0 <= row < height:
        raise ValueError(f"row {row} is outside the frame's {height} rows")
    if band < 1:
        raise ValueError(f"band must be at least 1, got {band}")
    if band == 1:
        return frames[:, row].copy()
    top, bottom = max(0, row - band // 2), min(height, row - band // 2 + band)
    return frames[:, top:bottom].astype(np.float32).mean(axis=1)


def track_columns(weights) -> np.ndarray:
    """Per time row of a ``(T, W)`` kymograph of weights (a mask's, say), the weighted mean column; NaN
    where a row holds no weight (the object left the slice)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2:
        raise ValueError(f"weights must be a (T, W) kymograph, got shape {weights.shape}")
    if (weights < 0).any():
        raise ValueError("weights must be non-negative (a mask or an intensity)")
    mass = weights.sum(axis=1)
    columns = weights @ np.arange(weights.shape[1], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mass > 0, columns / mass, np.nan)


def kymograph_speed(weights) -> float:
    """The speed a kymograph shows: mean absolute change of :func:`track_columns` from one clip frame to
    the next, in pixels per clip frame (the slope's size, whichever way the object goes). Frame pairs
    with a row the object is absent from are skipped; NaN when none is left."""
    steps = np.abs(np.diff(track_columns(weights)))
    steps = steps[np.isfinite(steps)]
    return float(steps.mean()) if len(steps) else float("nan")


def plot_kymographs(frames_by_pace: Mapping, row: int, band: int = 1, title: Optional[str] = None,
                    speeds: Optional[Mapping] = None, scale: float = 0.015):
    """One x-t slice per pace, side by side: time runs down, x across; a pace is a slope.

    Args:
        frames_by_pace: ``{pace or label: (T, H, W, C) frames}``, drawn left to right in the order given.
        row, band: the slice (see :func:`kymograph`).
        title: the figure's title.
        speeds: optional ``{same keys: pixels per clip frame}`` written under each panel.
        scale: inches per pixel.

    Returns:
        The Figure.
    """
    import matplotlib.pyplot as plt

    if not frames_by_pace:
        raise ValueError("frames_by_pace is empty; give {pace: (T, H, W, C) frames}")
    slices = {key: kymograph(frames, row, band) for key, frames in frames_by_pace.items()}
    first = next(iter(slices.values()))
    rows, width = first.shape[:2]
    fig, axes = plt.subplots(1, len(slices), squeeze=False, constrained_layout=True,
                             figsize=(max(2.0, len(slices) * width * scale), max(2.0, rows * 0.14 + 1.0)))
    for ax, (key, kymo) in zip(axes[0], slices.items()):
        image = kymo if kymo.dtype == np.uint8 else np.clip(kymo, 0, 255).astype(np.uint8)
        ax.imshow(image, aspect="auto", interpolation="nearest", cmap="gray")
        name, text = _pace_label(key)
        label = f"{name} ({text})" if name else text
        if speeds is not None and key in speeds:
            label += f"\n{speeds[key]:.1f} px / frame"
        ax.set_title(label, fontsize=8)
        ax.set_xlabel("x (pixels)", fontsize=7)
        ax.tick_params(labelsize=6)
    axes[0, 0].set_ylabel("clip frame (time runs down)", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# ------------------------------------------------------------------------------------- animations


def _tile_frames(clips: Sequence[np.ndarray], scale: int, gap: int) -> np.ndarray:
    """``(T, H * scale, n * W * scale + (n - 1) * gap, 3)`` uint8: the clips side by side, white gaps."""
    arrays = [np.asarray(c) for c in clips]
    for i, clip in enumerate(arrays):
        if clip.ndim != 4 or clip.shape[-1] not in (1, 3) or clip.dtype != np.uint8:
            raise ValueError(f"clip {i} has shape {clip.shape} and dtype {clip.dtype}; expected (T, H, W, C) uint8")
    if len({c.shape for c in arrays}) != 1:
        raise ValueError(f"clips must share one shape to play side by side, got {[c.shape for c in arrays]}")
    arrays = [np.repeat(c, 3, axis=-1) if c.shape[-1] == 1 else c for c in arrays]
    big = [c.repeat(scale, axis=1).repeat(scale, axis=2) for c in arrays]
    t, h, w, _ = big[0].shape
    out = np.full((t, h, len(big) * w + (len(big) - 1) * gap, 3), 255, np.uint8)
    for i, clip in enumerate(big):
        out[:, :, i * (w + gap):i * (w + gap) + w] = clip
    return out


def clips_gif(clips: Sequence, fps: float = 25, scale: int = 1, gap: int = 4) -> bytes:
    """The clips side by side as one looping animated GIF, each clip frame shown ``1/fps`` seconds.

    All clips advance together, one clip frame per GIF frame, so clips at different paces play at the
    same frame rate and differ only in how far the content moves per frame -- what a network sees.

    Args:
        clips: ``(T, H, W, C)`` uint8 clips of one shape (arrays or tensors).
        fps: frames per second; GIF stores durations in hundredths of a second, so 25 fps is exact (40 ms)
            and other rates are rounded to the nearest 10 ms.
        scale: each pixel stored as a ``scale x scale`` block (nearest neighbour). The file grows with the
            square of it; :func:`clips_html` enlarges on screen instead.
        gap: white pixels between clips.

    Returns:
        The GIF file's bytes.
    """
    from PIL import Image

    if not clips:
        raise ValueError("no clips to animate")
    if fps <= 0 or scale < 1 or gap < 0:
        raise ValueError(f"need fps > 0, scale >= 1 and gap >= 0, got fps={fps}, scale={scale}, gap={gap}")
    tiles = _tile_frames([np.asarray(c) for c in clips], scale, gap)
    duration = max(20, int(round(100.0 / fps)) * 10)  # ms; browsers slow down anything under 20 ms
    images = [Image.fromarray(frame) for frame in tiles]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0,
                   optimize=False, disposal=1)
    return buffer.getvalue()


def clips_html(frames_by_pace: Mapping, fps: float = 25, zoom: int = 2, gap: int = 4,
               caption: Optional[str] = None) -> str:
    """HTML that plays ``{pace or label: (T, H, W, C) uint8 clip}`` side by side at ``fps`` (one
    :func:`clips_gif`, so the clips stay in step), each labelled, with an optional caption; the browser
    shows every pixel as a ``zoom x zoom`` block, which costs no bytes. Show it with
    ``IPython.display.HTML(clips_html(...))``."""
    if not frames_by_pace:
        raise ValueError("frames_by_pace is empty; give {pace: (T, H, W, C) frames}")
    if zoom < 1:
        raise ValueError(f"zoom must be at least 1, got {zoom}")
    clips = [np.asarray(c) for c in frames_by_pace.values()]
    gif = base64.b64encode(clips_gif(clips, fps, 1, gap)).decode("ascii")
    height, width = clips[0].shape[1:3]
    total = len(clips) * width + (len(clips) - 1) * gap
    labels = []
    for key in frames_by_pace:
        name, text = _pace_label(key)
        labels.append(html.escape(f"{name} ({text})" if name else text))
    cells = "".join(f'<div style="width:{width * zoom}px;margin-right:{gap * zoom}px;text-align:center;'
                    f'font-size:12px">{label}</div>' for label in labels)
    parts = [f'<div style="display:flex">{cells}</div>',
             f'<img src="data:image/gif;base64,{gif}" width="{total * zoom}" height="{height * zoom}" '
             f'style="image-rendering:pixelated" alt="{html.escape(", ".join(labels))}">']
    if caption:
        parts.append(f'<div style="font-size:12px;color:#555">{html.escape(caption)}</div>')
    return "<div>" + "".join(parts) + "</div>"


__all__ = ["clips_gif", "clips_html", "kymograph", "kymograph_speed", "plot_kymographs", "plot_pace_strip",
           "plot_training_curves", "track_columns"]


def plot_pace_confusion(confusion, paces: Sequence, title: Optional[str] = None):
    """A pace model's confusion matrix (rows: true pace, columns: predicted), each row as fractions of
    its clips and the counts written in the cells; returns the Figure.

    Args:
        confusion: ``(M, M)`` counts, e.g. :func:`pacekit.evaluation.recognition.pace_confusion`.
        paces: the M paces, in label order (``list(PaceSet.from_spec(cfg.pace_set))``).
        title: the figure's title (default: the accuracy and the chance level).
    """
    import matplotlib.pyplot as plt

    counts = np.asarray(confusion)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] != len(paces):
        raise ValueError(f"confusion has shape {counts.shape}; expected ({len(paces)}, {len(paces)}), one row per pace")
    rows = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    side = 1.2 + 0.55 * len(paces)
    fig, ax = plt.subplots(figsize=(side + 0.8, side), constrained_layout=True)
    image = ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for (r, c), n in np.ndenumerate(counts):
        ax.text(c, r, str(n), ha="center", va="center", fontsize=8, color="white" if rows[r, c] > 0.5 else "black")
    names = [f"p = {as_pace(p)}" for p in paces]
    ax.set_xticks(range(len(paces)), names, fontsize=8, rotation=45)
    ax.set_yticks(range(len(paces)), names, fontsize=8)
    ax.set(xlabel="predicted pace", ylabel="true pace")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(title or f"{100 * accuracy:.1f}% of {counts.sum()} clips right (chance {100 / len(paces):.0f}%)",
                 fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the row")
    return fig


__all__ += ["plot_pace_confusion"]


def plot_pace_error_by_class(by_class, natural_speeds: Optional[Sequence[float]] = None, title: Optional[str] = None):
    """Each action class's mean signed pace error (predicted minus true, in pace steps) as a bar, its pace
    accuracy written beside it; returns the Figure.

    A model that reads the pace relative to each action's natural speed has short bars of both signs; one
    that reads the absolute speed has negative bars for slow actions and positive ones for fast actions.

    Args:
        by_class: a :class:`pacekit.evaluation.recognition.PaceConfusionByClass`.
        natural_speeds: one number per class (e.g. the synthetic set's mean natural speed); the classes are
            then drawn slowest at the top and the speed is written in the labels.
        title: the figure's title (default: what the bars are).
    """
    import matplotlib.pyplot as plt

    errors, accuracy, names = by_class.mean_error(), by_class.accuracy(), list(by_class.classes)
    order = np.arange(len(names))
    labels = list(names)
    if natural_speeds is not None:
        speeds = np.asarray(natural_speeds, dtype=float)
        if speeds.shape != (len(names),):
            raise ValueError(f"natural_speeds has {speeds.size} values; expected {len(names)}, one per class")
        order = np.argsort(speeds, kind="stable")
        labels = [f"{n} ({s:.2f})" for n, s in zip(names, speeds)]
    fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.32 * len(names)), constrained_layout=True)
    rows = np.arange(len(order))
    values = errors[order]
    ax.barh(rows, values, color=np.where(values < 0, "#4C72B0", "#DD8452"))
    for row, k in zip(rows, order):
        note = f"{100 * accuracy[k]:.0f}% right" if np.isfinite(accuracy[k]) else "no clips"
        ax.text(0.98, row, note, transform=ax.get_yaxis_transform(),
                ha="right", va="center", fontsize=7)
    ax.set_yticks(rows, [labels[k] for k in order], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    limit = max(1.0, float(np.nanmax(np.abs(values))) if len(values) else 1.0)
    ax.set_xlim(-limit * 1.15, limit * 1.6)
    ax.set_xlabel("mean pace error, predicted minus true (pace steps)")
    ax.set_title(title or "answers by action class" + (" (natural speed, px/frame)" if natural_speeds is not None
                                                       else "") + "\n< 0: read as slower, > 0: read as faster",
                 fontsize=9)
    return fig


__all__ += ["plot_pace_error_by_class"]
