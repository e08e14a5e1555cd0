"""Frame strips: the frames of a video at chosen indices, decoded into one uint8 array for a figure or a game.

``read_strip(path, indices)`` is the one place that opens a video, decides which frames to take and
decodes them. Which frames often depends on the video's length, so ``indices`` may be a function of
the frame count instead of a list::

    read_strip(path, [0, 8, 16])                            # these three frames
    read_strip(path, np.arange)                             # every frame
    read_strip(path, lambda n: spread_indices(n, 4))        # 4 frames from first to last
    read_pace_strips(path, paces=(1, 2, 3, 4), clip_len=16)  # one clip per pace (Fig. 5, the pace strip)

Frames come back as the readers return them (:mod:`pacekit.data.readers`): ``torch.uint8`` of shape
``(N, H, W, C)``, RGB, in the order asked for, resized while decoding when ``size=(H, W)`` is given.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Union

import numpy as np
import torch

from ..pace import PaceLike, sample_indices
from .readers import open_video

#: Frame indices (0-based), or a function ``num_frames -> indices`` for indices that depend on the length.
Indices = Union[Sequence[int], np.ndarray, Callable[[int], Sequence[int]]]


def read_strip(path, indices: Indices, size: Optional[Sequence[int]] = None) -> torch.Tensor:
    """The frames of the video at ``path`` at ``indices``: uint8 ``(N, H, W, C)``, in the order given.

    Args:
        path: a video file, a frame folder or a ``.jpack`` file (anything :func:`open_video` reads).
        indices: 0-based frame indices (repeats allowed), or a function called with the video's frame
            count that returns them.
        size: ``(H, W)`` to decode at; None keeps the video's own size.

    Raises:
        IndexError: an index outside ``[0, num_frames)``.
    """
    with open_video(path, size=tuple(size) if size is not None else None) as reader:
        wanted = indices(reader.num_frames) if callable(indices) else indices
        return reader.get_frames(np.asarray(wanted, dtype=np.int64))


def spread_indices(num_frames: int, count: int) -> np.ndarray:
    """``count`` frame indices spread evenly from the first frame to the last, rounded: int64 ``(count,)``.

    >>> spread_indices(10, 4).tolist()
    [0, 3, 6, 9]
    """
    return np.round(np.linspace(0, num_frames - 1, count)).astype(np.int64)


def read_pace_strips(
    path, paces: Sequence[PaceLike], clip_len: int, start: int = 0, size: Optional[Sequence[int]] = None
) -> torch.Tensor:
    """One clip per pace from the video at ``path``: uint8 ``(len(paces), clip_len, H, W, C)``.

    Every clip starts at frame ``start`` and frame i of the clip at pace p is ``start + floor(i * p)``
    (:func:`pacekit.pace.sample_indices`, looping past the end), so the clips begin at the same moment
    and a faster pace covers more of the video. All clips are decoded in one pass.
    """
    if not paces:
        raise ValueError("read_pace_strips needs at least one pace, e.g. paces=(1, 2, 3, 4)")

    def pace_indices(num_frames: int) -> np.ndarray:
        return np.concatenate([sample_indices(num_frames, clip_len, p, start) for p in paces])

    frames = read_strip(path, pace_indices, size)  # (P * T, H, W, C)
    return frames.view(len(paces), clip_len, *frames.shape[1:])
