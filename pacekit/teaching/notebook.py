"""What every notebook's setup cell does: fast mode, GPU, preset, seed, paths, and "load it or train it".

The notebooks in ``notebooks/`` open the same way::

    import sys
    if "google.colab" in sys.modules:  # Colab: install pacekit first (pacekit.teaching.colab)
        ...
    from pacekit.teaching.notebook import setup
    nb = setup()

:func:`setup` seeds Python, NumPy and torch, looks for a GPU, reads ``PACEKIT_FAST`` and picks a
preset (:data:`pacekit.config.PRESETS`):

- ``PACEKIT_FAST=1`` (the test command sets it): the ``cpu-tiny`` preset shrunk further
  (:data:`FAST_OVERRIDES`) on a small synthetic set in ``data/synthetic-small``; a whole notebook runs in
  at most two minutes on two CPU cores. The numbers it shows are real but come from a few seconds of
  training: they demonstrate the pipeline, not the method.
- otherwise, with a GPU: ``gpu-demo`` (the paper's R(2+1)D and 16x112x112 clips); without one:
  ``cpu-tiny``. Both read the synthetic set in ``data/synthetic`` with the preset's size -- the folder
  and size ``pacekit quickstart`` uses, so the two share it.

On Colab, :func:`setup` then installs the dependencies Colab lacks, keeping its torch
(:func:`pacekit.teaching.colab.prepare_colab`), and enables Colab's widget manager for the pace game. Runs can live on a mounted
Google Drive (``setup(runs_dir=...)`` or ``PACEKIT_RUNS``), so notebooks 04-06 reuse 03's run on a new VM.

On a CPU outside fast mode the notebooks skip pace pretraining (minutes to half an hour there):
:func:`load_or_train` and :func:`pretrain_and_finetune` hand out a network shipped with pacekit
(:mod:`pacekit.teaching.shipped`: the quickstart's, its two contrastive variants, the pace game's, R(2+1)D at a
quarter of its width) for every
pretraining run one of them can stand in for (same network, input and pretext task), and print that they did.
``PACEKIT_PRETRAINED=0`` (or ``setup(shipped=False)``) trains them instead; ``PACEKIT_PRETRAINED=1`` loads them on a
GPU too. Fast mode trains unless ``PACEKIT_PRETRAINED=1`` (its runs take seconds).

Paths are relative to the repository root as seen from the notebook: ``..`` when the notebook runs in
``notebooks/`` (Jupyter, nbval), ``.`` elsewhere (Colab's ``/content``). Nothing here prints an
absolute path unless runs are moved (``PACEKIT_RUNS``), so committed outputs stay machine-independent.

How pacekit gets onto Colab (the project's declared home, or a wheel the student uploads) is
:mod:`pacekit.teaching.colab`.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from ..config import config_default, get_config, run_differences
from ..console import show_messages_from_now, show_user_errors_as_one_line
from ..data.synthetic import ensure_synthetic
from ..errors import PacekitError
from ..recipes.train import TrainResult, finetune, pretrain
from ..study.experiment import ExperimentPlan, ExperimentResult, run_experiment
from ..study.plots import plot_training_curves
from ..training.checkpoint import latest_checkpoint, load_checkpoint
from ..training.loading import model_from_checkpoint, resolve_device
from .colab import in_colab, prepare_colab
from .shipped import NETWORKS as SHIPPED_NETWORKS
from .shipped import shipped_available, shipped_record, shipped_train_result

#: The environment variable of fast mode (``PACEKIT_FAST=1``).
FAST_ENV = "PACEKIT_FAST"

#: The small synthetic set of fast mode: 5 motion classes x 8 videos of 2-3 s (20 train, 20 test videos).
SMALL_SYNTHETIC = dict(num_classes=5, videos_per_class=8, duration=(2.0, 3.0))
#: Native frame size (width, height) the synthetic videos are drawn at, as in ``pacekit quickstart``.
SYNTHETIC_SIZE = (160, 120)
#: Fast mode on top of the ``cpu-tiny`` preset: a few seconds per training run on two cores.
FAST_OVERRIDES = dict(
    epochs=2, epoch_repeat=4, lr_step=2, ft_epochs=3, ft_epoch_repeat=4, ft_lr_step=3, labels_per_class=2,
    num_workers=1, log_every=2, eval_batch_size=10,
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")

#: The environment variable that says whether the notebooks load the shipped pretrained networks instead of
#: pretraining (:mod:`pacekit.teaching.shipped`): ``1`` loads them, ``0`` trains; unset, :func:`shipped_mode`'s
#: default (loaded on a CPU outside fast mode).
PRETRAINED_ENV = "PACEKIT_PRETRAINED"
#: What a pretraining run must share with the shipped one for the shipped network to stand in for it: the
#: network, the clips it is fed and the pretext task. The schedule, the synthetic set's size and the seed may
#: differ (fast mode trains for seconds on a smaller set; the shipped network is the full quickstart run).
SHIPPED_MATCH_FIELDS = ("backbone", "width", "projection", "frame_size", "clip_len", "crop", "input_mode", "jitter",
                        "pace_set", "start_policy", "wrap", "slow_fill", "contrastive")
#: What a run with a contrastive term (Eq. 4) must share with a shipped one besides: the loss's weights and
#: similarity, and the projection's size (notebook 04's exercises change them).
SHIPPED_CONTRASTIVE_FIELDS = ("lambda_cls", "lambda_ctr", "temperature", "normalize", "proj_dim")


#: The environment variable that moves the notebooks' runs, e.g. to a mounted Google Drive folder
#: (``PACEKIT_RUNS=/content/drive/MyDrive/pacekit-runs``), so that a later Colab VM reuses them.
RUNS_ENV = "PACEKIT_RUNS"
#: Where Colab mounts Google Drive (``from google.colab import drive; drive.mount("/content/drive")``).
COLAB_DRIVE = Path("/content/drive")


def pick_runs_dir(root: Path, fast: bool, runs_dir=None, environ: Optional[Mapping[str, str]] = None) -> Path:
    """The folder the notebooks' runs go to: ``<base>/notebooks`` (fast mode: ``notebooks-fast``), where
    ``base`` is ``runs_dir`` if given, else ``$PACEKIT_RUNS`` if set, else ``<root>/runs``.

    Raises:
        PacekitError: the folder is on Colab's Drive mount but Drive is not mounted (writing there would
            fill the VM's disk and lose the runs with it).
    """
    environ = os.environ if environ is None else environ
    chosen = runs_dir if runs_dir not in (None, "") else environ.get(RUNS_ENV) or None
    base = Path(chosen).expanduser() if chosen is not None else root / "runs"
    if chosen is not None and base.is_absolute() and COLAB_DRIVE in base.parents \
            and not (COLAB_DRIVE / "MyDrive").is_dir():
        raise PacekitError(f"the runs folder {base} is on Google Drive, which is not mounted; run "
                           f'`from google.colab import drive; drive.mount("{COLAB_DRIVE}")` first')
    return base / ("notebooks-fast" if fast else "notebooks")


# ------------------------------------------------------------------------------------ environment


def fast_mode(environ: Optional[dict] = None) -> bool:
    """True when ``PACEKIT_FAST`` is ``1``/``true``/``yes``/``on`` (any case)."""
    environ = os.environ if environ is None else environ
    return str(environ.get(FAST_ENV, "")).strip().lower() in _TRUE


def shipped_mode(environ: Optional[Mapping[str, str]] = None, fast: Optional[bool] = None,
                 gpu: Optional[bool] = None) -> bool:
    """Whether the shipped pretrained networks stand in for pretraining: ``PACEKIT_PRETRAINED`` set to
    ``1``/``true``/``yes``/``on`` (any case) says yes, ``0``/``false``/``no``/``off`` no; unset or empty, yes on
    a CPU outside fast mode, where pretraining takes minutes (``fast`` default: :func:`fast_mode`; ``gpu``: whether
    torch sees CUDA). Any other value is refused, naming the ones it takes."""
    environ = os.environ if environ is None else environ
    value = str(environ.get(PRETRAINED_ENV, "")).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value:
        raise PacekitError(f"{PRETRAINED_ENV}={environ[PRETRAINED_ENV]!r}: set it to 1 to load the shipped "
                           "pretrained networks, 0 to pretrain them, or leave it unset (loaded on a CPU)")
    fast = fast_mode(environ) if fast is None else fast
    if gpu is None:
        import torch

        gpu = torch.cuda.is_available()
    return not fast and not gpu


def project_root(cwd: Optional[Path] = None) -> Path:
    """The repository root as a *relative* path: ``..`` from ``notebooks/``, else ``.``."""
    cwd = Path.cwd() if cwd is None else Path(cwd)
    if cwd.name == "notebooks" and ((cwd.parent / "pacekit").is_dir() or (cwd.parent / "pyproject.toml").is_file()):
        return Path("..")
    return Path(".")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (pacekit's own draws take explicit seeds)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_preset(fast: bool, cuda: bool) -> str:
    """``cpu-tiny`` in fast mode or without a GPU, ``gpu-demo`` with one."""
    return "gpu-demo" if cuda and not fast else "cpu-tiny"


# ------------------------------------------------------------------------------------ the setup


@dataclass
class NotebookSetup:
    """What a notebook knows after its setup cell. Paths are relative (see the module docstring).

    Attributes:
        fast: fast mode (``PACEKIT_FAST=1``).
        device: ``"cuda"`` or ``"cpu"``; ``gpu``: the GPU's name, or None.
        preset: the :mod:`pacekit.config` preset the notebook's runs start from.
        seed: the seed everything was seeded with.
        root: the repository root; ``data_dir`` the synthetic set; ``runs_dir`` where runs are written.
        colab: running on Google Colab.
        shipped: pretraining runs are replaced by the shipped networks (:func:`shipped_mode`).
    """

    fast: bool
    device: str
    gpu: Optional[str]
    preset: str
    seed: int
    root: Path
    data_dir: Path
    runs_dir: Path
    colab: bool = False
    shipped: bool = False

    @property
    def mode(self) -> str:
        return "fast" if self.fast else "full"

    def synthetic_size(self) -> dict:
        """``ensure_synthetic`` arguments of this mode's synthetic set."""
        if self.fast:
            params = dict(SMALL_SYNTHETIC)
        else:
            preset = get_config(self.preset)
            params = dict(num_classes=preset.synthetic_classes, videos_per_class=preset.synthetic_videos)
        return {**params, "seed": self.seed, "width": SYNTHETIC_SIZE[0], "height": SYNTHETIC_SIZE[1]}

    def ensure_data(self, progress: bool = False) -> Path:
        """Write this mode's synthetic set into ``data_dir`` unless it is already complete; return the folder."""
        return ensure_synthetic(self.data_dir, progress=progress, **self.synthetic_size())

    def config(self, name: str, preset: Optional[str] = None, **overrides: Any):
        """The notebook's :class:`pacekit.config.Config` for run ``<runs_dir>/<name>``.

        The preset (default: :attr:`preset`) on this mode's synthetic set; fast mode adds
        :data:`FAST_OVERRIDES`; ``overrides`` come last (e.g. ``pace_set="absolute"``).
        """
        preset = preset or self.preset
        size = self.synthetic_size()
        values: dict[str, Any] = dict(
            name=name, out_dir=str(self.runs_dir), seed=self.seed, dataset="synthetic", root=str(self.data_dir),
            synthetic_classes=size["num_classes"], synthetic_videos=size["videos_per_class"], progress=False,
        )
        if self.fast:
            values.update(FAST_OVERRIDES)
        values.update(overrides)
        return get_config(preset, **values)

    def summary(self) -> str:
        hardware = f"GPU {self.gpu}" if self.gpu else "CPU"
        where = "Colab" if self.colab else "local"
        note = " (PACEKIT_FAST=1: tiny runs, numbers are illustrative)" if self.fast else ""
        shipped = (f"; shipped weights stand in for pretraining where they fit ({PRETRAINED_ENV}=0 trains)"
                   if self.shipped else "")
        return (f"pacekit notebook setup: {self.mode} mode{note}; {hardware} ({where}); preset {self.preset!r}; "
                f"seed {self.seed}; data {self.data_dir.as_posix()}; runs {self.runs_dir.as_posix()}{shipped}")


