"""Video datasets: a list of videos, and a clip sampler that decides what each item holds.

A :class:`VideoDataset` opens videos, seeds the sampling and handles unreadable files; the
:mod:`~pacekit.data.samplers` object it is given reads the clips: pace clips (pretraining), action clips
(fine-tuning) or evaluation clips. It decodes; it does not augment. Items are dicts of uint8 clips
``(T, H, W, C)`` at a fixed frame size (so batches stack) plus labels -- see ``docs/architecture.md``.
The batched transforms of :mod:`pacekit.data.transforms` then run on the device.

Sampling is deterministic: item ``i`` of epoch ``e`` draws from
``numpy.random.default_rng((seed, e, i, attempt))`` (``attempt`` counts substitutions, below), so a
resumed run sees the same clips, whatever the number of loader workers.

A video that cannot be read (corrupt, truncated, gone from disk) is handled by the sampler's
``substitutes`` flag:

- training samplers (pace and action clips): it is reported once with its path and replaced by another
  video of the dataset; the item's ``"substituted"`` field counts such replacements so the trainer can
  report them. An epoch is never killed by one bad file, and self-supervised training loses nothing by it.
- evaluation: it is never replaced, since scoring another video in its place would change the evaluated
  set. Its item says ``"usable": False`` and gives the reason in ``"unusable_reason"`` (a zero clip keeps
  batches stackable); :func:`collate_eval_items` separates such items, and evaluation and retrieval
  leave them out and list them.

Videos a split lists but that are absent on disk (Kinetics-400 mirrors miss some) are kept by name in
``VideoDataset.missing``, so results can count them among the listed videos.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple, Optional, Sequence, Union

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from .. import pace as pacelib
from ..errors import PacekitError
from .readers import PartialVideoError, VideoDecodeError, open_video
from .samplers import MODES, ClipSampler, make_clip_sampler  # noqa: F401  (MODES: re-exported)
from .splits import SplitIndex, VideoRecord, read_split

MAX_SUBSTITUTIONS = 10
#: Keyword arguments of :func:`build_dataset` that go to :class:`VideoDataset`, not to the sampler.
DATASET_ARGS = ("frame_size", "repeat", "seed", "backend")
#: Reason kinds of :class:`LeftOutVideo`: the text before the first colon of ``reason``.
UNDECODABLE = "undecodable"
PARTLY_DECODABLE = "partly decodable"
MISSING_ON_DISK = "missing on disk"
#: How many missing names a warning spells out before it says "and N more".
NAMES_IN_WARNINGS = 5


class LeftOutVideo(NamedTuple):
    """A listed video that evaluation could not score: its name in the split, and why.

    ``reason`` starts with its kind (:data:`UNDECODABLE` or :data:`MISSING_ON_DISK`), then ``": "`` and
    the details, e.g. ``"undecodable: cannot decode video .../v_x.avi: moov atom not found"``.
    """

    name: str
    reason: str

    @property
    def kind(self) -> str:
        return self.reason.split(":", 1)[0]


class UnreadableDatasetError(PacekitError, RuntimeError):
    """Video after video of a training set cannot be read: the dataset, not one file, is broken."""


def unreadable_reason(exc: BaseException) -> str:
    """The :class:`LeftOutVideo` reason for a video whose reader raised ``exc``."""
    if isinstance(exc, FileNotFoundError):
        kind = MISSING_ON_DISK
    elif isinstance(exc, PartialVideoError):
        kind = PARTLY_DECODABLE
    else:
        kind = UNDECODABLE
    return f"{kind}: {exc}"


def name_some(names: Sequence[str], limit: int = NAMES_IN_WARNINGS) -> str:
    """``a, b, c and 4 more``: a message-sized list of names."""
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class VideoDataset(Dataset):
    """Items read from a list of :class:`VideoRecord` by a :class:`~pacekit.data.samplers.ClipSampler`.

    Each item is the sampler's result as a dict (its NamedTuple fields, less those that are ``None``)
    plus ``label`` (the action), ``index`` (the video read) and either ``substituted`` (training
    samplers) or ``usable`` and ``unusable_reason`` (evaluation) -- see the module docstring.

    Args:
        records: the videos, with their action labels.
        classes: action class names, in label order.
        sampler: what an item is made of: :class:`~pacekit.data.samplers.PaceClipSampler` (pretraining),
            :class:`~pacekit.data.samplers.ActionClipSampler` (fine-tuning),
            :class:`~pacekit.data.samplers.EvalClipSampler` (evaluation), or any
            :class:`~pacekit.data.samplers.ClipSampler`; :func:`~pacekit.data.samplers.make_clip_sampler`
            builds one from a mode name. For older callers, a mode name here or as ``mode=``, with the
            sampling arguments of :func:`~pacekit.data.samplers.make_clip_sampler` as keywords, does
            the same (without either, ``"pace"``).
        frame_size: ``(H, W)`` every frame is resized to while decoding (paper: 128x171); None keeps the
            native size (only stackable when all videos share it).
        repeat: the dataset is the record list repeated this many times per epoch (the paper's UCF101
            epoch is the list x10, "temporal jittering").
        seed: base seed of the per-item random generators.
        backend: video reader backend, see :func:`pacekit.data.readers.open_video`.
        missing: names of videos the split lists but that are absent on disk; not read, only counted
            and named by evaluation (see :attr:`num_listed`).
    """

    def __init__(
        self,
        records: Sequence[VideoRecord],
        classes: Sequence[str],
        sampler: Union[ClipSampler, str, None] = None,
        frame_size: Optional[tuple[int, int]] = (128, 171),
        repeat: int = 1,
        seed: int = 0,
        backend: str = "auto",
        missing: Sequence[str] = (),
        *,
        mode: Optional[str] = None,
        **sampling,
    ):
        if sampler is None or isinstance(sampler, str):
            # The older form, ``VideoDataset(records, classes, mode="eval", clip_len=4, ...)``.
            sampler = make_clip_sampler(mode or sampler or "pace", **sampling)
        elif mode is not None or sampling:
            raise TypeError(f"mode and sampling arguments {sorted(sampling)} are for building a sampler; "
                            "the sampler given already has its own")
        if not isinstance(sampler, ClipSampler):
            raise TypeError(f"sampler must be a ClipSampler, got {sampler!r}; build one with "
                            "pacekit.data.make_clip_sampler(mode, ...)")
        if not records:
            if missing:
                raise ValueError(f"none of the {len(missing)} videos the split lists is on disk "
                                 f"({name_some(list(missing))}); check --root and the split")
            raise ValueError("the dataset has no videos; check --root and the split")
        self.records = list(records)
        self.classes = list(classes)
        self.sampler = sampler
        self.frame_size = tuple(frame_size) if frame_size is not None else None
        self.repeat, self.seed, self.backend = int(repeat), int(seed), backend
        self.missing = [str(name) for name in missing]
        self.epoch = 0
        self.bad_videos: set[Path] = set()

    def __len__(self) -> int:
        return len(self.records) * self.repeat

    def set_epoch(self, epoch: int) -> None:
        """Change the random draws for a new epoch (call before creating the epoch's iterator)."""
        self.epoch = int(epoch)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def num_listed(self) -> int:
        """Videos the split lists: the readable records and the ones missing on disk, each once."""
        return len(self.records) + len(self.missing)

    @property
    def pace_set(self) -> Optional[pacelib.PaceSet]:
        """The sampler's pace set (the pretext classes), or None for a sampler without one."""
        return getattr(self.sampler, "pace_set", None)

    def eval_starts(self, num_frames: int) -> np.ndarray:
        """Start frames of the evaluation clips in a video of ``num_frames`` (see
        :meth:`~pacekit.data.samplers.EvalClipSampler.starts`)."""
        return self.sampler.starts(num_frames)

    # ------------------------------------------------------------------------------------- sampling

    def _rng(self, index: int, attempt: int) -> np.random.Generator:
        return np.random.default_rng((self.seed, self.epoch, index, attempt))

    def _load(self, record: VideoRecord, rng) -> dict:
        with open_video(record.path, self.backend, self.frame_size) as reader:
            sample = self.sampler(reader, rng)
        return _as_item(sample)

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)}")
        video_index = index % len(self.records)
        if not self.sampler.substitutes:
            return self._eval_item(video_index)
        for attempt in range(MAX_SUBSTITUTIONS + 1):
            record = self.records[video_index]
            rng = self._rng(index, attempt)
            try:
                item = self._load(record, rng)
            except (VideoDecodeError, FileNotFoundError) as exc:
                self._report_bad(record, exc)
                video_index = int(rng.integers(0, len(self.records)))  # substitute another video
                continue
            item.update(
                label=torch.tensor(record.label, dtype=torch.int64),
                index=torch.tensor(video_index, dtype=torch.int64),
                substituted=torch.tensor(attempt, dtype=torch.int64),
            )
            return item
        raise UnreadableDatasetError(
            f"{MAX_SUBSTITUTIONS + 1} videos in a row could not be decoded (last: {record.path}); "
            "check the dataset with `pacekit info`"
        )

    def _eval_item(self, video_index: int) -> dict:
        """The item of one video, never another's: an unreadable video gives an unusable item."""
        record = self.records[video_index]
        try:
            item = self._load(record, self._rng(video_index, 0))
            item.update(usable=torch.tensor(True), unusable_reason="")
        except (VideoDecodeError, FileNotFoundError) as exc:
            item = _as_item(self.sampler.placeholder(self.frame_size))
            item.update(usable=torch.tensor(False), unusable_reason=unreadable_reason(exc))
        item.update(label=torch.tensor(record.label, dtype=torch.int64),
                    index=torch.tensor(video_index, dtype=torch.int64))
        return item

    def _report_bad(self, record: VideoRecord, exc: Exception) -> None:
        if record.path not in self.bad_videos:
            self.bad_videos.add(record.path)
            warnings.warn(f"skipping undecodable video {record.path}: {exc}; another video is used instead",
                          stacklevel=3)


