"""Running a module in eval mode for a while and giving it back in the mode it was in."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch import nn


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block, then back in its previous mode (training or eval), however
    the block ends: an evaluation never leaves a model that was training frozen in eval mode."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


__all__ = ["evaluating"]