def setup(seed: int = config_default("seed"), fast: Optional[bool] = None, preset: Optional[str] = None,
          quiet: bool = False, cwd: Optional[Path] = None, runs_dir=None,
          shipped: Optional[bool] = None) -> NotebookSetup:
    """Seed, detect the GPU, read fast mode, pick the preset and the paths; print one summary line.

    On Colab it first installs pacekit's missing dependencies beside Colab's torch and enables Colab's
    widget manager (:func:`pacekit.teaching.colab.prepare_colab`).

    Args:
        seed: seeds Python, NumPy and torch now and every run's config later.
        fast: force fast mode on or off (default: from ``PACEKIT_FAST``).
        preset: force a preset (default: :func:`pick_preset`).
        quiet: do not print the summary.
        cwd: the working directory to resolve paths from (default: the current one).
        runs_dir: where runs go, e.g. a mounted Drive folder (default: ``$PACEKIT_RUNS``, else ``runs/``
            under the repository); see :func:`pick_runs_dir`.
        shipped: load the shipped pretrained networks instead of pretraining (default: :func:`shipped_mode`,
            yes on a CPU outside fast mode). Given, it sets ``PACEKIT_PRETRAINED`` for this kernel, which
            :func:`load_or_train` reads. The shipped networks are CPU recipes, so the preset is ``cpu-tiny``
            unless ``preset`` says otherwise.
    """
    import torch

    show_user_errors_as_one_line()  # from here on a PacekitError (a bad PACEKIT_PRETRAINED, ...) is its message alone
    colab = in_colab()
    if colab:
        prepare_colab()
    fast = fast_mode() if fast is None else bool(fast)
    if shipped is not None:
        os.environ[PRETRAINED_ENV] = "1" if shipped else "0"
    cuda = torch.cuda.is_available()
    shipped = shipped_mode(fast=fast, gpu=cuda)
    root = project_root(cwd)
    nb = NotebookSetup(
        fast=fast, device="cuda" if cuda else "cpu", gpu=torch.cuda.get_device_name(0) if cuda else None,
        preset=preset or ("cpu-tiny" if shipped else pick_preset(fast, cuda)), seed=int(seed), root=root,
        data_dir=root / "data" / ("synthetic-small" if fast else "synthetic"),
        runs_dir=pick_runs_dir(root, fast, runs_dir), colab=colab, shipped=shipped,
    )
    seed_everything(nb.seed)
    show_messages_from_now()  # the library's messages (a run's folder, a transfer) as lines of the cell's output
    if not quiet:
        print(nb.summary())
    return nb


