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
   where each backbone's attention falls against the synthetic set's mover masks (Fig. 5).
6. Write ``<out>/report.md``: a table of the pretext (pace) accuracy and the top-1 accuracies, the random
   baseline's predicted classes, retrieval top-k beside chance, the attention shares beside the masks'
   area, and two figures, ``pace_strip.png`` (one
   test video at every pace) and ``training_curves.png``; and ``<out>/result.json`` with every number of
   the report (:func:`result_json`).

Steps 2-5 are :func:`pacekit.study.experiment.run_experiment`.

With ``--preset cpu-tiny`` (the default) this is the ``tiny`` backbone on 8-frame 56x56 clips; the
numbers of a run are in its report. ``--resume`` reuses finished stages (their ``last.pt``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..atomic import write_text_atomic
from ..config import Config, get_config
from ..data import build_dataset
from ..data.strips import read_pace_strips
from ..data.synthetic import (
    NATIVE_SPEED_SPREAD,
    check_speed_spread,
    companion_folder,
    ensure_companion,
    ensure_synthetic,
    natural_speeds,
    synthetic_version,
)
from ..evaluation.attention import ATTENTION_VIDEOS
from ..pace import PaceSet
from .experiment import (
    PRETEXT_CLIPS_PER_VIDEO,
    SMALL_FEATURES,
    ExperimentResult,
    default_run_name,
    run_experiment,
)
from .plots import plot_pace_error_by_class, plot_pace_strip, plot_training_curves

#: Frame size the synthetic videos are drawn at (the dataset resizes them to ``cfg.frame_size``).
SYNTHETIC_SIZE = (160, 120)  # (width, height)


@dataclass
class FinetuneOutcome:
    """Test-split results of one initialisation over the fine-tuning seeds."""

    name: str
    top1: list[float] = field(default_factory=list)
    top5: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)

    @property
    def mean_top1(self) -> float:
        return float(np.mean(self.top1))

    @property
    def std_top1(self) -> float:
        return float(np.std(self.top1))


#: Initialisations and protocols compared on the labelled subset.
INIT_NAMES = {"random": "random init", "pretrained": "pace-pretrained"}
PROTOCOLS = ("fine-tuned", "linear probe")
#: The linear probe again with every training video's label (how much of the action the frozen features hold).
ALL_LABELS = "linear probe, all labels"
REPORTED = PROTOCOLS + (ALL_LABELS,)


@dataclass
class QuickstartResult:
    """Everything the report shows: accuracies are fractions in [0, 1], ``seconds`` per stage.

    ``outcomes[(init, protocol)]`` with init in ``INIT_NAMES`` and protocol in ``PROTOCOLS``.
    """

    out: Path
    report: Path
    pretext_accuracy: float
    pretext_train_accuracy: float
    outcomes: dict
    seconds: dict[str, float]
    config: Config
    probe_lr: float = 0.01
    experiment: Optional[ExperimentResult] = None
    pretrain_speed_spread: Optional[float] = None

    @property
    def companion(self) -> bool:
        """Whether the pretraining read a companion set (``pretrain_speed_spread``) rather than the labelled set."""
        return self.pretrain_speed_spread is not None

    @property
    def pretrain_root(self) -> str:
        """The folder of the set the pretraining read: the companion's, or the labelled set's."""
        if not self.companion:
            return self.config.root
        return str(companion_folder(self.config.root, self.pretrain_speed_spread))

    @property
    def json(self) -> Path:
        """``result.json`` beside the report: every figure of the report, for a program to check."""
        return self.report.with_name("result.json")

    def gain(self, protocol: str = "fine-tuned") -> float:
        """Top-1 points gained by pace pretraining over random init (mean over seeds) under ``protocol``."""
        return self.outcomes[("pretrained", protocol)].mean_top1 - self.outcomes[("random", protocol)].mean_top1


