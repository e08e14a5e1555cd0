"""What the quickstart found, as data: its result objects and :func:`result_json`, the numbers of its report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..config import Config
from ..data.synthetic import (
    companion_folder,
    natural_speeds,
    synthetic_version,
)
from ..pace import PaceSet
from .experiment import (
    ExperimentResult,
)


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


#: The figure of the pretext answers by action class, beside the report.
PACE_ERROR_FIGURE = "pace_error_by_class.png"


def natural_speeds_of(cfg: Config, classes) -> Optional[list[float]]:
    return natural_speeds(cfg.root, classes) if cfg.dataset == "synthetic" else None


def shown_split(e: ExperimentResult):
    """The by-class split the report shows: on the labelled set's test clips (the set whose actions have their
    own speeds), which is the pretraining set unless the pretraining read a companion."""
    labelled = e.labelled_pace_confusion_by_class()
    return labelled if labelled is not None else e.pace_confusion_by_class()


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
        "pace_chance": 1 / len(pace_labels(cfg)),
        "top1": {init: {p: list(r.outcomes[(init, p)].top1) for p in reported_protocols(r)} for init in INIT_NAMES},
        "top5": {init: {p: list(r.outcomes[(init, p)].top5) for p in reported_protocols(r)} for init in INIT_NAMES},
        "gain": {p: r.gain(p) for p in reported_protocols(r)},
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
        draws = data["experiment"]["attention_draws"]
        data["attention"] = {init: {name: {"share": pair[0], "chance": pair[1],
                                           "networks": draws.get(init, {}).get(name, [pair[0]])}
                                    for name, pair in scores.items()}
                             for init, scores in data["experiment"]["attention_scores"].items()}
        data["attention_stage"] = e.attention_stage
        by_class = shown_split(e)
        if by_class is not None:   # the split the report shows (on the labelled set)
            data["pretext_by_class"] = {
                "classes": list(by_class.classes),
                "natural_speed": natural_speeds_of(cfg, by_class.classes),
                "accuracy": [None if not math.isfinite(a) else float(a) for a in by_class.accuracy()],
                "mean_error": [None if not math.isfinite(m) else float(m) for m in by_class.mean_error()],
            }
    return data


def reported_protocols(r: QuickstartResult) -> list[str]:
    return [p for p in REPORTED if ("pretrained", p) in r.outcomes]


def pace_labels(cfg: Config) -> list[str]:
    return [str(p) for p in PaceSet.from_spec(cfg.pace_set)]


__all__ = ["ALL_LABELS", "FinetuneOutcome", "INIT_NAMES", "PACE_ERROR_FIGURE", "PROTOCOLS", "QuickstartResult",
           "REPORTED", "natural_speeds_of", "pace_labels", "reported_protocols", "result_json", "shown_split"]