# ------------------------------------------------------------------------------------ load or train


def reusable_checkpoint(cfg, stage: str) -> Optional[Path]:
    """``<cfg.run_dir>/last.pt`` when it is a finished ``stage`` run of the same settings (for fine-tuning:
    and newer than its ``pretrained`` checkpoint), else None; says why when it is not."""
    path = Path(cfg.run_dir) / "last.pt"
    if not path.is_file():
        return None
    try:
        state = load_checkpoint(path)
    except Exception as exc:  # a broken file is retrained, never fatal in a lesson
        print(f"{path.as_posix()} cannot be read ({exc}); training again")
        return None
    if not isinstance(state.get("config") or {}, dict):
        print(f"{path.as_posix()} records no readable config; training again")
        return None
    different = run_differences(state.get("config") or {}, cfg, stage)
    if state.get("stage") != stage or different:
        why = f"stage {state.get('stage')!r}" if state.get("stage") != stage else f"different {', '.join(different)}"
        print(f"{path.as_posix()} was trained with {why}; training again")
        return None
    source = Path(cfg.pretrained) if stage == "finetune" and cfg.pretrained else None
    if source is not None and source.is_file() and source.stat().st_mtime > path.stat().st_mtime:
        print(f"{path.as_posix()} is older than its pretrained backbone {source.as_posix()}; training again")
        return None
    return path