def _as_item(sample: NamedTuple) -> dict:
    """A sampler's NamedTuple as an item dict, leaving out fields that are None."""
    return {key: value for key, value in sample._asdict().items() if value is not None}


def collate_eval_items(items: Sequence[dict]) -> dict:
    """Collate eval-mode items, setting the unusable ones aside.

    Returns the usable items collated as usual (``video``, ``label``, ``index``; ``None`` when the batch
    has no usable video) under ``"usable"``, and ``"left_out"``: ``(index, reason)`` of every unusable
    item, in batch order. Unusable items' placeholder clips are never stacked, so they need not match.
    """
    usable = [item for item in items if bool(item.get("usable", True))]
    left_out = [(int(item["index"]), item["unusable_reason"]) for item in items if not bool(item.get("usable", True))]
    flags = ("usable", "unusable_reason")
    plain = [{key: value for key, value in item.items() if key not in flags} for item in usable]
    return {"usable": default_collate(plain) if plain else None, "left_out": left_out}


def build_dataset(
    name: str,
    root,
    subset: str = "train",
    split: int = 1,
    mode: str = "pace",
    max_videos: Optional[int] = None,
    sampler: Optional[ClipSampler] = None,
    **kwargs,
) -> VideoDataset:
    """Build a :class:`VideoDataset` from a dataset's official split files.

    Args:
        name: ``ucf101``, ``hmdb51``, ``kinetics400``, ``synthetic`` or ``folder``.
        root: the dataset folder (see :mod:`pacekit.data.splits` for the layouts), in its original or
            prepared (``pacekit prepare``) form.
        subset: ``train`` or ``test`` (``val`` for Kinetics-400).
        split: the official split number (1-3) for UCF101 and HMDB51.
        mode: ``pace``, ``clip`` or ``eval``: the sampler :func:`~pacekit.data.samplers.make_clip_sampler`
            builds from ``mode`` and the sampling arguments in ``kwargs``, when ``sampler`` is not given.
        max_videos: keep only this many videos, evenly spread over the list (quick runs).
        sampler: a :class:`~pacekit.data.samplers.ClipSampler` to use instead of ``mode``'s.
        **kwargs: sampling arguments (``clip_len``, ``pace_set``, ``start_policy``, ``wrap``,
            ``clips_per_video``, ``slow_fill``, ``num_clips``; only without ``sampler``) and the other
            arguments of :class:`VideoDataset` (``frame_size``, ``repeat``, ``seed``, ``backend``).
    """
    dataset_args = {key: kwargs.pop(key) for key in DATASET_ARGS if key in kwargs}
    if sampler is None:
        sampler = make_clip_sampler(mode, **kwargs)
    elif kwargs:
        raise TypeError(f"sampling arguments {sorted(kwargs)} are the sampler's; pass them to it, not here")
    index: SplitIndex = read_split(name, root, subset, split)
    records, missing = index.records, index.missing
    if max_videos is not None and max_videos < len(records):
        keep = np.round(np.linspace(0, len(records) - 1, max_videos)).astype(int)
        # A quick run keeps the same share of the missing videos, so its "N of M" stays proportionate.
        num_missing = round(len(missing) * max_videos / len(records))
        keep_missing = np.round(np.linspace(0, len(missing) - 1, num_missing)).astype(int) if num_missing else []
        records, missing = [records[i] for i in keep], [missing[i] for i in keep_missing]
    if missing:
        fate = ("counted and named as left out in the evaluation results" if not sampler.substitutes
                else "left out of training")
        warnings.warn(f"{len(missing)} of the {len(records) + len(missing)} videos listed for {name} {subset} are "
                      f"missing on disk ({name_some(missing)}); they are {fate}. Download them, or use a "
                      "mirror with the complete split", stacklevel=2)
    return VideoDataset(records, index.classes, sampler, missing=missing, **dataset_args)