def run_quickstart(cfg: Optional[Config] = None, out="runs/quickstart", data="data/synthetic",
                   finetune_seeds: int = 5, probe_lr: Optional[float] = None,
                   overwrite: bool = False, pretrain_speed_spread: Optional[float] = None) -> QuickstartResult:
    """Run the five steps above with ``cfg`` (default: the ``cpu-tiny`` preset) and return the results.

    Args:
        cfg: the configuration; its dataset fields are replaced by the synthetic set in ``data``.
        out: the quickstart's folder: ``pretrain/``, one folder per labelled run (``fine-tuned_random_s0/``,
            ``linear_probe_pretrained_s2/``, ...), the report and its figures.
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
    """
    import matplotlib.pyplot as plt

    cfg = cfg if cfg is not None else get_config("cpu-tiny")
    probe_lr = probe_lr if probe_lr is not None else cfg.probe_lr
    if finetune_seeds < 1:
        raise ValueError(f"finetune_seeds must be >= 1, got {finetune_seeds}")
    out = Path(out)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()

    root = ensure_synthetic(data, num_classes=cfg.synthetic_classes, videos_per_class=cfg.synthetic_videos,
                            seed=cfg.seed, width=SYNTHETIC_SIZE[0], height=SYNTHETIC_SIZE[1], progress=cfg.progress)
    cfg = cfg.replace(dataset="synthetic", root=str(root), out_dir=str(out), pretrained=None, probe_lr=probe_lr)
    pretrain_cfg = None
    if pretrain_speed_spread is not None:
        pretrain_speed_spread = check_speed_spread(pretrain_speed_spread)
        companion = ensure_companion(root, pretrain_speed_spread, progress=cfg.progress)
        pretrain_cfg = cfg.replace(name="pretrain", root=str(companion))
    seconds["data"] = time.perf_counter() - t0

    seeds = [cfg.seed + k for k in range(finetune_seeds)]
    experiment = run_experiment(cfg, out, inits=tuple(INIT_NAMES), protocols=PROTOCOLS, seeds=seeds, retrieval=True,
                                features=SMALL_FEATURES, overwrite=overwrite, attention_score=True,
                                pretrain_cfg=pretrain_cfg)
    seconds.update({stage: sec for stage, sec in experiment.seconds.items() if stage not in ("total", "attention")})
    t = time.perf_counter()
    all_labels = run_experiment(cfg.replace(labels_per_class=None, pretrained=experiment.pretrained), out,
                                inits=tuple(INIT_NAMES), protocols=("linear probe",), seeds=seeds, retrieval=False,
                                overwrite=overwrite, run_name=_all_labels_run_name)
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
    by_class = _shown_split(experiment)
    fig = plot_pace_error_by_class(by_class, _natural_speeds(cfg, by_class.classes))
    fig.savefig(out / PACE_ERROR_FIGURE, dpi=100)
    plt.close(fig)
    seconds["figures"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t0

    result = QuickstartResult(out, out / "report.md", experiment.pretext_accuracy, experiment.pretext_train_accuracy,
                              outcomes, seconds, cfg, probe_lr, experiment, pretrain_speed_spread)
    write_text_atomic(result.report, format_report(result))
    write_text_atomic(result.json, json.dumps(result_json(result), indent=1))
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


#: What each input mode is, said beside it in the report (the paper feeds plain RGB).
INPUT_NOTES = {
    "residual": " (each clip minus its mean frame; the paper feeds RGB)",
    "standardized": " (RGB, each frame scaled to mean 0, std 1 per channel before the network; the paper feeds "
                    "RGB as it is)",
}


def format_report(r: QuickstartResult) -> str:
    """The Markdown report: the result table, what it means, the settings and the timings."""
    cfg = r.config
    n = len(next(iter(r.outcomes.values())).top1)

    def pct(values: list[float]) -> str:
        return f"{100 * np.mean(values):.1f}" + (f" ± {100 * np.std(values):.1f}" if len(values) > 1 else "")

    def verdict(protocol: str) -> str:
        gain = r.gain(protocol)
        word = "beats" if round(100 * gain, 1) > 0 else "does **not** beat"  # +0.0 is no gain
        return f"{protocol}: pace pretraining {word} random initialisation, {100 * gain:+.1f} top-1 points"

    rows = []
    labelled_pretext = r.experiment.labelled_pretext_accuracy if r.experiment is not None else None
    for init, name in INIT_NAMES.items():
        pretext = f"{100 * r.pretext_accuracy:.1f}" if init == "pretrained" else "-"
        if init == "pretrained" and r.companion and labelled_pretext is not None:
            pretext = f"{pretext} (companion set) / {100 * labelled_pretext:.1f} (this set)"
        tuned, probe = r.outcomes[(init, "fine-tuned")], r.outcomes[(init, "linear probe")]
        every = r.outcomes.get((init, ALL_LABELS))
        rows.append(f"| {name} | {pretext} | {pct(tuned.top1)} | {pct(probe.top1)} | "
                    f"{pct(every.top1) if every is not None else '-'} | {pct(tuned.top5)} |")
    seeds = f"mean ± std over {n} seeds" if n > 1 else "one seed"
    paces = _paces(cfg)
    lines = [
        "# pacekit quickstart",
        "",
        f"Pace prediction pretraining (Wang, Jiao, Liu, ECCV 2020) on the built-in synthetic dataset "
        f"({cfg.synthetic_classes} motion classes), backbone `{cfg.backbone}`, {cfg.clip_len}x{cfg.crop}x{cfg.crop} "
        f"clips; then {cfg.labels_per_class or 'all'} labelled training videos per class, and the 10-clip "
        f"evaluation on the test split ({seeds}).",
        "",
        "| model | pretext: pace accuracy, test (%) | top-1, fine-tuned (%) | top-1, linear probe (%) "
        "| top-1, linear probe, all labels (%) | top-5, fine-tuned (%) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        *(f"- {verdict(protocol)}." for protocol in REPORTED if ("pretrained", protocol) in r.outcomes),
        "",
        "The ± is the spread over seeds: read a gain smaller than it as noise. With few labelled videos and a "
        "small network the absolute accuracies stay low; the comparison, not the level, is the result.",
        "",
        f"Chance is {100 / cfg.synthetic_classes:.1f}% for the actions and {100 / len(paces):.1f}% for the "
        f"{len(paces)} paces ({', '.join(paces)}). The pretext accuracy is measured on {PRETEXT_CLIPS_PER_VIDEO} clips per test "
        f"video, each at a random pace, centre-cropped; the last pretraining epoch's training accuracy was "
        f"{100 * r.pretext_train_accuracy:.1f}%. Test videos come from other scenes (UCF101-style groups) than "
        "the training videos, so only what a network learned about the motion carries over.",
        "",
        *_companion_section(r),
        *pace_by_class_section(r),
        *_experiment_sections(r),
        "![pace strip](pace_strip.png)",
        "",
        "![training curves](training_curves.png)",
        "",
        "## Settings",
        "",
        f"- pretraining: {cfg.epochs} epochs of the train list x{cfg.epoch_repeat}, batch {cfg.batch_size}, "
        f"{cfg.optimizer} lr {cfg.lr} (x{cfg.lr_gamma} every {cfg.lr_step} epochs), weight decay {cfg.weight_decay}, "
        f"contrastive: {cfg.contrastive}",
        f"- fine-tuning: {cfg.ft_epochs} epochs of the labelled subset x{cfg.ft_epoch_repeat}, batch "
        f"{cfg.ft_batch_size}, lr {cfg.finetune_lr} (x{cfg.lr_gamma} every {cfg.ft_lr_step} epochs); the linear probe "
        f"fits only an fc on the frozen backbone's features of {cfg.ft_epoch_repeat} augmented clips per labelled "
        f"video (BatchNorm in eval mode), AdamW at lr {r.probe_lr}; every initialisation sees the same videos, "
        "clips and augmentations",
        f"- input: {cfg.input_mode} clips" + INPUT_NOTES.get(cfg.input_mode, "")
        + f", frames resized to {cfg.frame_size[0]}x{cfg.frame_size[1]}, colour jitter: {cfg.jitter or 'none'}; "
        f"data `{cfg.root}`" + (f", pretraining data `{r.pretrain_root}` (speed spread {r.pretrain_speed_spread:g}x)"
                                 if r.companion else "") + f"; seed {cfg.seed}",
        "",
        "## Time",
        "",
        "| step | seconds |",
        "|---|---|",
        *(f"| {name} | {sec:.0f} |" for name, sec in r.seconds.items()),
        "",
    ]
    return "\n".join(lines)


#: The figure of the pretext answers by action class, beside the report.
PACE_ERROR_FIGURE = "pace_error_by_class.png"


def _natural_speeds(cfg: Config, classes) -> Optional[list[float]]:
    return natural_speeds(cfg.root, classes) if cfg.dataset == "synthetic" else None


def _shown_split(e: ExperimentResult):
    """The by-class split the report shows: on the labelled set's test clips (the set whose actions have their
    own speeds), which is the pretraining set unless the pretraining read a companion."""
    labelled = e.labelled_pace_confusion_by_class()
    return labelled if labelled is not None else e.pace_confusion_by_class()


def _companion_section(r: QuickstartResult) -> list[str]:
    """What the pretraining read when it was not the labelled set (empty otherwise)."""
    if not r.companion:
        return []
    labelled = r.experiment.labelled_pretext_accuracy if r.experiment is not None else None
    on_labelled = (f"; the same network on this set's test clips (each action at its own speed): "
                   f"{100 * labelled:.1f}%" if labelled is not None else "")
    return [
        "## The pretraining set",
        "",
        f"The pretraining read a companion of this set (`{r.pretrain_root}`): the same videos, scenes and split, "
        f"with the actions' natural speeds pulled together to a spread of {r.pretrain_speed_spread:g}x, the "
        f"fastest over the slowest (this set: {NATIVE_SPEED_SPREAD:g}x)"
        + (", so every action moves at one speed and a clip's pace can be read from its speed alone. "
           if r.pretrain_speed_spread == 1 else ", so a clip's speed says more about its pace there than here. ")
        + "Its test split's pace accuracy is the table's first figure, "
        f"{100 * r.pretext_accuracy:.1f}%{on_labelled}. Fine-tuning, the linear probe, retrieval and attention "
        "use this set, as the paper pretrains on Kinetics-400 and fine-tunes on UCF101 (Sec. 4.1).",
        "",
    ]


def pace_by_class_section(r: QuickstartResult) -> list[str]:
    """The pretext answers split by action class: whether the network reads pace against each action's own
    speed or reads the absolute speed (empty when the run has no such split). On the labelled set's test clips
    when the pretraining read a companion set."""
    by_class = _shown_split(r.experiment) if r.experiment is not None else None
    if by_class is None:
        return []
    speeds = _natural_speeds(r.config, by_class.classes)
    accuracy, error = by_class.accuracy(), by_class.mean_error()
    order = np.argsort(speeds, kind="stable") if speeds is not None else np.arange(len(by_class.classes))
    clips = (f"The pretrained network's pace answers on this set's test clips ({PRETEXT_CLIPS_PER_VIDEO} clips per "
             "video, each at a random pace, as on the companion set)" if r.companion else "The pretext test clips above")
    lines = [
        "## Which actions' paces it misreads",
        "",
        clips + ", split by the action of their video: the share answered right and the mean "
        "error in pace steps (predicted minus true; below 0 the clips are read as slower than they are, above 0 "
        "as faster)" + (", the classes from the slowest natural speed to the fastest." if speeds is not None else "."),
        "",
        "| action | " + ("natural speed (px/frame) | " if speeds is not None else "") + "clips | pace accuracy (%) "
        "| mean error (pace steps) |",
        "|---|" + ("---|" if speeds is not None else "") + "---|---|---|",
    ]
    for k in order:
        speed = f"{speeds[k]:.2f} | " if speeds is not None else ""
        lines.append(f"| {by_class.classes[k]} | {speed}{int(by_class.counts[k].sum())} | "
                     f"{_share(accuracy[k])} | {error[k]:+.2f} |")
    lines.append("")
    r_speed = by_class.error_correlation(speeds) if speeds is not None else None
    if r_speed is not None:
        lines += [f"Correlation of the classes' natural speed with their mean error: r = {r_speed:+.2f}. A network "
                  "that judged each clip against its own action's speed would show none; one that reads the "
                  "absolute speed, so that slow actions come out slow and fast ones fast, a strong positive r.", ""]
    lines += [f"![pace error by class]({PACE_ERROR_FIGURE})", ""]
    return lines


def _experiment_sections(r: QuickstartResult) -> list[str]:
    """The random baseline's prediction histogram and the retrieval table (when the run measured them)."""
    if r.experiment is None:
        return []
    e = r.experiment
    lines = []
    first = e.outcome("random", PROTOCOLS[0])
    classes = first.classes or [f"class {c}" for c in range(len(first.predicted_counts))]
    lines += [
        "## What the random baseline predicts",
        "",
        f"Test videos predicted as each class by the randomly initialised models ({first.coverage} test videos "
        "evaluated; a model that predicts one class for every video has all of them in one column):",
        "",
        "| random init | " + " | ".join(classes) + " |",
        "|---|" + "---|" * len(classes),
        "| true labels | " + " | ".join(str(n) for n in first.label_counts) + " |",
    ]
    for protocol in PROTOCOLS:
        for k, seed in enumerate(e.seeds):
            o = e.outcome("random", protocol, seed)
            name = protocol + (f", seed {seed}" if len(e.seeds) > 1 else "")
            lines.append(f"| {name} | " + " | ".join(str(n) for n in o.predicted_counts) + " |")
    lines.append("")
    if e.retrieval:
        ks = sorted({k for rows in e.retrieval.values() for row in rows for k in row.topk})
        lines += [
            "## Retrieval",
            "",
            "Each test video queries the training videos by cosine similarity of the frozen backbone's features "
            "(paper 4.4); top-k is the share of queries with a video of their class among the k nearest. "
            "Chance is the top-k of a random ranking of the same gallery.",
            "",
            "| model | feature | " + " | ".join(f"top-{k} (%)" for k in ks) + " |",
            "|---|---|" + "---|" * len(ks),
        ]
        chance_rows: dict[str, dict[int, float]] = {}
        for init, rows in e.retrieval.items():
            for row in rows:
                lines.append(f"| {INIT_NAMES[init]} | {row.feature} | "
                             + " | ".join(f"{100 * row.topk[k]:.1f}" for k in ks) + " |")
                chance_rows[row.feature] = row.chance
        for chance in list(chance_rows.values())[:1]:  # chance depends on the labels only, not on the feature
            lines.append("| chance | any | " + " | ".join(f"{100 * chance[k]:.1f}" for k in ks) + " |")
        lines += ["", *(f"- `{row.feature}`: {row.description}" for row in next(iter(e.retrieval.values()))),
                  *(f"- `{feature}`: not measured: {why}" for feature, why in e.retrieval_skipped.items()), ""]
    if e.attention_scores:
        lines += [
            "## Where the network looks (Fig. 5)",
            "",
            # a result written before the stage was recorded read conv5
            f"Share of the {e.attention_stage or 'conv5'} activation attention (and of the Grad-CAM of the predicted "
            "pace) that falls inside "
            f"the ground-truth mover masks, on {ATTENTION_VIDEOS} test videos (one pace-1 clip each, the masks brought "
            "to the network's view). Chance is the masks' share of the frame: a map that ignores the mover scores "
            "about that."
            + (" The stage is the deepest whose map is at least Fig. 5's 7x7 conv5 grid "
               "(`pacekit.evaluation.attention.fig5_stage`)." if e.attention_stage else ""),
            "",
            "| model | attention in the masks (%) | Grad-CAM in the masks (%) | chance (%) |",
            "|---|---|---|---|",
        ]
        for init, scores in e.attention_scores.items():
            att, cam = scores["attention"], scores.get("grad-cam", [float("nan"), float("nan")])
            lines.append(f"| {INIT_NAMES[init]} | {_share(att[0])} | {_share(cam[0])} | {100 * att[1]:.1f} |")
        lines.append("")
        lines.append("n/a: the maps have no mass at all (a Grad-CAM is zero where no channel's gradient-weighted "
                     "activation is positive), so no share can be computed.")
        if {"random", "pretrained"} <= set(e.attention_scores):
            ratio = e.attention_scores["pretrained"]["attention"][0] / max(e.attention_scores["random"]["attention"][0], 1e-9)
            lines += ["", f"Pretrained / random init: {ratio:.2f}x the attention share inside the masks."]
        lines.append("")
    return lines


def _share(value: float) -> str:
    return f"{100 * value:.1f}" if math.isfinite(value) else "n/a"


def result_json(r: QuickstartResult) -> dict:
    """Every figure of the report as plain numbers (fractions, not percentages), plus the whole experiment."""
    cfg = r.config
    data = {
        "input_mode": cfg.input_mode,
        "optimizer": cfg.optimizer,
        "backbone": cfg.backbone,
        "probe_lr": r.probe_lr,
        "seconds": dict(r.seconds),
        "pretext_accuracy": r.pretext_accuracy,
        "pretext_train_accuracy": r.pretext_train_accuracy,
        "pretrain_speed_spread": r.pretrain_speed_spread,
        "pretrain_data": r.pretrain_root,
        "labelled_pretext_accuracy": r.experiment.labelled_pretext_accuracy if r.experiment is not None else None,
        "action_chance": 1 / cfg.synthetic_classes,
        "pace_chance": 1 / len(_paces(cfg)),
        "top1": {init: {p: list(r.outcomes[(init, p)].top1) for p in _reported(r)} for init in INIT_NAMES},
        "top5": {init: {p: list(r.outcomes[(init, p)].top5) for p in _reported(r)} for init in INIT_NAMES},
        "gain": {p: r.gain(p) for p in _reported(r)},
        "synthetic_version": synthetic_version(cfg.root) if cfg.dataset == "synthetic" else None,
    }
    if r.experiment is not None:
        e = r.experiment
        data["seeds"] = list(e.seeds)
        data["random_prediction_histogram"] = {p: [e.outcome("random", p, s).predicted_counts for s in e.seeds]
                                               for p in PROTOCOLS}
        data["test_label_counts"] = e.outcome("random", PROTOCOLS[0]).label_counts
        data["retrieval"] = {init: {row.feature: {"topk": row.topk, "chance": row.chance} for row in rows}
                             for init, rows in e.retrieval.items()}
        data["retrieval_skipped"] = dict(e.retrieval_skipped)
        data["experiment"] = e.to_dict()  # JSON-safe: a share with no attention mass is null there
        data["attention"] = {init: {name: {"share": pair[0], "chance": pair[1]} for name, pair in scores.items()}
                             for init, scores in data["experiment"]["attention_scores"].items()}
        data["attention_stage"] = e.attention_stage
        by_class = _shown_split(e)
        if by_class is not None:   # the split the report shows (on the labelled set)
            data["pretext_by_class"] = {
                "classes": list(by_class.classes),
                "natural_speed": _natural_speeds(cfg, by_class.classes),
                "accuracy": [None if not math.isfinite(a) else float(a) for a in by_class.accuracy()],
                "mean_error": [None if not math.isfinite(m) else float(m) for m in by_class.mean_error()],
            }
    return data


def _reported(r: QuickstartResult) -> list[str]:
    return [p for p in REPORTED if ("pretrained", p) in r.outcomes]


def _paces(cfg: Config) -> list[str]:
    return [str(p) for p in PaceSet.from_spec(cfg.pace_set)]


__all__ = ["ALL_LABELS", "FinetuneOutcome", "INIT_NAMES", "PACE_ERROR_FIGURE", "PROTOCOLS", "QuickstartResult", "format_report",
           "pace_by_class_section", "result_json",
           "run_quickstart"]