def resumable_checkpoint(cfg, stage: str) -> Optional[Path]:
    """The newest epoch checkpoint of ``cfg.run_dir`` when the folder holds an unfinished ``stage`` run of the
    same settings (no ``last.pt``; the epochs asked for may be more), else None."""
    run_dir = Path(cfg.run_dir)
    if (run_dir / "last.pt").exists():
        return None
    path = latest_checkpoint(run_dir)
    if path is None:
        return None
    try:
        state = load_checkpoint(path)
    except Exception:  # a damaged checkpoint is retrained, never fatal in a lesson
        return None
    epochs_field = "epochs" if stage == "pretrain" else "ft_epochs"
    if not isinstance(state.get("config") or {}, dict):
        return None
    different = [k for k in run_differences(state.get("config") or {}, cfg, stage) if k != epochs_field]
    if state.get("stage") != stage or different or int(state.get("epoch", 0)) > getattr(cfg, epochs_field):
        return None
    return path


def load_or_train(cfg, stage: str = "pretrain", on_epoch_end: Optional[Callable[[dict], None]] = None,
                  retrain: bool = False, shipped: Optional[bool] = None, train_hint: Optional[str] = None):
    """Load ``<cfg.run_dir>/last.pt`` if a finished run of the same settings left it, else train.

    A rerun of a notebook then takes seconds. Delete the run folder to train again. Where the shipped weights
    stand in for pretraining (:func:`shipped_mode`), a pretraining run one of them fits is not trained but loaded
    from the package (:func:`shipped_pretraining`), and the notebook says so.

    Args:
        cfg: the run's :class:`pacekit.config.Config`.
        stage: ``"pretrain"`` (:func:`pacekit.recipes.train.pretrain`) or ``"finetune"`` (:func:`pacekit.recipes.train.finetune`).
        on_epoch_end: passed to the trainer (e.g. a :class:`LiveCurves`); not called when loading.
        retrain: train even if a matching checkpoint exists (e.g. its ``pretrained`` file was just rewritten).
        shipped: use the shipped pretrained network for a pretraining run (default: :func:`shipped_mode`).
        train_hint: how the reader trains the network instead, said when a shipped one is loaded (default: set
            ``PACEKIT_PRETRAINED=0``).

    Returns:
        A :class:`pacekit.recipes.train.TrainResult` (its ``metrics`` are the stored ones when loaded).
    """
    if stage not in ("pretrain", "finetune"):
        raise ValueError(f"stage must be 'pretrain' or 'finetune', got {stage!r}")
    if stage == "pretrain" and (shipped_mode() if shipped is None else shipped):
        stand_in = shipped_pretraining(cfg, train_hint)
        if stand_in is not None:
            return stand_in
    path = None if retrain else reusable_checkpoint(cfg, stage)
    if path is None:
        train = pretrain if stage == "pretrain" else finetune
        unfinished = None if retrain else resumable_checkpoint(cfg, stage)
        if unfinished is not None:  # e.g. a Colab VM that disconnected mid-run, its runs on Drive
            print(f"resuming {unfinished.as_posix()} ({stage} of the same settings, stopped before its last epoch)")
            return train(cfg.replace(resume=True), on_epoch_end=on_epoch_end)
        # No checkpoint of these settings to reuse: whatever the run folder holds is an older run of the
        # same name with other settings, which the notebook replaces on purpose.
        return train(cfg, on_epoch_end=on_epoch_end, overwrite=True)
    state = load_checkpoint(path)
    model, _ = model_from_checkpoint(state, device=_device_of(cfg))
    print(f"loaded {path.as_posix()} ({stage}, {state.get('epoch')} epochs; delete {Path(cfg.run_dir).as_posix()} "
          "to train again)")
    return TrainResult(model, cfg, Path(cfg.run_dir), path, list(state.get("metrics") or []))


