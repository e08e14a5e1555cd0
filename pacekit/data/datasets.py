"""Video datasets in three modes: pace clips (pretraining), action clips (fine-tuning), eval clips.

A :class:`VideoDataset` decodes; it does not augment. Items are dicts of uint8 clips ``(T, H, W, C)``
at a fixed frame size (so batches stack) plus labels -- see ``docs/architecture.md``. The batched
transforms of :mod:`pacekit.data.transforms` then run on the device.

Sampling is deterministic: item ``i`` of epoch ``e`` draws from ``numpy.random.default_rng((seed, e, i))``,
so a resumed run sees the same clips, whatever the number of loader workers.

A video that cannot be read (corrupt, truncated, gone from disk) is handled by mode:

- ``pace`` and ``clip`` (training): it is reported once with its path and replaced by another video of
  the dataset; the item's ``"substituted"`` field counts such replacements so the trainer can report
  them. An epoch is never killed by one bad file, and self-supervised training loses nothing by it.
- ``eval``: it is never replaced, since scoring another video in its place would change the evaluated
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
from .readers import VideoDecodeError, open_video
from .splits import SplitIndex, VideoRecord, read_split

MODES = ("pace", "clip", "eval")
MAX_SUBSTITUTIONS = 10
#: Reason kinds of :class:`LeftOutVideo`: the text before the first colon of ``reason``.
UNDECODABLE = "undecodable"
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


def unreadable_reason(exc: BaseException) -> str:
    """The :class:`LeftOutVideo` reason for a video whose reader raised ``exc``."""
    kind = MISSING_ON_DISK if isinstance(exc, FileNotFoundError) else UNDECODABLE
    return f"{kind}: {exc}"


def name_some(names: Sequence[str], limit: int = NAMES_IN_WARNINGS) -> str:
    """``a, b, c and 4 more``: a message-sized list of names."""
    shown = ", ".join(str(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class VideoDataset(Dataset):
    """Clips from a list of :class:`VideoRecord`.

    Args:
        records: the videos, with their action labels.
        classes: action class names, in label order.
        mode: ``"pace"`` -- a clip at a random pace from ``pace_set`` and its pace label (Sec. 3.1);
            ``"clip"`` -- one clip at natural pace and the action label (fine-tuning);
            ``"eval"`` -- ``num_clips`` clips spaced uniformly over the video (paper 4.1, "Evaluation").
        clip_len: frames per clip (16 in the paper).
        pace_set: a :class:`pacekit.pace.PaceSet` or its spec (``"relative"``, ``"absolute"``, a list).
        start_policy: ``"fit"`` (default) or ``"any"`` (the authors'); see :func:`pacekit.pace.sample_start`.
        wrap: ``"modulo"`` (default) or ``"restart"`` (the authors' loop); see :func:`pacekit.pace.sample_indices`.
        clips_per_video: 2 gives two clips of one video at two different paces (the same-context
            contrastive variant, Eq. 2); pace mode only.
        slow_fill: ``"repeat"`` (the paper: the preceding frame) or ``"interpolate"`` (linear blend).
        num_clips: clips per video in eval mode (10 in the paper).
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
        mode: str = "pace",
        clip_len: int = 16,
        pace_set: Union[str, pacelib.PaceSet, Sequence] = "relative",
        start_policy: str = "fit",
        wrap: str = "modulo",
        clips_per_video: int = 1,
        slow_fill: str = "repeat",
        num_clips: int = 10,
        frame_size: Optional[tuple[int, int]] = (128, 171),
        repeat: int = 1,
        seed: int = 0,
        backend: str = "auto",
        missing: Sequence[str] = (),
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not records:
            if missing:
                raise ValueError(f"none of the {len(missing)} videos the split lists is on disk "
                                 f"({name_some(list(missing))}); check --root and the split")
            raise ValueError("the dataset has no videos; check --root and the split")
        if slow_fill not in ("repeat", "interpolate"):
            raise ValueError(f"slow_fill must be 'repeat' or 'interpolate', got {slow_fill!r}")
        if start_policy not in pacelib.START_POLICIES:
            raise ValueError(f"start_policy must be one of {pacelib.START_POLICIES}, got {start_policy!r}")
        self.pace_set = pacelib.PaceSet.from_spec(pace_set)
        if clips_per_video not in (1, 2) or (clips_per_video == 2 and mode != "pace"):
            raise ValueError("clips_per_video must be 1, or 2 in pace mode")
        if clips_per_video == 2 and len(self.pace_set) < 2:
            raise ValueError("two clips at different paces need a pace set of at least two paces")
        self.records = list(records)
        self.classes = list(classes)
        self.mode, self.clip_len, self.start_policy, self.wrap = mode, clip_len, start_policy, wrap
        self.clips_per_video, self.slow_fill, self.num_clips = clips_per_video, slow_fill, num_clips
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

    # ------------------------------------------------------------------------------------- sampling

    def _rng(self, index: int, attempt: int) -> np.random.Generator:
        return np.random.default_rng((self.seed, self.epoch, index, attempt))

    def _pace_clips(self, reader, rng) -> tuple[torch.Tensor, torch.Tensor]:
        """``clips_per_video`` clips at distinct random paces: ``(T,H,W,C)`` and a label, or stacked."""
        n = reader.num_frames
        labels = rng.choice(len(self.pace_set), size=self.clips_per_video, replace=False)
        clips = []
        for label in labels:
            pace = self.pace_set.pace_of(int(label))
            start = pacelib.sample_start(n, self.clip_len, pace, self.start_policy, rng)
            clips.append(self._read_clip(reader, pace, start))
        if self.clips_per_video == 1:
            return clips[0], torch.tensor(int(labels[0]), dtype=torch.int64)
        return torch.stack(clips), torch.as_tensor(labels, dtype=torch.int64)

    def _read_clip(self, reader, pace, start: int) -> torch.Tensor:
        n = reader.num_frames
        if self.slow_fill == "interpolate" and pacelib.as_pace(pace).denominator != 1:
            lo, hi, w = pacelib.interpolation_plan(n, self.clip_len, pace, start)
            frames = reader.get_frames(np.concatenate([lo, hi])).float()
            a, b = frames[: self.clip_len], frames[self.clip_len :]
            weight = torch.from_numpy(w).view(-1, 1, 1, 1)
            return (a * (1 - weight) + b * weight).round_().to(torch.uint8)
        return reader.get_frames(pacelib.sample_indices(n, self.clip_len, pace, start, self.wrap))

    def eval_starts(self, num_frames: int) -> np.ndarray:
        """Start frames of the ``num_clips`` evaluation clips: uniformly spaced from the first frame to
        the last start where a whole clip fits. A video shorter than one clip gives ``num_clips`` clips
        that all start at frame 0 and loop (the same clip repeated)."""
        last = max(num_frames - self.clip_len, 0)
        return np.round(np.linspace(0, last, self.num_clips)).astype(np.int64)

    def _load(self, record: VideoRecord, rng) -> dict:
        with open_video(record.path, self.backend, self.frame_size) as reader:
            if self.mode == "pace":
                clips, pace_labels = self._pace_clips(reader, rng)
                return {"video": clips, "pace_label": pace_labels}
            if self.mode == "clip":
                start = pacelib.sample_start(reader.num_frames, self.clip_len, 1, self.start_policy, rng)
                return {"video": self._read_clip(reader, 1, start)}
            starts = self.eval_starts(reader.num_frames)
            indices = np.concatenate(
                [pacelib.sample_indices(reader.num_frames, self.clip_len, 1, s) for s in starts]
            )
            frames = reader.get_frames(indices)
            return {"video": frames.view(self.num_clips, self.clip_len, *frames.shape[1:])}

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)}")
        video_index = index % len(self.records)
        if self.mode == "eval":
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
        raise RuntimeError(
            f"{MAX_SUBSTITUTIONS + 1} videos in a row could not be decoded (last: {record.path}); "
            "check the dataset with `pacekit info`"
        )

    def _eval_item(self, video_index: int) -> dict:
        """The eval item of one video, never another's: an unreadable video gives an unusable item."""
        record = self.records[video_index]
        try:
            item = self._load(record, self._rng(video_index, 0))
            item.update(usable=torch.tensor(True), unusable_reason="")
        except (VideoDecodeError, FileNotFoundError) as exc:
            height, width = self.frame_size if self.frame_size is not None else (0, 0)
            # A zero clip of the batch's shape lets default collation stack it; with native frame
            # sizes there is no shape to match, and an empty clip cannot be scored by mistake.
            placeholder = torch.zeros((self.num_clips, self.clip_len, height, width, 3), dtype=torch.uint8)
            item = {"video": placeholder, "usable": torch.tensor(False), "unusable_reason": unreadable_reason(exc)}
        item.update(label=torch.tensor(record.label, dtype=torch.int64),
                    index=torch.tensor(video_index, dtype=torch.int64))
        return item

    def _report_bad(self, record: VideoRecord, exc: Exception) -> None:
        if record.path not in self.bad_videos:
            self.bad_videos.add(record.path)
            warnings.warn(f"skipping undecodable video {record.path}: {exc}; another video is used instead",
                          stacklevel=3)


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
    **kwargs,
) -> VideoDataset:
    """Build a :class:`VideoDataset` from a dataset's official split files.

    Args:
        name: ``ucf101``, ``hmdb51``, ``kinetics400``, ``synthetic`` or ``folder``.
        root: the dataset folder (see :mod:`pacekit.data.splits` for the layouts), in its original or
            prepared (``pacekit prepare``) form.
        subset: ``train`` or ``test`` (``val`` for Kinetics-400).
        split: the official split number (1-3) for UCF101 and HMDB51.
        mode: ``pace``, ``clip`` or ``eval``.
        max_videos: keep only this many videos, evenly spread over the list (quick runs).
        **kwargs: passed to :class:`VideoDataset`.
    """
    index: SplitIndex = read_split(name, root, subset, split)
    records, missing = index.records, index.missing
    if max_videos is not None and max_videos < len(records):
        keep = np.round(np.linspace(0, len(records) - 1, max_videos)).astype(int)
        # A quick run keeps the same share of the missing videos, so its "N of M" stays proportionate.
        num_missing = round(len(missing) * max_videos / len(records))
        keep_missing = np.round(np.linspace(0, len(missing) - 1, num_missing)).astype(int) if num_missing else []
        records, missing = [records[i] for i in keep], [missing[i] for i in keep_missing]
    if missing:
        fate = ("counted and named as left out in the evaluation results" if mode == "eval"
                else "left out of training")
        warnings.warn(f"{len(missing)} of the {len(records) + len(missing)} videos listed for {name} {subset} are "
                      f"missing on disk ({name_some(missing)}); they are {fate}. Download them, or use a "
                      "mirror with the complete split", stacklevel=2)
    return VideoDataset(records, index.classes, mode=mode, missing=missing, **kwargs)
