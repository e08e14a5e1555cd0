"""Pace-pretrained networks shipped inside the package, so a notebook can skip training.

Five networks are shipped (:data:`NETWORKS`), each pretrained on the quickstart's synthetic set by pace
prediction (Sec. 3.1, Eq. 1), two of them with a contrastive term (Sec. 3.2, Eq. 4):

- ``quickstart``: the network ``pacekit quickstart`` pretrains (the ``cpu-tiny`` preset, ``tiny-fine``);
- ``same-pace`` and ``same-context``: the same recipe with the same-pace (Eq. 3) or the same-context (Eq. 2)
  term, notebook 04's two variants;
- ``game``: the pace game's player (the same recipe on five absolute paces, 8-frame clips and 30 epochs,
  notebook 02);
- ``r21d-quarter``: the paper's R(2+1)D at a quarter of its width, pretrained as the claims ledger's arm
  (the ``claims`` preset).

``pacekit/weights/`` holds two files per network, both written by one command, ``pacekit ship-weights
--network NAME`` (:func:`build_shipped`):

- ``<file>.pt``: a slim checkpoint (``model``, ``config``, ``stage`` and nothing else: no optimizer, RNG
  state or metrics) that loads with ``torch.load(weights_only=True)`` and rebuilds through
  :func:`pacekit.training.loading.model_from_checkpoint`;
- ``<file>.json``: its record -- the command that wrote it, the full config and seed, the synthetic set it was
  trained on (format version and parameters), its pretext (pace) accuracy on that set's test split, the torch
  version, date and machine, and the checkpoint's size and sha256.

``tests/test_shipped.py`` checks that each file still scores exactly its recorded pretext accuracy on a test
split regenerated from the record.

    >>> from pacekit.teaching.shipped import load_shipped_pretrained, shipped_record
    >>> model = load_shipped_pretrained("cpu")                                     # doctest: +SKIP
    >>> shipped_record(network="game")["pretext_accuracy"]                         # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Union

import torch
from torch import nn

from ..atomic import ensure_writable, read_json, write_text_atomic
from ..config import Config, get_config
from ..data.synthetic import FORMAT_NAME, ensure_synthetic, read_synthetic_metadata
from ..errors import PacekitError
from ..evaluation.recognition import pace_accuracy
from ..machine import cpu_name
from ..recipes.train import TrainResult, pretrain
from ..study.quickstart import SYNTHETIC_SIZE
from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..training.data import pretrain_dataset
from ..training.loading import model_from_checkpoint
from .game import GAME_MODEL

#: The folder of the shipped files inside the installed package (package data, see pyproject.toml).
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
#: The command that writes the shipped files.
COMMAND = "pacekit ship-weights"
#: The only entries of the slim checkpoint.
SLIM_ENTRIES = ("model", "config", "stage")


@dataclass(frozen=True)
class ShippedNetwork:
    """One shipped network: its files' stem, the preset and config fields it is pretrained with, and what it
    is, in a few words."""

    stem: str
    preset: str
    overrides: tuple[tuple[str, Any], ...]
    about: str

    @property
    def weights_file(self) -> str:
        return f"{self.stem}.pt"

    @property
    def record_file(self) -> str:
        return f"{self.stem}.json"

    @property
    def display_path(self) -> str:
        """How messages name the checkpoint: relative to the package, the same on every machine."""
        return f"pacekit/weights/{self.weights_file}"

    def config(self, **overrides: Any) -> Config:
        """The configuration it is pretrained with (``overrides`` on top: the tests shrink the run)."""
        return get_config(self.preset, **{**dict(self.overrides), **overrides})


#: The shipped networks by name (``pacekit ship-weights --network NAME``).
NETWORKS: dict[str, ShippedNetwork] = {
    "quickstart": ShippedNetwork("cpu_tiny_pace", "cpu-tiny", (), "the quickstart's pace-pretrained network"),
    "same-pace": ShippedNetwork("cpu_tiny_pace_same_pace", "cpu-tiny", (("contrastive", "pace"),),
                                "the quickstart's network pretrained with the same-pace term (Eq. 3)"),
    "same-context": ShippedNetwork("cpu_tiny_pace_same_context", "cpu-tiny", (("contrastive", "context"),),
                                   "the quickstart's network pretrained with the same-context term (Eq. 2)"),
    "game": ShippedNetwork("game_pace", "cpu-tiny", tuple(GAME_MODEL.items()), "the pace game's network (five paces)"),
    "r21d-quarter": ShippedNetwork("r21d_quarter_pace", "claims", (("backbone", "r21d"), ("width", 0.25)),
                                   "the paper's R(2+1)D at a quarter of its width, pretrained as in the claims ledger"),
}
#: The network a call without ``network`` means.
DEFAULT_NETWORK = "quickstart"
#: The quickstart network's files and preset (the default of every function here).
WEIGHTS_FILE = NETWORKS[DEFAULT_NETWORK].weights_file
RECORD_FILE = NETWORKS[DEFAULT_NETWORK].record_file
DISPLAY_PATH = NETWORKS[DEFAULT_NETWORK].display_path
PRESET = NETWORKS[DEFAULT_NETWORK].preset


def shipped_network(name: str = DEFAULT_NETWORK) -> ShippedNetwork:
    """The shipped network called ``name`` (one of :data:`NETWORKS`)."""
    if name not in NETWORKS:
        raise PacekitError(f"no shipped network {name!r}; pick one of {', '.join(NETWORKS)}")
    return NETWORKS[name]


def weights_path(folder=None, network: str = DEFAULT_NETWORK) -> Path:
    """A shipped checkpoint in ``folder`` (default: the package's :data:`WEIGHTS_DIR`)."""
    return Path(folder if folder is not None else WEIGHTS_DIR) / shipped_network(network).weights_file


def record_path(folder=None, network: str = DEFAULT_NETWORK) -> Path:
    """A shipped checkpoint's JSON record in ``folder`` (default: the package's :data:`WEIGHTS_DIR`)."""
    return Path(folder if folder is not None else WEIGHTS_DIR) / shipped_network(network).record_file


def ship_command(network: str = DEFAULT_NETWORK) -> str:
    """The command that writes a network's shipped files."""
    return COMMAND if network == DEFAULT_NETWORK else f"{COMMAND} --network {network}"


def shipped_available(folder=None, network: str = DEFAULT_NETWORK) -> bool:
    """Whether both files of a shipped network are there (a source checkout before ``pacekit ship-weights``
    has neither)."""
    return weights_path(folder, network).is_file() and record_path(folder, network).is_file()


def _require_files(folder=None, network: str = DEFAULT_NETWORK) -> None:
    missing = [p for p in (weights_path(folder, network), record_path(folder, network)) if not p.is_file()]
    if missing:
        raise PacekitError(f"the shipped pretrained weights are missing ({', '.join(p.name for p in missing)} in "
                           f"{Path(folder) if folder is not None else 'pacekit/weights'}); reinstall pacekit, or write "
                           f"them with `{ship_command(network)}`")


#: The record's entries that pacekit reads, and their kinds.
RECORD_KEYS = {"sha256": str, "config": dict, "synthetic": dict, "pretext_accuracy": (int, float), "preset": str,
               "seed": int}


def shipped_record(folder=None, network: str = DEFAULT_NETWORK) -> dict:
    """The JSON record of a shipped checkpoint (see the module docstring for its keys); a damaged one is a
    :class:`pacekit.errors.DamagedFileError` that says how to get it back."""
    _require_files(folder, network)
    return read_json(record_path(folder, network),
                     f"reinstall pacekit, or write both files again with `{ship_command(network)} --overwrite`",
                     keys=RECORD_KEYS)


def file_sha256(path) -> str:
    """The hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def shipped_config(folder=None, network: str = DEFAULT_NETWORK) -> Config:
    """The :class:`pacekit.config.Config` a shipped network was pretrained with (from its record)."""
    return Config.from_dict(shipped_record(folder, network)["config"])


def load_shipped_pretrained(device: Union[str, torch.device] = "cpu", folder=None,
                            network: str = DEFAULT_NETWORK) -> nn.Module:
    """A shipped pace-pretrained network (a ``ClipModel`` with its pace head), in eval mode on ``device``.

    The checkpoint is loaded with ``weights_only=True`` after its sha256 is checked against the record.

    Raises:
        PacekitError: the files are missing, or the checkpoint is not the one its record describes.
    """
    record = shipped_record(folder, network)
    path = weights_path(folder, network)
    digest = file_sha256(path)
    if digest != record["sha256"]:
        raise PacekitError(f"{path.name} does not match its record (sha256 {digest[:12]}..., recorded "
                           f"{record['sha256'][:12]}...); reinstall pacekit or rewrite both files with "
                           f"`{ship_command(network)} --overwrite`")
    model, _ = model_from_checkpoint(load_checkpoint(path), device, source=shipped_network(network).display_path)
    return model


def shipped_train_result(device: Union[str, torch.device] = "cpu", folder=None,
                         network: str = DEFAULT_NETWORK) -> TrainResult:
    """A shipped network as a finished pretraining stage (what :func:`pacekit.recipes.train.pretrain` returns):
    its model, config, checkpoint and the epoch rows of the run that wrote it (from the record)."""
    record = shipped_record(folder, network)
    model = load_shipped_pretrained(device, folder, network)
    path = weights_path(folder, network)
    return TrainResult(model, Config.from_dict(record["config"]), path.parent, path, list(record.get("metrics", [])))


def pretext_test_config(record: dict, data_dir) -> Config:
    """The config :func:`pacekit.evaluation.recognition.pace_accuracy` scores the shipped network with: its own, reading the
    synthetic set in ``data_dir``."""
    return Config.from_dict(record["config"]).replace(root=str(data_dir))


def ensure_record_synthetic(record: dict, data_dir, progress: bool = False) -> Path:
    """Write (or reuse) in ``data_dir`` the synthetic set the record names: same format version, same
    parameters, hence the same videos."""
    synthetic = record["synthetic"]
    return ensure_synthetic(data_dir, progress=progress, version=synthetic["version"], **synthetic["params"])


def measure_shipped(data_dir, device: Union[str, torch.device] = "cpu", folder=None, progress: bool = False,
                    network: str = DEFAULT_NETWORK) -> float:
    """A shipped network's pretext accuracy on the test split of its synthetic set, regenerated in
    ``data_dir`` from the record (reused when already there); equal to ``record["pretext_accuracy"]``
    when nothing has changed."""
    record = shipped_record(folder, network)
    root = ensure_record_synthetic(record, data_dir, progress)
    model = load_shipped_pretrained(device, folder, network)
    return pace_accuracy(model, pretext_test_config(record, root), "test", device=device,
                         batch_size=record["pretext_batch_size"])


@dataclass
class ShippedBuild:
    """What :func:`build_shipped` wrote: the checkpoint, its record (path and content), the seconds taken."""

    weights: Path
    record_path: Path
    record: dict
    seconds: float


def build_shipped(out_dir=WEIGHTS_DIR, data_dir="data/synthetic", command: Optional[str] = None,
                  overwrite: bool = False, progress: bool = False, network: str = DEFAULT_NETWORK,
                  threads: Optional[int] = None, **overrides: Any) -> ShippedBuild:
    """Pretrain a shipped network (:data:`NETWORKS`) and write it, slim, with its record, into ``out_dir``.

    1. The synthetic set exactly as ``pacekit quickstart`` makes it (the preset's classes, videos per class
       and seed, frames drawn at :data:`pacekit.study.quickstart.SYNTHETIC_SIZE`), in ``data_dir`` (reused when
       complete).
    2. Pace pretraining with the network's config (:meth:`ShippedNetwork.config`, ``overrides`` on top), as
       the quickstart's pretraining run is made, in a temporary folder.
    3. The slim checkpoint (:data:`SLIM_ENTRIES`) is saved, loaded back through
       :func:`pacekit.training.loading.model_from_checkpoint` and scored with :func:`pacekit.evaluation.recognition.pace_accuracy` on
       the test split: one clip per video at a seeded pace, so the same file always scores the same.
    4. The record: ``command`` (the command line to write down; default :func:`ship_command`), the config,
       seed, synthetic set, pretext accuracy, torch version, date, machine, size and sha256 of the checkpoint.

    Args:
        overrides: config fields to change (the tests shrink the run with them); the shipped files use none.
        overwrite: replace shipped files already in ``out_dir`` (refused otherwise).
        threads: torch threads of the pretraining (``cfg.threads``; default: every core this process may use).
            Recorded in the config, outside the same-run rule, as the quickstart's ``--threads`` is.

    Raises:
        FileExistsError: ``out_dir`` holds shipped files and ``overwrite`` is False.
    """
    t0 = time.perf_counter()
    shipped = shipped_network(network)
    out_dir = Path(out_dir)
    weights, record_file = weights_path(out_dir, network), record_path(out_dir, network)
    existing = [p for p in (weights, record_file) if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{', '.join(str(p) for p in existing)} already exist; pass --overwrite "
                              "(overwrite=True) to replace the shipped weights")
    ensure_writable(out_dir)  # before the synthetic set and the pretraining (minutes), not after them
    base = shipped.config(**overrides)
    root = ensure_synthetic(data_dir, num_classes=base.synthetic_classes, videos_per_class=base.synthetic_videos,
                            seed=base.seed, width=SYNTHETIC_SIZE[0], height=SYNTHETIC_SIZE[1], progress=progress)
    meta = read_synthetic_metadata(root)
    work = Path(tempfile.mkdtemp(prefix="pacekit-ship-"))
    try:
        # The quickstart's pretraining run (pacekit.study.experiment.run_experiment's pre_cfg), in a scratch folder.
        cfg = base.replace(dataset="synthetic", root=str(root), name="pretrain", out_dir=str(work), pretrained=None,
                           progress=progress, threads=threads if threads is not None else base.threads)
        run = pretrain(cfg, overwrite=True)
        trained = load_checkpoint(run.checkpoint)
        metrics = [row for row in run.metrics if row.get("kind") in ("step", "epoch")]  # the curves a notebook draws
    finally:
        shutil.rmtree(work, ignore_errors=True)
    kept = cfg.replace(out_dir=base.out_dir, progress=base.progress)  # no trace of the scratch folder
    save_checkpoint(weights, {"model": trained["model"], "config": kept.to_dict(), "stage": trained["stage"]})

    slim = load_checkpoint(weights)  # weights_only=True
    model, _ = model_from_checkpoint(slim, "cpu", source=str(weights))
    batch_size = kept.eval_batch_size * 2  # as the quickstart scores it
    accuracy = pace_accuracy(model, kept, "test", device="cpu", batch_size=batch_size)
    test_videos = len(_test_split(kept))

    record = {
        "network": network,
        "file": shipped.weights_file,
        "sha256": file_sha256(weights),
        "size_bytes": weights.stat().st_size,
        "command": command if command is not None else ship_command(network),
        "preset": shipped.preset,
        "overrides": {k: _plain(v) for k, v in overrides.items()},
        "seed": kept.seed,
        "stage": slim["stage"],
        "checkpoint_entries": sorted(slim),
        "config": kept.to_dict(),
        "synthetic": {"format": FORMAT_NAME, "version": meta["version"], "params": meta["params"],
                      "size": list(SYNTHETIC_SIZE)},
        "pretext_accuracy": accuracy,
        "pretext_test_videos": test_videos,
        "pretext_batch_size": batch_size,
        "pretext_protocol": "pacekit.evaluation.recognition.pace_accuracy: one clip per test video at a seeded random pace, centre crop",
        "pretext_train_accuracy": run.final("acc"),
        "metrics": metrics,
        "parameters": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "build_seconds": round(time.perf_counter() - t0, 1),
    }
    _write_json(record_file, record)
    return ShippedBuild(weights, record_file, record, time.perf_counter() - t0)


def _test_split(cfg: Config):
    """The dataset :func:`pacekit.evaluation.recognition.pace_accuracy` scores: the test split, one clip per video."""
    return pretrain_dataset(cfg.replace(epoch_repeat=1, contrastive="none"), "test")


def machine_description() -> dict:
    """The platform, CPU model and core count of this machine, for a record."""
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu": cpu_name(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _write_json(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


__all__ = ["COMMAND", "DEFAULT_NETWORK", "DISPLAY_PATH", "NETWORKS", "PRESET", "RECORD_FILE", "SLIM_ENTRIES",
           "WEIGHTS_DIR", "WEIGHTS_FILE", "ShippedBuild", "ShippedNetwork", "build_shipped", "ensure_record_synthetic",
           "file_sha256", "load_shipped_pretrained", "machine_description", "measure_shipped", "pretext_test_config",
           "record_path", "ship_command", "shipped_available", "shipped_config", "shipped_network", "shipped_record",
           "shipped_train_result", "weights_path"]
