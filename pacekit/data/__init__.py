"""Reading videos and their splits, clip samplers and the datasets they feed, and batched clip transforms."""

from .datasets import MODES, VideoDataset, build_dataset
from .readers import VideoDecodeError, VideoReader, open_video
from .samplers import (
    ActionClipSampler,
    ClipSample,
    ClipSampler,
    EvalClipSampler,
    PaceClipSampler,
    make_clip_sampler,
)
from .splits import DATASETS, SplitError, SplitIndex, VideoRecord, read_split
from .transforms import ClipAugment, ClipEval, JitterStrength

__all__ = [
    "DATASETS", "MODES", "ActionClipSampler", "ClipAugment", "ClipEval", "ClipSample", "ClipSampler",
    "EvalClipSampler", "JitterStrength", "PaceClipSampler", "SplitError", "SplitIndex", "VideoDataset",
    "VideoDecodeError", "VideoReader", "VideoRecord", "build_dataset", "make_clip_sampler", "open_video",
    "read_split",
]