def _device_of(cfg):
    return resolve_device(cfg.device)


def shipped_mismatch(cfg, record: Optional[dict] = None) -> list[str]:
    """The :data:`SHIPPED_MATCH_FIELDS` (and, for a run with a contrastive term, the
    :data:`SHIPPED_CONTRASTIVE_FIELDS`) in which ``cfg`` differs from a shipped network's config (default: the
    quickstart's)."""
    shipped = (record if record is not None else shipped_record())["config"]
    wanted = cfg.to_dict()
    fields = SHIPPED_MATCH_FIELDS + (SHIPPED_CONTRASTIVE_FIELDS if wanted["contrastive"] != "none" else ())
    return [k for k in fields if shipped.get(k) != wanted[k]]


def shipped_message(record: dict, network: str = "quickstart", train_hint: Optional[str] = None) -> str:
    """What a notebook shows when a shipped network replaces its pretraining run; ``train_hint`` says how to train
    it instead (default: set ``PACEKIT_PRETRAINED=0``)."""
    cfg = record["config"]
    return (f"loaded the shipped pace-pretrained network {SHIPPED_NETWORKS[network].display_path} instead of "
            f"pretraining ({record['preset']} preset, {cfg['backbone']} backbone, {cfg['epochs']} epochs, seed "
            f"{record['seed']}; pace accuracy {100 * record['pretext_accuracy']:.1f}% on its synthetic test split); "
            + (f"set {PRETRAINED_ENV}=0 before starting Jupyter (or `setup(shipped=False)`) to train it yourself"
               if train_hint is None else train_hint))


