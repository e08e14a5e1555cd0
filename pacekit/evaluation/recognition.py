"""Video-level action recognition: 10-clip evaluation, per-class accuracy, confusion matrix.

The protocol of the paper (4.1, "Evaluation", after VCOP and VCP): every test video gives 10 clips
spaced uniformly over it, each centre cropped; the video's class probabilities are the softmax of each
clip's logits averaged over its clips,

    P(y | video) = 1/10 * sum_j softmax(f(clip_j))_y,

and the predicted class is the arg-max. Top-1 / top-5 accuracy count the videos whose true class is
among the 1 / 5 most probable. Nothing here is random: the clips' positions are fixed, the crop is
central and the model runs in eval mode (BatchNorm uses its running statistics), so two runs give the
same numbers.

Every result says which videos it covers: ``num_evaluated`` of the ``num_listed`` videos the split lists.
A video that cannot be read is never replaced by another (that would score a different set); it is
left out and named in ``left_out`` with the reason, as are Kinetics videos missing on disk.

Loading the models evaluated here lives in :mod:`pacekit.training.loading` (its names are re-exported); the
linear probe, which trains before it evaluates, in :func:`pacekit.study.experiment.linear_probe`.

The pretext task has its own confusion matrix: :func:`pace_confusion` counts a pace model's answers on
held-out clips (row = true pace), the clips :func:`pace_accuracy` scores;
:func:`pace_confusion_by_class` splits it by action class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ..atomic import write_json_atomic
from ..config import Config
from ..data.datasets import MISSING_ON_DISK, LeftOutVideo, collate_eval_items, name_some
from ..data.transforms import ClipEval
from ..errors import PacekitError
from ..models.modes import evaluating
from ..owned import Kind
from ..pace import PaceSet
from ..training.data import eval_dataset, eval_workers, move_batch, pretrain_dataset
from ..training.loading import AuthorsClipEval, eval_transform

# --------------------------------------------------------------------------------------------
# Pure maths
# --------------------------------------------------------------------------------------------


def video_probabilities(model: nn.Module, clips: torch.Tensor) -> torch.Tensor:
    """Class probabilities of videos: float clips ``(B, n, C, T, H, W)`` -> ``(B, num_classes)``,
    the softmax of every clip's logits averaged over the ``n`` clips of its video (paper 4.1)."""
    if clips.dim() != 6:
        raise ValueError(f"expected clips of shape (B, n, C, T, H, W), got {tuple(clips.shape)}")
    b, n = clips.shape[:2]
    logits = model(clips.flatten(0, 1))  # (B*n, num_classes)
    return logits.float().softmax(-1).unflatten(0, (b, n)).mean(1)  # (B, num_classes)


def topk_correct(probs: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """Bool ``(N,)``: is the label among the ``k`` most probable classes of ``probs (N, C)``?

    ``k`` larger than the number of classes counts every video as correct. Ties are broken by class
    index (the lower index ranks first), so the answer is deterministic.
    """
    probs, labels = torch.as_tensor(probs), torch.as_tensor(labels).long()
    k = min(int(k), probs.shape[1])
    order = torch.sort(probs, dim=1, descending=True, stable=True).indices[:, :k]  # (N, k)
    return (order == labels[:, None]).any(1)


def confusion_matrix(labels: Sequence[int], predictions: Sequence[int], num_classes: int) -> np.ndarray:
    """``(C, C)`` int64 counts: row = true class, column = predicted class."""
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    for name, values in (("label", labels), ("prediction", predictions)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"a {name} lies outside 0..{num_classes - 1}: {values.min()}..{values.max()}")
    counts = np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """``(C,)`` accuracy of each true class (diagonal / row sum); NaN for a class with no videos."""
    confusion = np.asarray(confusion)
    totals = confusion.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)


