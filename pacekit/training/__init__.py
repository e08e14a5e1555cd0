"""The machinery under :mod:`pacekit.recipes.train`: the shared loop, DDP helpers, data loaders and metric logs."""

from .data import EpochIndexed, EpochSampler, make_train_loader, select_per_class
from .distributed import DistContext, cleanup_distributed, init_distributed, resolve_device
from .logging import DeviceMeter, MetricsLog, read_metrics
from .loop import FastPath, FitResult, Schedule, fit, step_seed

__all__ = [
    "DeviceMeter", "DistContext", "EpochIndexed", "EpochSampler", "FastPath", "FitResult", "MetricsLog",
    "Schedule", "cleanup_distributed", "fit", "init_distributed", "make_train_loader", "read_metrics",
    "resolve_device", "select_per_class", "step_seed",
]