def shipped_pretraining(cfg, train_hint: Optional[str] = None) -> Optional[TrainResult]:
    """The shipped network that stands in for the finished pretraining run ``cfg`` asks for, or None (saying
    why) when none can: none installed, or each another network, input or pretext task
    (:data:`SHIPPED_MATCH_FIELDS`).

    The result's ``model`` and ``metrics`` (its training curves) are the shipped run's; its ``config`` is the
    shipped config reading this notebook's data (``root``, ``dataset``) on this notebook's device, and its
    ``checkpoint`` the shipped file, which fine-tuning loads its backbone from. ``train_hint``: see
    :func:`shipped_message`.
    """
    installed = [name for name in SHIPPED_NETWORKS if shipped_available(network=name)]
    if not installed:
        print(f"this pacekit has no shipped weights (pacekit/weights); training {cfg.name} instead")
        return None
    records = {name: shipped_record(network=name) for name in installed}
    mismatches = {name: shipped_mismatch(cfg, record) for name, record in records.items()}
    fitting = [name for name in installed if not mismatches[name]]
    if not fitting:
        closest = min(installed, key=lambda name: len(mismatches[name]))
        print(f"no shipped network fits run {cfg.name!r} (the closest, "
              f"{SHIPPED_NETWORKS[closest].weights_file}, was pretrained with other "
              f"{', '.join(mismatches[closest])}); training it instead")
        return None
    network = fitting[0]
    record = records[network]
    result = shipped_train_result(device=_device_of(cfg), network=network)
    # Fine-tuning logs the checkpoint it starts from: relative to the notebook when the package is in the
    # repository, so that outputs hold no machine path.
    relative = Path(os.path.relpath(result.checkpoint))
    if not relative.as_posix().startswith("../.."):
        result.checkpoint = relative
    result.config = result.config.replace(dataset=cfg.dataset, root=cfg.root, out_dir=cfg.out_dir, name=cfg.name,
                                          device=cfg.device, num_workers=cfg.num_workers, progress=cfg.progress)
    print(shipped_message(record, network, train_hint))
    return result


@dataclass
class TransferRun:
    """One initialisation carried to the downstream task: ``pretrain`` (None for random init), the
    ``finetune`` run, the pretext accuracy on held-out videos (None for random init), the 10-clip test
    ``evaluation`` (:class:`pacekit.evaluation.recognition.EvalResult`) and the whole typed ``experiment``
    (:class:`pacekit.study.experiment.ExperimentResult`: top-1/top-5, predicted-class counts, coverage)."""

    label: str
    pretrain: Any
    finetune: Any
    pretext_accuracy: Optional[float]
    evaluation: Any
    experiment: Optional[ExperimentResult] = None


def pretrain_and_finetune(nb: NotebookSetup, label: str, pretrain_name: Optional[str] = "pretrain",
                          pretrain_overrides: Optional[dict] = None, finetune_overrides: Optional[dict] = None,
                          on_epoch_end: Optional[Callable[[dict], None]] = None) -> TransferRun:
    """Pace-pretrain (run ``pretrain_name``; None = random init), fine-tune on the action labels (run
    ``finetune-from-<pretrain_name>`` or ``finetune-random``) and evaluate on the test split with 10 clips
    per video (paper 4.1). Each stage is loaded when an earlier run with the same settings left it.

    One cell of :func:`pacekit.study.experiment.run_experiment`, with :func:`load_or_train` as its trainer.
    """
    name = f"finetune-from-{pretrain_name}" if pretrain_name is not None else "finetune-random"
    ft_cfg = nb.config(name, **(finetune_overrides or {}))
    pre_cfg = nb.config(pretrain_name, **(pretrain_overrides or {})) if pretrain_name is not None else None
    plan = ExperimentPlan(inits=("pretrained" if pretrain_name is not None else "random",), protocols=("fine-tuned",),
                          retrieval=False)
    experiment = run_experiment(
        ft_cfg, plan, ft_cfg.out_dir, pretrain_cfg=pre_cfg, run_name=lambda *_: name,
        reuse=lambda cfg, stage, callback: load_or_train(cfg, stage, on_epoch_end=callback, shipped=nb.shipped),
        on_epoch_end=on_epoch_end)
    outcome = experiment.outcomes[0]
    return TransferRun(label, experiment.pretrain_run, outcome.run, experiment.pretext_accuracy, outcome.evaluation,
                       experiment)


