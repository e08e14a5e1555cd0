"""Reading videos and their splits, pace/clip/eval datasets, and batched clip transforms."""

from .datasets import MODES, VideoDataset, build_dataset
from .readers import VideoDecodeError, VideoReader, open_video
from .splits import DATASETS, SplitError, SplitIndex, VideoRecord, read_split
from .transforms import ClipAugment, ClipEval, JitterStrength

__all__ = [
    "DATASETS", "MODES", "ClipAugment", "ClipEval", "JitterStrength", "SplitError", "SplitIndex",
    "VideoDataset", "VideoDecodeError", "VideoReader", "VideoRecord", "build_dataset", "open_video",
    "read_split",
]
