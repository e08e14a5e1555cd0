"""``pacekit quickstart``: the whole method in minutes on a laptop CPU, on the built-in synthetic dataset.

1. Generate the synthetic action videos (UCF101 layout) unless they are already there.
2. Pace-pretrain the backbone on the train split without labels (Sec. 3), or on a companion set with the
   actions' speeds pulled together (``pretrain_speed_spread``).
3. Train on a few labelled videos per class, from the pace-pretrained backbone and from random
   initialisation (same labelled subset, same schedule, same seeds), in two ways: fine-tuning the whole
   network (paper 4.1) and a linear probe (frozen backbone, a new fc fitted on its features).
4. Evaluate all four on the test split with the paper's 10-clip protocol (4.1), for each of
   ``finetune_seeds`` seeds.
5. Retrieve training videos with test videos (4.4) with the random and the pretrained backbone, and score
   where each backbone's attention falls against the synthetic set's mover masks (Fig. 5); random
   initialisation's share is the mean over the random networks of the seeds of step 4.
6. Write ``<out>/report.md``: a table of the pretext (pace) accuracy and the top-1 accuracies, the random
   baseline's predicted classes, retrieval top-k beside chance, the attention shares beside the masks'
   area, and two figures, ``pace_strip.png`` (one
   test video at every pace) and ``training_curves.png``; and ``<out>/result.json`` with every number of
   the report (:func:`pacekit.study.quickstart_result.result_json`).

Steps 2-5 are :func:`pacekit.study.experiment.run_experiment`.

With ``--preset cpu-tiny`` (the default) this is the ``tiny-fine`` backbone on 16-frame 56x56 clips; the
numbers of a run are in its report. ``--resume`` reuses finished stages (their ``last.pt``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Optional

from ..atomic import write_json_atomic, write_text_atomic
from ..config import Config, get_config
from ..data import build_dataset
from ..data.strips import read_pace_strips
from ..data.synthetic import (
    FORMAT_VERSION,
    MASKED_VERSIONS,
    check_companion_folder,
    check_speed_spread,
    check_synthetic_folder,
    ensure_companion,
    ensure_synthetic,
)
from ..owned import MARKER, Kind, check_folder, mark_folder
from ..pace import PaceSet
from ..training.loop import RUN_FOLDER
from .experiment import (
    SMALL_FEATURES,
    ExperimentPlan,
    default_run_name,
    run_experiment,
)
from .plots import plot_pace_error_by_class, plot_pace_strip, plot_training_curves
from .quickstart_report import format_report
from .quickstart_result import (
    ALL_LABELS,
    INIT_NAMES,
    PACE_ERROR_FIGURE,
    PROTOCOLS,
    FinetuneOutcome,
    QuickstartResult,
    natural_speeds_of,
    result_json,
    shown_split,
)

#: Frame size the synthetic videos are drawn at (the dataset resizes them to ``cfg.frame_size``).
SYNTHETIC_SIZE = (160, 120)  # (width, height)

#: The quickstart's folder: marked before its first run; the report, its JSON and figures, and run folders
#: recognise one written before the mark existed (its pretraining run, the first, among them).
QUICKSTART_FOLDER = Kind("pacekit-quickstart", "a quickstart's runs and report", files=(
    r"report\.md", r"result\.json", r"experiment\.json", r"[^/]+\.png",
    r"\.(report\.md|result\.json|experiment\.json|[^/]+\.png)\..+\.tmp",
    *(rf"[^/]+/(?:{pattern})" for pattern in RUN_FOLDER.files + (re.escape(MARKER),)),
), required=r"pretrain/metrics\.jsonl")


def check_quickstart_folders(out, data, pretrain_speed_spread: Optional[float] = None) -> None:
    """Refuse, before any work, an ``out``, a ``data`` folder or a companion folder beside ``data`` that holds
    files pacekit did not write (:func:`pacekit.owned.check_folder`). Reads only."""
    check_folder(out, QUICKSTART_FOLDER, "Choose another --out for the quickstart.")
    check_synthetic_folder(data)
    if pretrain_speed_spread is not None:
        check_companion_folder(data, pretrain_speed_spread)


def run_quickstart(cfg: Optional[Config] = None, out="runs/quickstart", data="data/synthetic",
                   finetune_seeds: int = 5, probe_lr: Optional[float] = None,
                   overwrite: bool = False, pretrain_speed_spread: Optional[float] = None,
                   synthetic_version: int = FORMAT_VERSION) -> QuickstartResult:
    """Run the five steps above with ``cfg`` (default: the ``cpu-tiny`` preset) and return the results.

    Args:
        cfg: the configuration; its dataset fields are replaced by the synthetic set in ``data``.
        out: the quickstart's folder: ``pretrain/``, one folder per labelled run (``fine-tuned_random_s0/``,
            ``linear_probe_pretrained_s2/``, ...), the report and its figures: a new or empty folder, or one a
            quickstart wrote (its ``pacekit.json`` marks it); a folder holding anything else is refused, as are a
            ``data`` folder and a companion folder pacekit did not write (:func:`check_quickstart_folders`).
        data: where the synthetic set is written (reused when complete).
        finetune_seeds: train each (initialisation, protocol) pair with this many seeds (``cfg.seed``, +1,
            ...) and report mean and spread: with a few labelled videos per class one run is noisy.
        probe_lr: learning rate of the linear probe (only the fc trains, so it can be larger);
            default ``cfg.probe_lr``, the value ``pacekit linear-probe`` uses too.
        overwrite: replace the runs an earlier quickstart left in ``out`` (without it, and without
            ``cfg.resume``, a run folder that holds another run is refused).
        pretrain_speed_spread: pretrain on a companion of the synthetic set instead of the set itself: the same
            videos, scenes and split with the actions' natural speeds pulled together so that the fastest is
            this many times the slowest (1: one speed; :func:`pacekit.data.synthetic.figure_classes`), written
            to :func:`pacekit.data.synthetic.companion_folder`. Fine-tuning, the probe, retrieval and attention
            stay on the set in ``data`` with its own speeds (as the paper pretrains on K-400 and fine-tunes on
            UCF101); the report gives the pace accuracy on both. Default: pretrain on the set itself.
        synthetic_version: the synthetic set's format version (:data:`pacekit.data.synthetic.FORMAT_VERSIONS`,
            one with mover masks: 3 or later); a set of another version in ``data`` is redrawn.
    """
    import matplotlib.pyplot as plt

    cfg = cfg if cfg is not None else get_config("cpu-tiny")
    probe_lr = probe_lr if probe_lr is not None else cfg.probe_lr
    if finetune_seeds < 1:
        raise ValueError(f"finetune_seeds must be >= 1, got {finetune_seeds}")
    if synthetic_version not in MASKED_VERSIONS:
        raise ValueError(f"synthetic_version={synthetic_version!r}: the quickstart scores attention in the mover "
                         f"masks, which versions {', '.join(map(str, MASKED_VERSIONS))} have")
    out = Path(out)
    check_quickstart_folders(out, data, pretrain_speed_spread)
    mark_folder(out, QUICKSTART_FOLDER)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    root = ensure_synthetic(data, num_classes=cfg.synthetic_classes, videos_per_class=cfg.synthetic_videos,
                            seed=cfg.seed, width=SYNTHETIC_SIZE[0], height=SYNTHETIC_SIZE[1], progress=cfg.progress,
                            version=synthetic_version)
    cfg = cfg.replace(dataset="synthetic", root=str(root), out_dir=str(out), pretrained=None, probe_lr=probe_lr)
    pretrain_cfg = None
    if pretrain_speed_spread is not None:
        pretrain_speed_spread = check_speed_spread(pretrain_speed_spread)
        companion = ensure_companion(root, pretrain_speed_spread, progress=cfg.progress)
        pretrain_cfg = cfg.replace(name="pretrain", root=str(companion))
    seconds["data"] = time.perf_counter() - t0

    seeds = [cfg.seed + k for k in range(finetune_seeds)]
    plan = ExperimentPlan(inits=tuple(INIT_NAMES), protocols=PROTOCOLS, seeds=seeds, retrieval=True,
                          features=SMALL_FEATURES, attention_score=True)
    experiment = run_experiment(cfg, plan, out, overwrite=overwrite, pretrain_cfg=pretrain_cfg)
    seconds.update({stage: sec for stage, sec in experiment.seconds.items() if stage not in ("total", "attention")})
    t = time.perf_counter()
    all_labels = run_experiment(cfg.replace(labels_per_class=None, pretrained=experiment.pretrained),
                                ExperimentPlan(inits=tuple(INIT_NAMES), protocols=("linear probe",), seeds=seeds,
                                               retrieval=False),
                                out, overwrite=overwrite, run_name=_all_labels_run_name)
    seconds["all labels"] = time.perf_counter() - t

    outcomes = {(init, protocol): FinetuneOutcome(f"{INIT_NAMES[init]}, {protocol}",
                                                  experiment.top1(init, protocol), experiment.top5(init, protocol),
                                                  experiment.train_accuracy(init, protocol))
                for init in INIT_NAMES for protocol in PROTOCOLS}
    for init in INIT_NAMES:
        outcomes[(init, ALL_LABELS)] = FinetuneOutcome(
            f"{INIT_NAMES[init]}, {ALL_LABELS}", all_labels.top1(init, "linear probe"),
            all_labels.top5(init, "linear probe"), all_labels.train_accuracy(init, "linear probe"))
    curves = {"pretrain": experiment.pretrain_run.metrics}
    for init in INIT_NAMES:
        curves[f"fine-tune, {INIT_NAMES[init]}"] = experiment.outcome(init, "fine-tuned").run.metrics

    t = time.perf_counter()
    fig = plot_pace_strip(_pace_strip_frames(cfg), max_frames=cfg.clip_len,
                          title="one test video at each pace of the pace set (Sec. 3.1)")
    fig.savefig(out / "pace_strip.png", dpi=100)
    plt.close(fig)
    fig = plot_training_curves(curves, title="quickstart: pace pretraining and fine-tuning")
    fig.savefig(out / "training_curves.png", dpi=100)
    plt.close(fig)
    by_class = shown_split(experiment)
    fig = plot_pace_error_by_class(by_class, natural_speeds_of(cfg, by_class.classes))
    fig.savefig(out / PACE_ERROR_FIGURE, dpi=100)
    plt.close(fig)
    seconds["figures"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0

    result = QuickstartResult(out, out / "report.md", experiment.pretext_accuracy, experiment.pretext_train_accuracy,
                              outcomes, seconds, cfg, probe_lr, experiment, pretrain_speed_spread)
    write_text_atomic(result.report, format_report(result))
    write_json_atomic(result.json, result_json(result), indent=1)
    return result


def _all_labels_run_name(init: str, protocol: str, seed_index: int, num_seeds: int) -> str:
    """``all_labels_linear_probe_random_s0``, ...: the folders of the all-labels probe."""
    return "all_labels_" + default_run_name(init, protocol, seed_index, num_seeds)


def _pace_strip_frames(cfg: Config) -> dict:
    """The first test video's frames at every pace of the set, from frame 0 (``(T, H, W, C)`` each)."""
    record = build_dataset(cfg.dataset, cfg.root, "test", mode="eval").records[0]
    paces = list(PaceSet.from_spec(cfg.pace_set))
    strips = read_pace_strips(record.path, paces, cfg.clip_len, start=0, size=cfg.frame_size)  # (P, T, H, W, C)
    return dict(zip(paces, strips.numpy()))


__all__ = ["SYNTHETIC_SIZE", "run_quickstart"]