def reproduction_table(rows) -> str:
    """A notebook's "Does it reproduce here?" table in Markdown from ``(claim, the paper, this notebook,
    verdict)`` rows, every cell computed by the notebook (:func:`one_run_verdict`) or quoted from the claims
    table (:func:`pacekit.study.claims.table.paper_numbers`)."""
    lines = ["| claim | the paper | this notebook | verdict |", "|---|---|---|---|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows])


def one_run_verdict(better: float, worse: float, digits: int = 1) -> str:
    """The verdict of one run, which has no interval: whether ``better`` beat ``worse`` as the paper says,
    compared at the precision shown (``digits`` decimals of a percentage)."""
    a, b = round(100 * better, digits), round(100 * worse, digits)
    word = "higher, as in the paper" if a > b else "lower, against the paper" if a < b else "a tie"
    return (f"{word}: one run, no interval, so a gap of a few points may be noise (`pacekit claims` repeats it "
            "over seeds: docs/claims_v6.md)")


def format_runs(runs) -> str:
    """A Table 2-style text table of :class:`TransferRun` s: pretext (pace) accuracy on held-out videos and
    the action top-1 (and top-5, when there are more than 5 classes) of the 10-clip evaluation, in %."""
    runs = list(runs)
    top5 = any(r.evaluation.probs.shape[1] > 5 for r in runs)
    width = max(len("initialisation"), *(len(r.label) for r in runs))
    lines = [f"{'initialisation':<{width}}  pace acc. (test)  action top-1" + ("  top-5" if top5 else ""),
             f"{'-' * width}  ----------------  ------------" + ("  -----" if top5 else "")]
    for r in runs:
        pretext = "-" if r.pretext_accuracy is None else f"{100 * r.pretext_accuracy:.1f}"
        line = f"{r.label:<{width}}  {pretext:>16}  {100 * r.evaluation.top1:>12.1f}"
        lines.append(line + (f"  {100 * r.evaluation.top5:>5.1f}" if top5 else ""))
    return "\n".join(lines)


class LiveCurves:
    """An ``on_epoch_end`` callback that redraws a run's loss and accuracy curves in place (d2l style).

    The figure is :func:`pacekit.study.plots.plot_training_curves` of ``<run_dir>/metrics.jsonl``, shown once
    and then updated through an IPython display handle, so the cell keeps one live figure.
    """

    def __init__(self, run_dir, title: Optional[str] = None):
        self.run_dir = Path(run_dir)
        self.title = title
        self.handle = None
        self.updates = 0

    def __call__(self, row: dict) -> None:
        import matplotlib.pyplot as plt

        fig = plot_training_curves(self.run_dir, title=self.title)
        try:
            from IPython.display import display

            if self.handle is None:
                self.handle = display(fig, display_id=True)
            else:
                self.handle.update(fig)
        except ImportError:  # outside IPython there is nothing to show
            pass
        finally:
            plt.close(fig)
        self.updates += 1


__all__ = [
    "FAST_ENV", "FAST_OVERRIDES", "PRETRAINED_ENV", 
    "RUNS_ENV", "SHIPPED_CONTRASTIVE_FIELDS", "SHIPPED_MATCH_FIELDS",
    "shipped_message", "shipped_mismatch", "shipped_mode", "shipped_pretraining",
    "SMALL_SYNTHETIC", "LiveCurves", "NotebookSetup", 
    "pick_runs_dir", 
    "TransferRun", "fast_mode", "format_runs", 
    "load_or_train", "pick_preset", "pretrain_and_finetune", "project_root",
    "reusable_checkpoint", "seed_everything", "setup",
]
