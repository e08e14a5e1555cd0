"""Flag groups shared by several commands: where the model comes from, which dataset, which device."""

from __future__ import annotations

import argparse

from ..data import DATASETS

# ------------------------------------------------------------------------------ argparse types
# Each is an argparse ``type=``: a bad value fails while the flags are parsed, before any file is opened,
# with argparse's "argument --flag: ..." message and exit status 2.


def _number(text: str, kind: type, expected: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def non_negative_int(text: str) -> int:
    """An integer >= 0 (a seed, a start frame, a number of worker processes)."""
    value = _number(text, int, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (a count, a size)."""
    value = _number(text, int, "an integer >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


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
    p.add_argument("--split", type=positive_int, default=1, help="official split (1-3), default 1 as in the paper")
    p.add_argument("--max-videos", type=positive_int, default=None, help="use only this many videos per list (quick runs)")


def add_system_arguments(p) -> None:
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:1")
    p.add_argument("--batch-size", type=positive_int, default=8, help="videos per batch (each holds its 10 clips)")
    p.add_argument("--num-workers", type=non_negative_int, default=2, help="decoding processes")