@torch.inference_mode()
def _pace_answers(model: nn.Module, cfg: Config, subset: str, device, batch_size: int, clips_per_video: int,
                  num_workers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """True pace labels, predicted pace labels and action labels of the scored clips, and the class names."""
    if clips_per_video < 1:
        raise ValueError(f"clips_per_video must be at least 1, got {clips_per_video}")
    dataset = pretrain_dataset(cfg.replace(epoch_repeat=clips_per_video, contrastive="none"), subset)
    transform = eval_transform(cfg)
    labels, predictions, actions = [], [], []
    with evaluating(model):
        for batch in DataLoader(dataset, batch_size=batch_size, num_workers=num_workers):
            batch = move_batch(batch, torch.device(device))
            predictions.append(model(transform(batch["video"])).argmax(1).cpu())
            labels.append(batch["pace_label"].cpu())
            actions.append(batch["label"].cpu())
    as_int = lambda parts: torch.cat(parts).numpy().astype(np.int64)  # noqa: E731
    return as_int(labels), as_int(predictions), as_int(actions), list(dataset.classes)


def pace_predictions(model: nn.Module, cfg: Config, subset: str = "test", device="cpu", batch_size: int = 16,
                     clips_per_video: int = 1, num_workers: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(true pace labels, predicted pace labels)`` of a pace model on clips of ``subset``'s videos.

    The clips are those :func:`pace_accuracy` scores: each video at a random (seeded) pace
    of ``cfg.pace_set`` from the config's start policy, centre-cropped, no jitter, in the config's input
    mode; ``clips_per_video > 1`` draws that many clips of every video (the first round is the same).
    Both arrays are int64 ``(num_videos * clips_per_video,)``.
    """
    labels, predictions, _, _ = _pace_answers(model, cfg, subset, device, batch_size, clips_per_video, num_workers)
    return labels, predictions


def pace_accuracy(model: nn.Module, cfg: Config, subset: str = "test", device="cpu", batch_size: int = 16,
                  num_workers: int = 0) -> float:
    """Pace-prediction accuracy of a pretrained model on held-out videos: one clip per video at a
    random (seeded) pace, centre crop, no jitter (:func:`pace_predictions`) -- the pretext accuracy of the
    quickstart's table."""
    labels, predictions = pace_predictions(model, cfg, subset, device, batch_size, 1, num_workers)
    return float((labels == predictions).sum()) / max(len(labels), 1)


def pace_confusion(model: nn.Module, cfg: Config, subset: str = "test", device="cpu", batch_size: int = 16,
                   clips_per_video: int = 1, num_workers: int = 0) -> np.ndarray:
    """``(M, M)`` counts of a pace model's answers, row = true pace, column = predicted, over the M paces of
    ``cfg.pace_set`` (clips as in :func:`pace_predictions`); its trace over its sum is the pace accuracy."""
    labels, predictions = pace_predictions(model, cfg, subset, device, batch_size, clips_per_video, num_workers)
    return confusion_matrix(labels, predictions, len(PaceSet.from_spec(cfg.pace_set)))


@dataclass
class PaceConfusionByClass:
    """A pace model's confusion matrix split by the action class of each clip's video.

    ``counts[c]`` is the ``(M, M)`` matrix (row = true pace, column = predicted) of the clips of class
    ``classes[c]``; ``counts.sum(0)`` is :func:`pace_confusion`'s matrix of the same clips.
    """

    counts: np.ndarray  # (C, M, M) int64
    classes: list

    def accuracy(self) -> np.ndarray:
        """Pace accuracy of each class's clips, ``(C,)`` (nan for a class with no clips)."""
        totals = self.counts.sum(axis=(1, 2))
        right = np.trace(self.counts, axis1=1, axis2=2)
        return np.where(totals > 0, right / np.maximum(totals, 1), np.nan)

    def overall_accuracy(self) -> float:
        """Pace accuracy of all the clips: the diagonal of ``counts.sum(0)`` over its sum."""
        total = int(self.counts.sum())
        return float(np.trace(self.counts.sum(0)) / max(total, 1))

    def error_correlation(self, values: Sequence[float]) -> Optional[float]:
        """Pearson r between one value per class (e.g. its natural speed) and the classes' mean error, over
        the classes that have clips; None when fewer than three have, or their errors are all equal."""
        errors = self.mean_error()
        values = np.asarray(values, dtype=float)
        if values.shape != errors.shape:
            raise ValueError(f"{values.size} values for {errors.size} classes; give one per class")
        usable = np.isfinite(errors)
        if usable.sum() < 3 or np.ptp(errors[usable]) == 0:
            return None
        return float(np.corrcoef(values[usable], errors[usable])[0, 1])

    def mean_error(self) -> np.ndarray:
        """Mean signed error of each class's answers in pace steps, predicted label minus true label, ``(C,)``:
        negative when the model reads the class's clips as slower than they are, positive when faster."""
        m = self.counts.shape[1]
        steps = np.arange(m)[None, :] - np.arange(m)[:, None]  # (M, M): column minus row
        totals = self.counts.sum(axis=(1, 2))
        signed = (self.counts * steps[None]).sum(axis=(1, 2))
        return np.where(totals > 0, signed / np.maximum(totals, 1), np.nan)


def pace_confusion_by_class(model: nn.Module, cfg: Config, subset: str = "test", device="cpu", batch_size: int = 16,
                            clips_per_video: int = 1, num_workers: int = 0) -> PaceConfusionByClass:
    """:func:`pace_confusion` split by action class (same clips): shows whether the model reads a clip's pace
    relative to its action's natural speed, or reads the absolute speed (slow actions then come out slow
    and fast ones fast, whatever their pace)."""
    labels, predictions, actions, classes = _pace_answers(model, cfg, subset, device, batch_size,
                                                          clips_per_video, num_workers)
    m = len(PaceSet.from_spec(cfg.pace_set))
    counts = np.zeros((len(classes), m, m), dtype=np.int64)
    np.add.at(counts, (actions, labels, predictions), 1)
    return PaceConfusionByClass(counts, classes)


# --------------------------------------------------------------------------------------------
# Which videos a result covers
# --------------------------------------------------------------------------------------------


class NoUsableVideosError(PacekitError, RuntimeError):
    """Not one video of a split could be read, so there is nothing to evaluate."""


def left_out_note(left_out: Sequence[LeftOutVideo], listed_in: Optional[str] = None) -> str:
    """``"2 left out: 1 undecodable, 1 missing on disk"``, then where the names are (``listed_in``, e.g.
    ``"eval.json"``) or, without it, the first few names; ``""`` when nothing was left out."""
    if not left_out:
        return ""
    kinds: dict[str, int] = {}
    for video in left_out:
        kinds[video.kind] = kinds.get(video.kind, 0) + 1
    note = f"{len(left_out):,} left out: " + ", ".join(f"{n:,} {kind}" for kind, n in kinds.items())
    if listed_in:
        return f"{note}; listed in {listed_in}"
    return f"{note} ({name_some([v.name for v in left_out], 3)})"


def coverage_json(num_listed: int, num_evaluated: int, left_out: Sequence[LeftOutVideo]) -> dict:
    """The JSON fields that say which videos a result covers (``num_videos`` is ``num_evaluated``, kept
    for readers of earlier files)."""
    return {"num_listed": int(num_listed), "num_evaluated": int(num_evaluated), "num_videos": int(num_evaluated),
            "left_out": [{"name": v.name, "reason": v.reason} for v in left_out]}


def left_out_of(dataset, unusable: Sequence[LeftOutVideo] = ()) -> list[LeftOutVideo]:
    """Every video of ``dataset``'s list that was not scored: the ``unusable`` ones met while reading,
    then those the split lists but that are missing on disk (``dataset.missing``)."""
    missing = [LeftOutVideo(name, f"{MISSING_ON_DISK}: listed by the split, no file found")
               for name in getattr(dataset, "missing", ())]
    return list(unusable) + missing


def num_listed_of(dataset) -> int:
    """Videos the split of ``dataset`` lists, those missing on disk included."""
    return int(getattr(dataset, "num_listed", len(dataset)))


def require_some_evaluated(num_evaluated: int, num_listed: int, left_out: Sequence[LeftOutVideo], what: str) -> None:
    """Raise :class:`NoUsableVideosError` when every listed video was left out."""
    if num_evaluated == 0:
        first = left_out[0].reason if left_out else "the dataset gave no items"
        raise NoUsableVideosError(
            f"none of the {num_listed:,} videos of the {what} could be read ({left_out_note(left_out)}; first: "
            f"{first}). Check the files with `pacekit info`, or re-download or re-prepare the dataset"
        )


@dataclass
class EvalResult:
    """Video-level results of :func:`evaluate_videos` (accuracies are fractions in [0, 1]).

    Attributes:
        top1, top5: video accuracy; top5 is 1.0 when there are at most 5 classes.
        per_class_accuracy: ``(C,)`` float, NaN for classes without test videos.
        confusion: ``(C, C)`` int64, row = true class, column = predicted class.
        probs: ``(N, C)`` float32, the 10-clip mean softmax of each video.
        labels, predictions, indices: ``(N,)`` int64 (indices into ``dataset.records``).
        num_evaluated: N, the videos scored (``num_videos`` is the same number).
        classes: class names, when the dataset has them.
        num_listed: M, the videos the split lists, Kinetics' missing-on-disk ones included;
            ``M = N + len(left_out)``.
        left_out: ``(name, reason)`` of every listed video that was not scored (unreadable, missing on
            disk); never replaced by another video.
    """

    top1: float
    top5: float
    per_class_accuracy: np.ndarray
    confusion: np.ndarray
    probs: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    num_evaluated: int
    indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    classes: Optional[list[str]] = None
    num_listed: Optional[int] = None
    left_out: list[LeftOutVideo] = field(default_factory=list)

    def __post_init__(self):
        self.left_out = [LeftOutVideo(*video) for video in self.left_out]
        if self.num_listed is None:
            self.num_listed = self.num_evaluated + len(self.left_out)
        if self.num_listed != self.num_evaluated + len(self.left_out):
            raise ValueError(f"{self.num_listed} listed videos should be the {self.num_evaluated} evaluated plus "
                             f"the {len(self.left_out)} left out")

    @property
    def num_videos(self) -> int:
        """The videos scored (``num_evaluated``), under its earlier name."""
        return self.num_evaluated

    @property
    def mean_class_accuracy(self) -> float:
        """Mean of the per-class accuracies over classes that have test videos."""
        return float(np.nanmean(self.per_class_accuracy)) if np.isfinite(self.per_class_accuracy).any() else float("nan")

    def summary(self, listed_in: Optional[str] = None) -> str:
        """One line: ``"1,530 videos of 1,532 listed: top-1 ...  (2 left out: 1 undecodable, 1 missing on
        disk; listed in eval.json)"``. Without ``listed_in`` the first left-out names are spelled out."""
        text = (f"{self.num_evaluated:,} videos of {self.num_listed:,} listed: top-1 {100 * self.top1:.2f}%  "
                f"top-5 {100 * self.top5:.2f}%  mean class accuracy {100 * self.mean_class_accuracy:.2f}%")
        if self.left_out:
            text += f"  ({left_out_note(self.left_out, listed_in)})"
        return text

    def coverage_json(self) -> dict:
        """``num_listed``, ``num_evaluated``, ``num_videos`` and the ``left_out`` names and reasons."""
        return coverage_json(self.num_listed, self.num_evaluated, self.left_out)


def results_from_probs(probs, labels, indices=None, classes=None, num_listed: Optional[int] = None,
                       left_out: Sequence[LeftOutVideo] = ()) -> EvalResult:
    """An :class:`EvalResult` from video probabilities ``(N, C)`` and true labels ``(N,)``; ``left_out``
    are the listed videos that were not scored, ``num_listed`` (default N + len(left_out)) all of them."""
    probs_t = torch.as_tensor(probs).float()
    labels_t = torch.as_tensor(labels).long()
    num_classes = probs_t.shape[1]
    predictions = torch.sort(probs_t, dim=1, descending=True, stable=True).indices[:, 0]
    confusion = confusion_matrix(labels_t.numpy(), predictions.numpy(), num_classes)
    return EvalResult(
        top1=float(topk_correct(probs_t, labels_t, 1).float().mean()),
        top5=float(topk_correct(probs_t, labels_t, 5).float().mean()),
        per_class_accuracy=per_class_accuracy(confusion),
        confusion=confusion,
        probs=probs_t.numpy(),
        labels=labels_t.numpy(),
        predictions=predictions.numpy(),
        num_evaluated=len(labels_t),
        indices=np.asarray(indices if indices is not None else np.arange(len(labels_t)), dtype=np.int64),
        classes=list(classes) if classes is not None else None,
        num_listed=num_listed,
        left_out=list(left_out),
    )


# --------------------------------------------------------------------------------------------
# Evaluation loop
# --------------------------------------------------------------------------------------------


class EvalBatches:
    """Every batch of an ``eval``-mode dataset, in order, with its clips transformed on ``device``.

    Iterating yields ``(clips, batch)``: float clips ``(B, n, C, T, h, w)`` of the batch's readable videos
    and their raw batch (``label``, ``index``). Every readable video is used once: no shuffling, no
    ``drop_last`` (the VCOP retrieval script lost up to 7 videos per split to it). A video that cannot be
    read is not yielded (a batch with none readable is skipped) but added to :attr:`left_out`, which
    lists them after the iteration. The 10-clip evaluation and retrieval both read through this.
    """

    def __init__(self, dataset, device="cpu", batch_size: int = 8, num_workers: int = 0,
                 transform: Optional[nn.Module] = None):
        if getattr(dataset, "mode", "eval") != "eval" or getattr(dataset, "repeat", 1) != 1:
            raise ValueError(
                "evaluation needs each video once with its eval clips: build the dataset with mode='eval' and "
                f"repeat=1 (got mode={getattr(dataset, 'mode', None)!r}, repeat={getattr(dataset, 'repeat', None)!r})"
            )
        self.dataset, self.device, self.batch_size, self.num_workers = dataset, device, batch_size, num_workers
        self.transform = transform if transform is not None else ClipEval()
        self.left_out: list[LeftOutVideo] = []

    def _name_of(self, index: int) -> str:
        records = getattr(self.dataset, "records", None)
        return records[index].name if records is not None else f"video {index}"

    def __iter__(self) -> Iterator[tuple[torch.Tensor, dict]]:
        from torch.utils.data import DataLoader

        self.left_out = []
        loader = DataLoader(self.dataset, batch_size=self.batch_size, shuffle=False, drop_last=False,
                            num_workers=self.num_workers, collate_fn=collate_eval_items)
        for parts in loader:
            self.left_out += [LeftOutVideo(self._name_of(index), reason) for index, reason in parts["left_out"]]
            batch = parts["usable"]
            if batch is None:
                continue
            if batch["video"].dim() != 6:
                raise ValueError(
                    f"expected eval-mode items of shape (num_clips, T, H, W, C), got a batch of "
                    f"{tuple(batch['video'].shape)}; build the dataset with mode='eval'"
                )
            yield self.transform(batch["video"].to(self.device, non_blocking=True)), batch  # (B, n, C, T, h, w)


def eval_clip_batches(dataset, device="cpu", batch_size: int = 8, num_workers: int = 0,
                      transform: Optional[nn.Module] = None) -> EvalBatches:
    """The :class:`EvalBatches` of ``dataset``: iterate it, then read its ``left_out``."""
    return EvalBatches(dataset, device, batch_size, num_workers, transform)


@dataclass
class VideoOutputs:
    """What :func:`over_eval_videos` collected: ``outputs`` (one entry per batch, as the function returned
    it), the videos' ``labels`` and dataset ``indices``, the videos the split lists, and those left out."""

    outputs: list
    labels: torch.Tensor
    indices: torch.Tensor
    num_listed: int
    left_out: list


def over_eval_videos(dataset, per_batch: Callable[[torch.Tensor], Any], what: str, device="cpu",
                     batch_size: int = 8, num_workers: int = 0,
                     transform: Optional[nn.Module] = None) -> VideoOutputs:
    """The one loop over an ``eval``-mode dataset's videos that evaluation, retrieval and the probe share:
    ``per_batch(clips)`` on each batch of transformed clips ``(B, n, C, T, h, w)``, every readable video
    once in dataset order; unreadable and missing videos are left out and listed, never substituted.
    The caller puts the model in eval mode (:func:`pacekit.models.modes.evaluating`).

    Raises:
        NoUsableVideosError: not one video of the dataset (called ``what`` in the message) could be read.
    """
    batches = EvalBatches(dataset, device, batch_size, num_workers, transform)
    outputs, labels, indices = [], [], []
    for clips, batch in batches:
        outputs.append(per_batch(clips))
        labels.append(batch["label"])
        indices.append(batch["index"])
    left_out, num_listed = left_out_of(dataset, batches.left_out), num_listed_of(dataset)
    require_some_evaluated(sum(len(x) for x in labels), num_listed, left_out, what)
    return VideoOutputs(outputs, torch.cat(labels), torch.cat(indices), num_listed, left_out)


def evaluate_videos(
    model: nn.Module,
    dataset,
    device="cpu",
    batch_size: int = 8,
    num_workers: int = 0,
    transform: Optional[nn.Module] = None,
) -> EvalResult:
    """Video-level top-1 / top-5 of ``model`` on an ``eval``-mode dataset (paper 4.1, "Evaluation").

    Args:
        model: maps float clips ``(B, C, T, H, W)`` to logits ``(B, num_classes)`` (a ClipModel).
            It is run in eval mode under ``torch.inference_mode`` and put back in its previous mode.
        dataset: items ``{"video": (n, T, H, W, C) uint8, "label", "index"}``, e.g.
            ``build_dataset(name, root, "test", mode="eval", num_clips=10)``. Every readable video is
            used once; unreadable ones and those missing on disk are left out and listed in the result.
        device: where the model is; batches are moved there before the transform.
        transform: uint8 ``(B, n, T, H, W, C)`` -> float ``(B, n, C, T, h, w)``; default
            :class:`pacekit.data.ClipEval` (resize to 128x171, centre crop 112, normalise).

    Raises:
        NoUsableVideosError: not one video of the dataset could be read.
    """
    classes = getattr(dataset, "classes", None)
    num_logits = getattr(model, "num_classes", None)
    if classes is not None and num_logits is not None and num_logits != len(classes):
        raise ValueError(
            f"the model predicts {num_logits} classes but the dataset has {len(classes)}; evaluate a "
            "checkpoint fine-tuned on this dataset (a pretraining checkpoint predicts paces, not actions)"
        )
    with evaluating(model), torch.inference_mode():
        seen = over_eval_videos(dataset, lambda clips: video_probabilities(model, clips).cpu(), "evaluation set",
                                device, batch_size, num_workers, transform)
    return results_from_probs(torch.cat(seen.outputs), seen.labels, seen.indices, classes, seen.num_listed,
                              seen.left_out)


# --------------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------------


def plot_confusion(result: EvalResult, normalize: bool = True, max_labels: int = 30):
    """The confusion matrix as an image (rows: true class, columns: predicted); returns the Figure.

    ``normalize=True`` divides each row by its class's video count (a row then sums to 1). Class names
    are written on the axes when there are at most ``max_labels`` classes.
    """
    import matplotlib.pyplot as plt

    matrix = result.confusion.astype(np.float64)
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    num_classes = matrix.shape[0]
    side = min(4 + 0.25 * num_classes, 16)
    fig, ax = plt.subplots(figsize=(side, side))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the class" if normalize else "videos")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"top-1 {100 * result.top1:.1f}%, {result.num_evaluated:,} of {result.num_listed:,} videos")
    if result.classes is not None and num_classes <= max_labels:
        ax.set_xticks(range(num_classes), result.classes, rotation=90, fontsize=8)
        ax.set_yticks(range(num_classes), result.classes, fontsize=8)
    fig.tight_layout()
    return fig


def plot_per_class_accuracy(result: EvalResult, max_labels: int = 60):
    """Per-class accuracy as horizontal bars, worst class at the top; returns the Figure."""
    import matplotlib.pyplot as plt

    acc = result.per_class_accuracy
    order = [i for i in np.argsort(np.nan_to_num(acc, nan=-1.0)) if np.isfinite(acc[i])]
    names = result.classes or [str(i) for i in range(len(acc))]
    fig, ax = plt.subplots(figsize=(6, max(2.5, 0.18 * len(order) + 1)))
    ax.barh(range(len(order)), [100 * acc[i] for i in order], color="tab:blue")
    ax.axvline(100 * result.top1, color="tab:red", lw=1, label=f"top-1 {100 * result.top1:.1f}%")
    if len(order) <= max_labels:
        ax.set_yticks(range(len(order)), [names[i] for i in order], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("accuracy (%)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def evaluate_on_test(model: nn.Module, cfg: Config, device="cpu") -> EvalResult:
    """10-clip video-level evaluation (paper 4.1) of a model trained with ``cfg`` on its test split; test
    videos that cannot be read are left out and named in the result, never replaced. A model fine-tuned
    from the authors' weights is fed their input (BGR 0..255, :class:`pacekit.training.loading.AuthorsClipEval`)."""
    transform = (AuthorsClipEval(size=None, crop=cfg.crop) if getattr(model, "authors_input", False)
                 else eval_transform(cfg))
    return evaluate_videos(model, eval_dataset(cfg), device=device, batch_size=cfg.eval_batch_size,
                           num_workers=eval_workers(cfg), transform=transform)


def format_comparison(results: dict[str, EvalResult]) -> str:
    """A small table: one row per model, top-1 / top-5 / mean class accuracy in percent, and the videos
    scored of those listed; a line per model that left videos out says which kinds."""
    lines = [f"{'model':<14}{'top-1':>8}{'top-5':>8}{'mean cls':>10}{'videos (of listed)':>20}"]
    for name, r in results.items():
        videos = f"{r.num_evaluated:,} of {r.num_listed:,}"
        lines.append(f"{name:<14}{100 * r.top1:8.2f}{100 * r.top5:8.2f}{100 * r.mean_class_accuracy:10.2f}"
                     f"{videos:>20}")
    lines += [f"{name}: {left_out_note(r.left_out)}" for name, r in results.items() if r.left_out]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Saving a result
# --------------------------------------------------------------------------------------------


#: The folder of an evaluation's results (``pacekit evaluate``), marked and checked by :mod:`pacekit.owned`.
EVAL_FOLDER = Kind("pacekit-evaluation", "an evaluation's results", files=(
    r"eval\.json", r"confusion\.png", r"per_class_accuracy\.png", r"\.(eval\.json)\..+\.tmp"), required=r"eval\.json")


def save_result(result: EvalResult, out_dir) -> list:
    """Write ``eval.json`` (accuracies, which videos were scored and which left out and why, per-class
    accuracy, confusion) and the two figures; returns the paths."""
    from pathlib import Path

    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = result.classes or [str(i) for i in range(len(result.per_class_accuracy))]
    summary = {
        "top1": result.top1, "top5": result.top5, "mean_class_accuracy": result.mean_class_accuracy,
        **result.coverage_json(),
        "per_class_accuracy": {n: (None if np.isnan(a) else float(a)) for n, a in zip(names, result.per_class_accuracy)},
        "confusion": result.confusion.tolist(), "classes": names,
    }
    paths = [out_dir / "eval.json", out_dir / "confusion.png", out_dir / "per_class_accuracy.png"]
    write_json_atomic(paths[0], summary, indent=1)
    for fig, path in ((plot_confusion(result), paths[1]), (plot_per_class_accuracy(result), paths[2])):
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return paths
