"""Flag groups shared by several commands: where the model comes from, which dataset, which device."""

from __future__ import annotations

from ..data import DATASETS


def add_model_arguments(p) -> None:
    """--checkpoint (pacekit's) or --authors-checkpoint (the authors' layout) and its --arch."""
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a pacekit checkpoint (pretraining or fine-tuning)")
    source.add_argument("--authors-checkpoint", help="a checkpoint in the authors' layout (conv1.*, ..., linear.*)")
    p.add_argument("--arch", choices=("r21d", "r3d", "c3d", "s3d_g"), default=None,
                   help="architecture of --authors-checkpoint (default: detected from its keys)")


def add_dataset_arguments(p) -> None:
    """``--dataset``, ``--root``, ``--split``, ``--max-videos`` (shared by evaluate, retrieve, attention)."""
    p.add_argument("--dataset", required=True, choices=DATASETS, help="dataset name (synthetic: the built-in set)")
    p.add_argument("--root", required=True, help="dataset folder (original or `pacekit prepare`d)")
    p.add_argument("--split", type=int, default=1, help="official split (1-3), default 1 as in the paper")
    p.add_argument("--max-videos", type=int, default=None, help="use only this many videos per list (quick runs)")


def add_system_arguments(p) -> None:
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1")
    p.add_argument("--batch-size", type=int, default=8, help="videos per batch (each holds its 10 clips)")
    p.add_argument("--num-workers", type=int, default=2, help="decoding processes")
