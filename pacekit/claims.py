"""The paper's claims, shown: a small-scale study of each claim, with paired statistics and a stated verdict rule.

Each claim is data: a :class:`Claim` names the paper's section, quotes what the paper says, lists its
**arms** (config overrides of the ledger's base config, plus two reserved keys: ``"init"``, ``"pretrained"``
by default or ``"random"``; and ``"pretrain_speed_spread"``, which pretrains on a companion of the synthetic set
with the actions' speeds pulled together, :func:`pacekit.data.synthetic.ensure_companion`), the **metrics**
measured on every arm, and the **comparisons** that decide it.

:func:`run_ledger` runs every (claim, arm, seed) **cell** through :func:`pacekit.experiment.run_experiment`
with ``reuse=True``, so an interrupted ledger resumes where it stopped:

- a pretrained arm first pretrains (seed ``s``) with the arm's pretraining overrides, in
  ``<out>/pretrain/<key>_s<seed>``; arms whose pretraining configs are equal share it, across claims;
- it then transfers (linear probe / fine-tuning, seed ``s``) with the ledger's one transfer recipe, so
  two arms differ only in what the claim varies (``labels_per_class`` is the only transfer override);
- each cell's numbers are kept in ``<cell>/cell.json`` and read back on the next run, with the seconds
  the cell took (its pretraining's are in that pretraining's ``experiment.json``): the ledger sums them
  (:func:`recorded_compute`), so a ledger read back still says what its cells cost.

With ``jobs`` above 1 the cells and pretrainings run side by side in worker processes
(:mod:`pacekit.parallel`), the costliest first, each on ``cfg.threads`` torch threads; with ``threads`` set, a
cell's numbers are the same whatever ``jobs`` is (a test compares ``jobs=2`` with ``jobs=1``), but they
differ from those of runs on another number of threads (which sum in another order).

The seeds are fixed up front and written to ``<out>/seeds.json`` before any cell runs; a later run into the
same folder with other seeds is refused. Statistics are paired over seeds: for a comparison ``A vs B``
the differences ``d_s = A_s - B_s`` give a mean and a 95 % t-interval
``mean(d) +- t_{0.975, n-1} * sd(d) / sqrt(n)``. The verdict is computed by :func:`verdict` (rule in
:data:`VERDICT_RULE`), never written by hand.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import datetime
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from .atomic import write_text_atomic
from .attention import FIG5_GRID
from .config import Config, field_names
from .data.synthetic import companion_folder, ensure_companion, synthetic_version
from .errors import PacekitError
from .experiment import ATTENTION_VIDEOS, ExperimentResult, _init_model, attention_scores, run_experiment
from .machine import describe_machine
from .pace import PaceSet
from .parallel import Task, run_tasks
from .retrieval import TOPK
from .training.data import available_cpus
from .training.distributed import resolve_device

#: What each metric is; every one is a fraction in [0, 1].
METRICS = {
    "pretext": "pace (pretext) accuracy of the pretrained model on the test split",
    "linear probe": "action top-1, new fc on the frozen backbone (10-clip test)",
    "fine-tuned": "action top-1, whole network fine-tuned (10-clip test)",
    "retrieval": "nearest-neighbour retrieval top-1 (test queries the train videos, 10 clips a video), from "
                 "pacekit's p5 (conv5 averaged over time and space)",
    "retrieval vcop": "the same retrieval from the paper's p5 feature (Sec. 4.4, Tables 4/5, after VCOP: conv5 "
                      "max-pooled over 2x2 space, flattened)",
    "retrieval p4": "the same retrieval from the second last pooling layer, p4 (conv4 averaged over time and space)",
    "attention": "share of activation-attention mass inside the ground-truth mover masks (Fig. 5), at the deepest "
                 "stage whose map is at least Fig. 5's 7x7 conv5 grid (on 56-pixel crops: conv3 for the tiny "
                 "network, conv4 for R(2+1)D)",
    "grad-cam": "share of Grad-CAM mass (the predicted pace logit, mean over time) inside the mover masks, at the "
                "same stage",
}
#: Config fields an arm changes for the transfer only; the model fields below change both stages; every other
#: override changes pretraining only.
TRANSFER_FIELDS = ("labels_per_class",)
#: The network itself: an arm that sets these pretrains, probes, fine-tunes and retrieves with that network.
MODEL_FIELDS = ("backbone", "width")
#: C1's paper backbone: R(2+1)D (Sec. 4.1) at a quarter of its channels, so that its three pretrainings fit
#: the ledger on two CPU cores.
PAPER_BACKBONE_ARM = {"backbone": "r21d", "width": 0.25}
#: The retrieval metrics and the feature each retrieves with (:func:`pacekit.retrieval.run_retrieval`'s layers).
RETRIEVAL_FEATURES = {"retrieval": "p5", "retrieval vcop": "vcop", "retrieval p4": "p4"}
#: Half-width of "comparable" for an "≈" comparison (accuracy as a fraction: 0.05 = 5 points).
DEFAULT_MARGIN = 0.05

VERDICT_RULE = (
    "For each comparison A vs B the paired differences d_s = A_s - B_s over the seeds give a 95% t-interval "
    "[lo, hi] = mean(d) -+ t(0.975, n-1) * sd(d) / sqrt(n). A claim that A beats B (\">\") is **reproduced** when "
    "lo > 0, **not reproduced** when hi < 0, **inconclusive** otherwise. A claim that A and B are comparable "
    "(\"≈\", margin m) is **reproduced** when -m < lo and hi < m, **not reproduced** when lo > m or hi < -m, "
    "**inconclusive** otherwise; a \"≈\" is only reproduced when both arms' means lie above their chance level "
    "(two networks at chance are equal and say nothing). Fewer than two seeds, or a missing number, is "
    "inconclusive.")

VERDICTS = ("reproduced", "not reproduced", "inconclusive")


@dataclass(frozen=True)
class Comparison:
    """``better`` against ``worse`` on ``metric``: ``expect`` ``">"`` (the paper says better beats worse)
    or ``"≈"`` (comparable within ``margin``); ``paper`` gives the paper's numbers for the pair.
    ``worse_metric`` compares two metrics of the same seeds instead (``worse``'s ``worse_metric``; e.g. one
    arm's retrieval from p4 against its retrieval from p5); empty: ``metric`` on both sides."""

    better: str
    worse: str
    metric: str
    expect: str = ">"
    paper: str = ""
    margin: float = DEFAULT_MARGIN
    worse_metric: str = ""

    @property
    def label(self) -> str:
        return comparison_label(dataclasses.asdict(self))


def comparison_label(comp: dict) -> str:
    """How the ledger names a comparison (a :class:`Comparison` or a ledger entry's dict): ``A > B``, or
    ``A: metric > other metric`` when it compares two metrics of one arm."""
    if comp.get("worse_metric"):
        if comp["better"] == comp["worse"]:
            return f"{comp['better']}: {comp['metric']} {comp['expect']} {comp['worse_metric']}"
        return f"{comp['better']} ({comp['metric']}) {comp['expect']} {comp['worse']} ({comp['worse_metric']})"
    return f"{comp['better']} {comp['expect']} {comp['worse']}"


@dataclass(frozen=True)
class Claim:
    """One claim of the paper (or beyond it): its arms, the metrics measured on each, the comparisons."""

    id: str
    paper_ref: str
    paper_says: str
    arms: dict
    metric: tuple
    compare: tuple
    title: str = ""
    beyond_paper: bool = False
    #: ``(arm, series, x)`` triples: draw the claim's figure as one line per series over x (C7) instead of bars.
    curve: tuple = ()


LABEL_COUNTS = (1, 2, 4, 8, None)


def _labels(n: Optional[int]) -> str:
    return "all" if n is None else f"{n}/class"


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "C1", "Fig. 4 / Sec. 4.2",
        '"The proposed approach achieves significant improvement over the random initialization across all three '
        'backbone networks." (Sec. 4.2; Table 1, UCF101 top-1: Random 56.0, p = [1, 4] 72.0) and, for retrieval, '
        '"significant improvement can be achieved by using the second last pooling layer (p4)" (Sec. 4.4; Table 4, '
        'UCF101 top-1 with R(2+1)D: Random 10.6, Ours (p5) 17.9, Ours (p4) 25.6; its p5 is VCOP\'s feature, '
        '`retrieval vcop` here)',
        {"pace-pretrained": {"init": "pretrained"}, "random init": {"init": "random"},
         "pace-pretrained, R(2+1)D x0.25": {"init": "pretrained", **PAPER_BACKBONE_ARM},
         "random init, R(2+1)D x0.25": {"init": "random", **PAPER_BACKBONE_ARM}},
        ("pretext", "linear probe", "fine-tuned", "retrieval", "retrieval vcop", "retrieval p4"),
        tuple(comparison
              for net in ("", ", R(2+1)D x0.25")
              for comparison in (
                  *(Comparison(f"pace-pretrained{net}", f"random init{net}", metric, paper=paper)
                    for metric, paper in (("linear probe", "no linear probe in the paper"),
                                          ("fine-tuned", "72.0 vs 56.0 (Table 1, R(2+1)D)"),
                                          ("retrieval", "retrieval: Tables 4/5 (not random)"),
                                          ("retrieval vcop", "17.9 vs 10.6 (Table 4, R(2+1)D)"),
                                          ("retrieval p4", "25.6 vs 10.6 (Table 4, R(2+1)D)"))),
                  Comparison(f"pace-pretrained{net}", f"pace-pretrained{net}", "retrieval p4",
                             paper="25.6 vs 17.9 (Table 4, R(2+1)D)", worse_metric="retrieval vcop"))),
        title="pace pretraining beats random initialisation, for the tiny network and R(2+1)D at quarter width; "
              "p4 retrieves better than the paper's p5"),
    Claim(
        "C2", "Table 1 / Sec. 4.2",
        '"with the increase of the maximum pace, namely the number of training classes, the accuracy of the '
        'downstream action recognition task keeps increase, until p=[1,4]. When the sampling pace increases to '
        'p=[1,6], the accuracy starts to drop." and "the relative pace, i.e., p = [1, 4], achieves comparable '
        'result with the absolute pace" (Table 1, UCF101: [1,3] 71.4, [1,4] 72.0, [1,5] 72.0, [1,6] 71.1; '
        'with colour jitter [1,4] 73.9, [1/3,3] 73.9)',
        {"p=[1,3]": {"pace_set": "1,2,3"}, "p=[1,4]": {"pace_set": "relative"}, "p=[1,5]": {"pace_set": "1,2,3,4,5"},
         "p=[1,6]": {"pace_set": "1,2,3,4,5,6"}, "p=[1/3,3]": {"pace_set": "absolute"}},
        ("pretext", "linear probe"),
        (Comparison("p=[1,4]", "p=[1,3]", "linear probe", paper="72.0 vs 71.4"),
         Comparison("p=[1,4]", "p=[1,5]", "linear probe", "≈", paper="72.0 vs 72.0"),
         Comparison("p=[1,4]", "p=[1,6]", "linear probe", paper="72.0 vs 71.1"),
         Comparison("p=[1,4]", "p=[1/3,3]", "linear probe", "≈", paper="73.9 vs 73.9")),
        title="the pace range: [1,4] is best, and as good as the absolute set"),
    Claim(
        "C3", "Table 1 / Sec. 3.1",
        '"Empirically, we find that color jittering applied to each frame achieves much better performance than '
        'to the entire video clip." (Sec. 3.1) and "with color jittering, the performance is further improved by '
        '1.9%" (Sec. 4.2; Table 1: 72.0 -> 73.9)',
        {"jitter per frame": {"jitter": "frame"}, "jitter per clip": {"jitter": "clip"}, "no jitter": {"jitter": None}},
        ("pretext", "linear probe"),
        (Comparison("jitter per frame", "jitter per clip", "linear probe", paper="\"much better\" (no number)"),
         Comparison("jitter per frame", "no jitter", "linear probe", paper="73.9 vs 72.0")),
        title="colour jitter per frame beats per clip and none"),
    Claim(
        "C4", "Table 2 / Sec. 4.2",
        '"The same pace configuration achieves much worse results than the same context configuration." and '
        '"Pace prediction task achieves much better performance compared to each of the two contrastive '
        'learning settings." (Table 2, UCF101: same pace alone 59.4, same context alone 67.3, pace prediction 73.9)',
        {"same context alone": {"contrastive": "context", "lambda_cls": 0.0},
         "same pace alone": {"contrastive": "pace", "lambda_cls": 0.0},
         "pace prediction alone": {"contrastive": "none"}},
        ("linear probe",),
        (Comparison("same context alone", "same pace alone", "linear probe", paper="67.3 vs 59.4"),
         Comparison("pace prediction alone", "same context alone", "linear probe", paper="73.9 vs 67.3")),
        title="contrastive alone: same context beats same pace; pace prediction beats both"),
    Claim(
        "C5", "Table 2 / Sec. 4.2",
        '"regarding the same pace configuration, performance is slightly deteriorated and regarding the same '
        'context configuration, performance is further improved" and "such a practice can further improve the '
        'performance (last row in Table 2)." (UCF101: pace 73.9, + same pace 73.6, + same context 75.8, '
        '+ same context + fc 75.9)',
        {"pace + same context + fc": {"contrastive": "context", "projection": "mlp"},
         "pace + same context": {"contrastive": "context", "projection": None},
         "pace alone": {"contrastive": "none"},
         "pace + same pace": {"contrastive": "pace", "projection": None}},
        ("pretext", "linear probe"),
        (Comparison("pace + same context + fc", "pace alone", "linear probe", paper="75.9 vs 73.9"),
         Comparison("pace + same context", "pace alone", "linear probe", paper="75.8 vs 73.9"),
         Comparison("pace alone", "pace + same pace", "linear probe", paper="73.9 vs 73.6")),
        title="pace + same context (+ fc) beats pace alone, which beats pace + same pace"),
    Claim(
        "C6", "Fig. 5 / Sec. 4.2",
        '"the neural network will pay more attention to the motion areas when learning the pace prediction task."',
        {"pace-pretrained": {"init": "pretrained"}, "random init": {"init": "random"},
         "pace-pretrained, R(2+1)D x0.25": {"init": "pretrained", **PAPER_BACKBONE_ARM},
         "random init, R(2+1)D x0.25": {"init": "random", **PAPER_BACKBONE_ARM}},
        ("attention", "grad-cam"),
        tuple(Comparison(f"pace-pretrained{net}", f"random init{net}", metric, paper=paper)
              for net in ("", ", R(2+1)D x0.25")
              for metric, paper in (("attention", "qualitative (Fig. 5, R(2+1)D)"),
                                    ("grad-cam", "not in the paper (Fig. 5 uses [59])"))),
        title="a pace-pretrained network attends to the moving object, for the tiny network and R(2+1)D at "
              "quarter width"),
    Claim(
        "C7", "beyond the paper",
        "The paper fine-tunes with every label; the kit asks whether pace pretraining helps most "
        "when few labelled videos per class are available (measured with the linear probe: fine-tuning on all "
        "labels ten times over would take most of the ledger's hour).",
        {f"{init}, {_labels(n)}": {"init": init, "labels_per_class": n}
         for n in LABEL_COUNTS for init in ("pretrained", "random")},
        ("linear probe",),
        tuple(Comparison(f"pretrained, {_labels(n)}", f"random, {_labels(n)}", "linear probe", paper="beyond the paper")
              for n in LABEL_COUNTS),
        title="label efficiency: pretrained against random at 1/2/4/8/all labels per class", beyond_paper=True,
        curve=tuple((f"{init}, {_labels(n)}", init, _labels(n)) for n in LABEL_COUNTS for init in ("pretrained", "random"))),
    Claim(
        "C8", "beyond the paper",
        "Sec. 3.1 samples a start where the clip fits and loops a short video; the authors' "
        "code draws any start and jumps back to frame 0. The kit asks whether that choice changes what is "
        "learned (comparable expected).",
        {"any start + restart (authors)": {"start_policy": "any", "wrap": "restart"},
         "fit start + modulo (Sec. 3.1)": {"start_policy": "fit", "wrap": "modulo"}},
        ("pretext", "linear probe"),
        (Comparison("any start + restart (authors)", "fit start + modulo (Sec. 3.1)", "linear probe", "≈",
                    paper="beyond the paper"),),
        title="the authors' loop-around start against the paper's fitting start", beyond_paper=True),
    Claim(
        "C9", "beyond the paper",
        "The paper pretrains on UCF101 itself or on Kinetics-400 before fine-tuning on UCF101 (Sec. 4.1). The "
        "synthetic set's actions move at natural speeds 4x apart, as far apart as the paces, so its pace is only "
        "known once the action is recognised, and the quickstart's network learns it to under 50% (README). The "
        "kit asks whether pretraining on a companion set -- the same videos with one speed for every action, "
        "where the pace can be read from the speed alone -- transfers to the set itself better than pretraining "
        "on the set. The companion arm's pretext accuracy is measured on the companion's test split.",
        {"pretrained on a one-speed companion": {"pretrain_speed_spread": 1},
         "pretrained on the set itself": {}, "random init": {"init": "random"}},
        ("pretext", "linear probe", "fine-tuned", "retrieval"),
        (*(Comparison("pretrained on a one-speed companion", "pretrained on the set itself", metric,
                      paper="beyond the paper") for metric in ("linear probe", "fine-tuned", "retrieval")),
         Comparison("pretrained on a one-speed companion", "random init", "linear probe", paper="beyond the paper")),
        title="pretraining on a one-speed companion set against pretraining on the set itself", beyond_paper=True),
)

CLAIM_IDS = tuple(c.id for c in CLAIMS)


def get_claims(ids: Optional[Sequence[str]] = None) -> list[Claim]:
    """The claims of ``ids`` (e.g. ``["C1", "C6"]``, any case) in the ledger's order; all by default."""
    if ids is None:
        return list(CLAIMS)
    wanted = [i.strip().upper() for i in ids if i.strip()]
    unknown = [i for i in wanted if i not in CLAIM_IDS]
    if unknown or not wanted:
        raise PacekitError(f"unknown claims {unknown or ids}; choose among {', '.join(CLAIM_IDS)}")
    return [c for c in CLAIMS if c.id in wanted]


# ------------------------------------------------------------------------------------------ statistics

_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)


def t_critical_975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (two-sided 95 %)."""
    if df < 1:
        return float("nan")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964  # Cornish-Fisher expansion around the normal quantile; < 1e-3 off for df > 30
    return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)


@dataclass
class PairedStats:
    """Paired differences ``a - b`` over seeds: their mean, sd, and the 95 % t-interval ``[lo, hi]``."""

    diffs: list
    mean: float
    sd: float
    lo: float
    hi: float


def paired_ci(a: Sequence[float], b: Sequence[float]) -> PairedStats:
    """The 95 % t-interval of ``mean(a - b)``, ``a`` and ``b`` paired by position (seed)."""
    if len(a) != len(b):
        raise ValueError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    d = np.asarray(a, float) - np.asarray(b, float)
    n = len(d)
    mean = float(d.mean()) if n else float("nan")
    sd = float(d.std(ddof=1)) if n > 1 else float("nan")
    half = t_critical_975(n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
    return PairedStats(d.tolist(), mean, sd, mean - half, mean + half)


def verdict(lo: float, hi: float, expect: str = ">", margin: float = DEFAULT_MARGIN,
            above_chance: bool = True) -> str:
    """Apply :data:`VERDICT_RULE` to a confidence interval ``[lo, hi]`` of ``better - worse``;
    ``above_chance``: whether both arms' means beat their chance level (needed for a reproduced "≈")."""
    if expect not in (">", "≈"):
        raise ValueError(f"expect must be '>' or '≈', got {expect!r}")
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    if expect == ">":
        return "reproduced" if lo > 0 else "not reproduced" if hi < 0 else "inconclusive"
    if expect == "≈":
        if -margin < lo and hi < margin:
            return "reproduced" if above_chance else "inconclusive"
        return "not reproduced" if lo > margin or hi < -margin else "inconclusive"
    raise ValueError(f"expect must be '>' or '≈', got {expect!r}")


# ------------------------------------------------------------------------------------------ cells


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "arm"


#: Arm keys that are not Config fields.
RESERVED_KEYS = ("init", "pretrain_speed_spread")


def _split_overrides(overrides: dict) -> tuple[str, dict, dict]:
    init = overrides.get("init", "pretrained")
    fields = {k: v for k, v in overrides.items() if k not in RESERVED_KEYS}
    return (init, {k: v for k, v in fields.items() if k not in TRANSFER_FIELDS},
            {k: v for k, v in fields.items() if k in TRANSFER_FIELDS or k in MODEL_FIELDS})


def _pretrain_config(cfg: Config, overrides: dict, write_companion: bool = False) -> Config:
    """The pretraining config of an arm: ``cfg`` with the arm's pretraining fields, and on the companion set's
    folder when the arm names a ``pretrain_speed_spread`` (the set is written when ``write_companion``)."""
    _, pre_fields, _ = _split_overrides(overrides)
    pre_cfg = cfg.replace(**pre_fields)
    spread = overrides.get("pretrain_speed_spread")
    if spread is None:
        return pre_cfg
    root = (ensure_companion(cfg.root, spread, progress=cfg.progress) if write_companion
            else companion_folder(cfg.root, spread))
    return pre_cfg.replace(root=str(root))


def pretrain_key(cfg: Config, pre_cfg: Config) -> str:
    """``base`` when ``pre_cfg`` equals the ledger's ``cfg``, else a short hash of the fields that differ."""
    base, mine = cfg.to_dict(), pre_cfg.to_dict()
    diff = {k: mine[k] for k in sorted(mine) if mine[k] != base.get(k)}
    if not diff:
        return "base"
    return hashlib.sha1(json.dumps(diff, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _compared(config: Optional[dict]) -> Optional[dict]:
    """The fields of a config dict that a result depends on: those the run-reuse check compares
    (:func:`pacekit.config.field_names`), so that a progress bar, a log interval, the loader workers or the
    run's name never make a finished cell or pretraining count as another."""
    if config is None:
        return None
    ignored = set(field_names(compared=False))
    return {k: v for k, v in config.items() if k not in ignored}


def _cell_key(identity: dict) -> dict:
    """A cell's identity with its two configs reduced to the fields a result depends on."""
    return {**identity, "pretrain": _compared(identity.get("pretrain")), "transfer": _compared(identity.get("transfer"))}


def _experiment(cfg: Config, out: Path, **kw) -> ExperimentResult:
    return run_experiment(cfg, out, reuse=True, **kw)


def _cell_plan(cfg: Config, claim: Claim, arm: str, seed: int, attention_videos: int,
               write_companion: bool = False) -> tuple[str, Config, Config, dict]:
    """``(init, transfer config, pretraining config, identity)`` of one cell; the identity is what its
    ``cell.json`` must match to be read back."""
    init, _, transfer_fields = _split_overrides(claim.arms[arm])
    cfg_s = cfg.replace(seed=int(seed))
    tcfg = cfg_s.replace(**transfer_fields)
    pre_cfg = _pretrain_config(cfg_s, claim.arms[arm], write_companion=write_companion and init == "pretrained")
    identity = {"init": init, "pretrain": pre_cfg.to_dict() if init == "pretrained" else None,
                "transfer": tcfg.to_dict(), "metrics": list(claim.metric), "attention_videos": attention_videos}
    retrieval = _retrieval_metrics(claim)
    if retrieval:
        # cells written when a cell kept only p5's top-1 are not read back as these
        identity["retrieval"] = {"features": [RETRIEVAL_FEATURES[m] for m in retrieval], "topk": list(TOPK)}
    if "attention" in claim.metric or "grad-cam" in claim.metric:
        # cells scored at conv5 before the stage followed Fig. 5's grid are not read back as these
        identity["attention_stage"] = f"deepest stage at least {FIG5_GRID}x{FIG5_GRID}"
    return init, tcfg, pre_cfg, identity


def _retrieval_metrics(claim: Claim) -> list[str]:
    return [m for m in claim.metric if m in RETRIEVAL_FEATURES]


def _saved_cell(cell_file: Path, identity: dict) -> Optional[dict]:
    """The metrics a finished cell left in ``cell_file`` when its identity matches ``identity``, else None."""
    if not cell_file.is_file():
        return None
    saved = json.loads(cell_file.read_text())
    wanted = json.loads(json.dumps(_json_safe(identity), default=str))
    if isinstance(saved.get("identity"), dict) and _cell_key(saved["identity"]) == _cell_key(wanted):
        return saved["metrics"]
    return None


def _saved_pretraining(pre_dir: Path, pre_cfg: Config) -> Optional[ExperimentResult]:
    """The finished pretraining in ``pre_dir`` when it was run with ``pre_cfg``'s settings and its checkpoint
    is in ``pre_dir``, else None.

    Its ``experiment.json`` records the checkpoint's path as it was written (under the ledger folder of
    then). A ledger folder moved or renamed since still holds the checkpoint at the same place inside it, so
    the path is taken relative to the folder the pretraining was written into and rebased onto ``pre_dir``:
    never a checkpoint at the old path, which may by then belong to another run.
    """
    saved_pre = pre_dir / "experiment.json"
    if not saved_pre.is_file():
        return None
    pre_result = ExperimentResult.from_json(saved_pre)
    if _compared(pre_result.config) != _compared(pre_cfg.to_dict()) or not pre_result.pretrained:
        return None
    try:
        inside = Path(pre_result.pretrained).relative_to(Path(pre_result.config["out_dir"]))
    except (KeyError, ValueError):  # not written by this module into its pretraining folder
        return None
    checkpoint = pre_dir / inside
    if not checkpoint.is_file():
        return None
    return dataclasses.replace(pre_result, pretrained=str(checkpoint))


def pretrain_arm(cfg: Config, out, claim: Claim, arm: str, seed: int) -> tuple[ExperimentResult, float]:
    """The pretraining a pretrained arm's cell at ``seed`` starts from: read back from its folder
    (:func:`_pretrain_dir`, shared by every arm of the same settings) when finished, else run and saved there.
    Returns ``(result, seconds spent computing it here)``, 0 when read back."""
    pre_cfg = _pretrain_config(cfg.replace(seed=int(seed)), claim.arms[arm], write_companion=True)
    pre_dir = _pretrain_dir(cfg, out, claim.arms[arm], seed)
    pre_result = _saved_pretraining(pre_dir, pre_cfg)
    if pre_result is not None:
        return pre_result, 0.0
    t = time.perf_counter()
    pre_result = _experiment(pre_cfg, pre_dir, inits=("pretrained",), protocols=(), seeds=[seed], retrieval=False)
    pre_result.to_json(pre_dir / "experiment.json")
    return pre_result, time.perf_counter() - t


def run_cell(cfg: Config, out, claim: Claim, arm: str, seed: int,
             attention_videos: int = ATTENTION_VIDEOS) -> dict:
    """Measure ``claim``'s metrics on one arm at one seed: ``{metric: {"value": v, "chance": c}}``.

    Finished cells are read back from ``<out>/<claim>/<arm>/s<seed>/cell.json`` when their configs match.
    """
    out = Path(out)
    init, tcfg, pre_cfg, identity = _cell_plan(cfg, claim, arm, seed, attention_videos, write_companion=True)
    cell_dir = _cell_dir(out, claim, arm, seed)
    cell_file = cell_dir / "cell.json"
    saved = _saved_cell(cell_file, identity)
    if saved is not None:
        return saved

    started = time.perf_counter()
    pretrain_seconds = 0.0  # a pretraining computed for this cell (its own experiment.json records it too)
    metrics: dict[str, dict] = {}
    pretrained = None
    if init == "pretrained":
        pre_result, pretrain_seconds = pretrain_arm(cfg, out, claim, arm, seed)
        pretrained = pre_result.pretrained
        if "pretext" in claim.metric:
            metrics["pretext"] = {"value": pre_result.pretext_accuracy,
                                  "chance": 1.0 / len(PaceSet.from_spec(pre_cfg.pace_set))}
    elif "pretext" in claim.metric:
        metrics["pretext"] = {"value": None, "chance": 1.0 / len(PaceSet.from_spec(pre_cfg.pace_set))}

    protocols = tuple(p for p in ("fine-tuned", "linear probe") if p in claim.metric)
    retrieval = _retrieval_metrics(claim)
    if protocols or retrieval:
        result = _experiment(tcfg.replace(pretrained=pretrained), cell_dir, inits=(init,), protocols=protocols,
                             seeds=[seed], retrieval=bool(retrieval),
                             features=tuple(RETRIEVAL_FEATURES[m] for m in retrieval), ks=TOPK)
        for protocol in protocols:
            o = result.outcome(init, protocol, seed)
            metrics[protocol] = {"value": o.top1, "chance": 1.0 / len(o.label_counts)}
        rows = {row.feature: row for row in result.retrieval.get(init, [])}
        for metric in retrieval:
            feature = RETRIEVAL_FEATURES[metric]
            if feature in result.retrieval_skipped:  # a missing number (the rule: inconclusive), and why
                metrics[metric] = {"value": None, "chance": None, "skipped": result.retrieval_skipped[feature]}
                continue
            row = rows[feature]
            # top-1 decides; every k of Sec. 4.4 is kept for the ledger's top-k table (a k above the gallery's
            # size is skipped by the retrieval and left out here)
            metrics[metric] = {"value": row.topk.get(1), "chance": row.chance.get(1),
                               "topk": {str(k): v for k, v in sorted(row.topk.items())},
                               "chance_topk": {str(k): v for k, v in sorted(row.chance.items())}}
    if "attention" in claim.metric or "grad-cam" in claim.metric:
        model = _init_model(init, None, pretrained, tcfg)
        scores = attention_scores(model, tcfg, attention_videos, with_grad_cam="grad-cam" in claim.metric)
        for name, (value, chance) in scores.items():
            metrics[name] = {"value": value, "chance": chance}

    metrics = _json_safe(metrics)  # a NaN share (no map had mass) is a missing number, as when read back
    # the cell's own compute, its pretraining left out (shared by other cells; recorded in its experiment.json)
    seconds = time.perf_counter() - started - pretrain_seconds
    write_text_atomic(cell_file, json.dumps(_json_safe({"identity": identity, "metrics": metrics, "seconds": seconds}),
                                            indent=1, default=str, allow_nan=False))
    return metrics


def _cell_dir(out, claim: Claim, arm: str, seed: int) -> Path:
    return Path(out) / claim.id / _slug(arm) / f"s{seed}"


def _pretrain_dir(cfg: Config, out, arm_overrides: dict, seed: int) -> Path:
    """The folder of the pretraining an arm's cells start from (shared by every arm of the same settings)."""
    return Path(out) / "pretrain" / f"{pretrain_key(cfg, _pretrain_config(cfg, arm_overrides))}_s{seed}"


def recorded_compute(cfg: Config, out, claims: Sequence[Claim], seeds: Sequence[int]) -> dict:
    """The compute seconds the ledger's cells and pretrainings recorded when they were computed.

    A rerun reads finished cells back in seconds, so an invocation's own time says little about what the
    ledger costs; this sums what each cell (``cell.json``) and each distinct pretraining
    (``experiment.json``) recorded. Cells written before cells recorded their time count as unrecorded.
    Returns ``{"seconds", "cells", "cells_recorded", "pretrainings", "pretrainings_recorded"}``.
    """
    out = Path(out)
    cells = recorded = 0
    seconds = 0.0
    pretrain_dirs = set()
    for claim in claims:
        for arm, overrides in claim.arms.items():
            for seed in seeds:
                cells += 1
                cell_file = _cell_dir(out, claim, arm, seed) / "cell.json"
                saved = json.loads(cell_file.read_text()) if cell_file.is_file() else {}
                if isinstance(saved.get("seconds"), (int, float)):
                    recorded += 1
                    seconds += float(saved["seconds"])
                if _split_overrides(overrides)[0] == "pretrained":
                    pretrain_dirs.add(_pretrain_dir(cfg, out, overrides, seed))
    pre_recorded = 0
    for pre_dir in pretrain_dirs:
        saved_pre = pre_dir / "experiment.json"
        total = json.loads(saved_pre.read_text()).get("seconds", {}).get("total") if saved_pre.is_file() else None
        if isinstance(total, (int, float)):
            pre_recorded += 1
            seconds += float(total)
    return {"seconds": seconds, "cells": cells, "cells_recorded": recorded, "pretrainings": len(pretrain_dirs),
            "pretrainings_recorded": pre_recorded}


# ------------------------------------------------------------------------------------------ the ledger


def record_seeds(out, seeds: Sequence[int], claims: Sequence[str]) -> Path:
    """Write ``<out>/seeds.json`` before any result exists; refuse other seeds than those recorded there."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "seeds.json"
    seeds = [int(s) for s in seeds]
    if path.is_file():
        recorded = json.loads(path.read_text())
        if recorded.get("seeds") != seeds:
            raise PacekitError(f"{path} records seeds {recorded.get('seeds')}, fixed before its results; this run "
                               f"asks for {seeds}. Use the same --seeds to resume, or another --out")
        return path
    write_text_atomic(path, json.dumps({"seeds": seeds, "claims": list(claims),
                                "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1))
    return path


def _summary(values: list) -> dict:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return {"mean": float(np.mean(v)) if v else None,
            "sd": float(np.std(v, ddof=1)) if len(v) > 1 else None, "n": len(v)}


def _topk_summary(entries: list) -> dict:
    """``{k: {"mean", "sd", "n", "chance"}}`` over the seeds' ``topk`` records of a retrieval metric; empty when
    no seed has one."""
    if not any(e.get("topk") for e in entries):
        return {}
    summary = {}
    for k in dict.fromkeys(k for e in entries for k in e.get("topk") or {}):
        values = [(e.get("topk") or {}).get(k) for e in entries]
        chances = [c for e in entries for c in [(e.get("chance_topk") or {}).get(k)] if c is not None]
        summary[str(k)] = {**_summary(values), "chance": float(np.mean(chances)) if chances else None}
    return summary


def claim_rows(claim: Claim, cells: dict, seeds: Sequence[int]) -> dict:
    """The ledger entry of one claim from ``cells[arm][seed] -> metrics``: per-arm summaries and verdicts."""
    arms = {}
    for arm, overrides in claim.arms.items():
        per_metric = {}
        for metric in claim.metric:
            values = [cells[arm][s].get(metric, {}).get("value") for s in seeds]
            chances = [cells[arm][s].get(metric, {}).get("chance") for s in seeds]
            chances = [c for c in chances if c is not None]
            per_metric[metric] = {"values": values, **_summary(values),
                                  "chance": float(np.mean(chances)) if chances else None}
            topk = _topk_summary([cells[arm][s].get(metric, {}) for s in seeds])
            if topk:
                per_metric[metric]["topk"] = topk
        arms[arm] = {"overrides": overrides, "metrics": per_metric}
    comparisons = []
    for comp in claim.compare:
        worse_metric = comp.worse_metric or comp.metric
        a = arms[comp.better]["metrics"][comp.metric]["values"]
        b = arms[comp.worse]["metrics"][worse_metric]["values"]
        sides = [arms[comp.better]["metrics"][comp.metric], arms[comp.worse]["metrics"][worse_metric]]
        above_chance = all(m["mean"] is not None and (m["chance"] is None or m["mean"] > m["chance"])
                           for m in sides)
        usable = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
        stats = paired_ci([x for x, _ in usable], [y for _, y in usable])
        comparisons.append({
            "better": comp.better, "worse": comp.worse, "metric": comp.metric, "worse_metric": comp.worse_metric,
            "expect": comp.expect,
            "margin": comp.margin if comp.expect == "≈" else None, "paper": comp.paper,
            "differences": stats.diffs, "mean_difference": stats.mean, "sd_difference": stats.sd,
            "above_chance": above_chance,
            "ci95": [stats.lo, stats.hi],
            "verdict": verdict(stats.lo, stats.hi, comp.expect, comp.margin, above_chance)})
    return {"id": claim.id, "title": claim.title, "paper_ref": claim.paper_ref, "paper_says": claim.paper_says,
            "beyond_paper": claim.beyond_paper, "metrics": list(claim.metric), "arms": arms,
            "comparisons": comparisons, "curve": [list(t) for t in claim.curve]}


def _pct(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.1f}"


def _signed(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:+.1f}"


def _provenance(ledger: dict) -> list[str]:
    """Where and when the ledger was written, and by which command (ledgers before these fields: nothing)."""
    if not ledger.get("machine"):
        return []
    m = ledger["machine"]
    where = f"{m.get('cpu')}, {m.get('cores')} cores" + (f", {m['gpu']}" if m.get("gpu") else "")
    command = f" by `{ledger['command']}`" if ledger.get("command") else ""
    seconds = ledger.get("seconds", {}).get("total")
    took = f"; {seconds:.0f} s in this invocation (cells finished by an earlier one are read back)" if seconds else ""
    if ledger.get("jobs") is not None:
        threads = ledger.get("threads")
        took += (f", {ledger['jobs']} cell(s) at a time, each on "
                 + (f"{threads} torch thread(s)" if threads is not None else "torch's default threads"))
    lines = [f"Written {ledger.get('date')}{command} on {where} (torch {m.get('torch')}, Python {m.get('python')}){took}.",
             ""]
    compute = ledger.get("compute")
    if compute:
        lines += [f"Compute its cells recorded when they were computed: {compute['seconds'] / 60:.1f} min "
                  f"({compute['cells_recorded']} of {compute['cells']} cells and {compute['pretrainings_recorded']} of "
                  f"{compute['pretrainings']} pretrainings recorded their time; the rest were computed before cells "
                  "recorded it).", ""]
    return lines


def _metric_text(comp: dict) -> str:
    return f"{comp['metric']} vs {comp['worse_metric']}" if comp.get("worse_metric") else comp["metric"]


def _topk_table(entry: dict) -> list[str]:
    """Each arm's retrieval at every k of Sec. 4.4 (Tables 4/5's columns), when its cells kept them."""
    rows = [(arm, metric, m["topk"]) for arm, a in entry["arms"].items() for metric, m in a["metrics"].items()
            if m.get("topk")]
    if not rows:
        return []
    ks = list(dict.fromkeys(k for _, _, topk in rows for k in topk))
    lines = ["", "Retrieval at every k (Sec. 4.4; top-1 is the column above):", "",
             "| arm | metric | " + " | ".join(f"top-{k}" for k in ks) + " |", "|---|---|" + "---|" * len(ks)]
    for arm, metric, topk in rows:
        cells = []
        for k in ks:
            m = topk.get(k, {"mean": None, "sd": None, "chance": None})
            sd = f" ± {_pct(m['sd'])}" if m["sd"] is not None else ""
            cells.append(f"{_pct(m['mean'])}{sd} ({_pct(m['chance'])})")
        lines.append(f"| {arm} | {metric} | " + " | ".join(cells) + " |")
    return lines


def format_ledger(ledger: dict) -> str:
    """The ledger as Markdown: the rule, a summary of verdicts, then each claim's arms and comparisons."""
    lines = ["# The paper's claims, shown", "",
             f"Preset `{ledger['preset']}`, seeds {ledger['seeds']} (fixed before any result: `seeds.json`). "
             "Numbers are percentages; `mean ± sd` over the seeds; chance levels in parentheses.", "",
             *_provenance(ledger),
             "**Verdict rule.** " + ledger["verdict_rule"], "",
             "| claim | comparison | metric | kit difference | 95% CI | verdict |", "|---|---|---|---|---|---|"]
    for c in ledger["claims"]:
        for comp in c["comparisons"]:
            lines.append(f"| {c['id']} | {comparison_label(comp)} | {_metric_text(comp)} | "
                         f"{_signed(comp['mean_difference'])} | [{_signed(comp['ci95'][0])}, {_signed(comp['ci95'][1])}] "
                         f"| {comp['verdict']} |")
    for c in ledger["claims"]:
        lines += ["", f"## {c['id']}: {c['title']} ({c['paper_ref']})", "",
                  ("Beyond the paper. " if c["beyond_paper"] else "The paper says: ") + c["paper_says"], "",
                  "| arm | " + " | ".join(c["metrics"]) + " |", "|---|" + "---|" * len(c["metrics"])]
        for arm, entry in c["arms"].items():
            cells = []
            for metric in c["metrics"]:
                m = entry["metrics"][metric]
                sd = f" ± {_pct(m['sd'])}" if m["sd"] is not None else ""
                cells.append(f"{_pct(m['mean'])}{sd} (chance {_pct(m['chance'])})")
            lines.append(f"| {arm} | " + " | ".join(cells) + " |")
        lines += _topk_table(c)
        lines += ["", "| comparison | metric | paper | kit difference (per seed) | 95% CI | verdict |",
                  "|---|---|---|---|---|---|"]
        for comp in c["comparisons"]:
            per_seed = ", ".join(_signed(d) for d in comp["differences"])
            margin = f" (margin ±{_pct(comp['margin'])})" if comp["margin"] is not None else ""
            lines.append(f"| {comparison_label(comp)}{margin} | {_metric_text(comp)} | "
                         f"{comp['paper']} | {_signed(comp['mean_difference'])} ({per_seed}) | "
                         f"[{_signed(comp['ci95'][0])}, {_signed(comp['ci95'][1])}] | {comp['verdict']} |")
        if c.get("figure"):
            lines += ["", f"![{c['id']}]({c['figure']})"]
    described = ledger.get("metrics") or METRICS  # as the ledger was written
    lines += ["", "Metrics: " + "; ".join(f"*{k}*: {v}" for k, v in described.items()) + "."]
    return "\n".join(lines) + "\n"


def plot_claim(entry: dict):
    """One panel per metric: each arm's mean ± sd (per-seed dots), chance dashed. Returns the Figure."""
    import matplotlib.pyplot as plt  # deferred: a heavy optional dependency

    metrics = entry["metrics"]
    arms = list(entry["arms"])
    cols = len(metrics) if len(metrics) <= 4 else math.ceil(len(metrics) / 2)  # C1's six panels in two rows
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(4.0, 0.9 * len(arms) + 1.5) * cols, 3.6 * rows),
                             squeeze=False)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metrics):
        if entry.get("curve"):
            _plot_curve(ax, entry, metric)
            continue
        for i, arm in enumerate(arms):
            m = entry["arms"][arm]["metrics"][metric]
            values = [100 * v for v in m["values"] if v is not None]
            if m["mean"] is not None:
                ax.bar(i, 100 * m["mean"], yerr=100 * (m["sd"] or 0), color="C0", alpha=0.6, capsize=3)
            ax.plot([i] * len(values), values, "k.", ms=4)
            if m["chance"] is not None:
                ax.hlines(100 * m["chance"], i - 0.4, i + 0.4, colors="r", linestyles="--", lw=1)
        ax.set_xticks(range(len(arms)))
        ax.set_xticklabels(arms, rotation=30, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
        ax.set_ylabel("%")
    fig.suptitle(f"{entry['id']}: {entry['title']} (red dashes: chance)", fontsize=9)
    fig.tight_layout()
    return fig


def _plot_curve(ax, entry: dict, metric: str) -> None:
    """One line per series (mean ± sd over seeds) over the claim's x values, chance dashed."""
    xs = list(dict.fromkeys(x for _, _, x in entry["curve"]))
    for k, series in enumerate(dict.fromkeys(s for _, s, _ in entry["curve"])):
        points = [(xs.index(x), entry["arms"][arm]["metrics"][metric]) for arm, s, x in entry["curve"] if s == series]
        points = [(i, m) for i, m in points if m["mean"] is not None]
        ax.errorbar([i for i, _ in points], [100 * m["mean"] for _, m in points],
                    yerr=[100 * (m["sd"] or 0) for _, m in points], marker="o", capsize=3, color=f"C{k}", label=series)
    chances = [m["chance"] for a in entry["arms"].values() for m in [a["metrics"][metric]] if m["chance"] is not None]
    if chances:
        ax.axhline(100 * float(np.mean(chances)), color="r", ls="--", lw=1)
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs, fontsize=8)
    ax.set_xlabel("labelled videos")
    ax.set_ylabel("%")
    ax.set_title(metric, fontsize=9)
    ax.legend(fontsize=8)


def _pretrain_task(cfg: Config, out, claim_id: str, arm: str, seed: int) -> None:
    """A worker's task: one pretraining of the ledger (:func:`pretrain_arm`)."""
    pretrain_arm(cfg, out, get_claims([claim_id])[0], arm, seed)


def _cell_task(cfg: Config, out, claim_id: str, arm: str, seed: int, attention_videos: int) -> dict:
    """A worker's task: one cell of the ledger (:func:`run_cell`)."""
    return run_cell(cfg, out, get_claims([claim_id])[0], arm, seed, attention_videos)


def _ledger_tasks(cfg: Config, out: Path, selected: Sequence[Claim], seeds: Sequence[int], attention_videos: int,
                  jobs: int, cells: dict) -> list[Task]:
    """The tasks of the cells not finished yet (finished ones are read into ``cells[claim][arm][seed]``).

    One after the other (``jobs=1``) each cell pretrains when it needs to, in the claims' order. Side by
    side, each missing pretraining is a task of its own that its cells wait for (two workers must not run
    one pretraining twice into one folder), and the companion sets are written here first; the runs of a
    network other than the base config's (C1's R(2+1)D) start first, the longest work ahead.
    """
    tasks: list[Task] = []
    pretrain_keys: dict[Path, tuple] = {}
    for claim in selected:
        for arm in claim.arms:
            for seed in seeds:
                init, tcfg, pre_cfg, identity = _cell_plan(cfg, claim, arm, seed, attention_videos)
                saved = _saved_cell(_cell_dir(out, claim, arm, seed) / "cell.json", identity)
                if saved is not None:
                    cells[claim.id][arm][seed] = saved
                    continue
                costly = (tcfg.backbone, tcfg.width) != (cfg.backbone, cfg.width)
                after: tuple = ()
                if jobs > 1 and init == "pretrained":
                    pre_dir = _pretrain_dir(cfg, out, claim.arms[arm], seed)
                    if pre_dir not in pretrain_keys and _saved_pretraining(pre_dir, pre_cfg) is None:
                        # called for the companion set it writes: here, so that two workers never write one
                        _pretrain_config(cfg.replace(seed=seed), claim.arms[arm], write_companion=True)
                        pretrain_keys[pre_dir] = ("pretrain", str(pre_dir))
                        tasks.append(Task(pretrain_keys[pre_dir], _pretrain_task, (cfg, out, claim.id, arm, seed),
                                          priority=0 if costly else 2))
                    after = (pretrain_keys[pre_dir],) if pre_dir in pretrain_keys else ()
                tasks.append(Task(("cell", claim.id, arm, seed), _cell_task,
                                  (cfg, out, claim.id, arm, seed, attention_videos), after=after,
                                  priority=(1 if costly else 3) if jobs > 1 else 0))
    return tasks


def default_jobs(cfg: Config) -> int:
    """Cells the ledger runs side by side by default: one per ``cfg.threads`` of this process's CPUs on the
    CPU (:func:`pacekit.training.data.available_cpus`; ``threads`` None counts as all of them), one on a GPU."""
    if resolve_device(cfg.device).type != "cpu":
        return 1
    cpus = available_cpus()
    return max(1, cpus // (cfg.threads or cpus))


def run_ledger(cfg: Config, out, claims: Optional[Sequence[str]] = None, seeds: Sequence[int] = (0, 1, 2),
               preset: str = "claims", attention_videos: int = ATTENTION_VIDEOS, figures: bool = True,
               log: Optional[Callable[[str], None]] = None, command: Optional[str] = None, jobs: int = 1) -> dict:
    """Run the selected claims over ``seeds`` and write ``<out>/ledger.md``, ``ledger.json`` and figures.

    ``cfg`` is the base configuration (its dataset must be the synthetic set for the attention claim).
    The seeds are recorded first (:func:`record_seeds`); the ledger is rewritten after every claim whose
    cells are all done, so an interrupted run leaves what it finished, and a rerun reads finished cells back.
    ``jobs`` cells (and pretrainings) run side by side in worker processes (:func:`pacekit.parallel.run_tasks`),
    each on ``cfg.threads`` torch threads (None: this process's CPUs shared among the jobs); a cell's numbers
    depend on its thread count, not on ``jobs``. ``log`` gets a line as each cell finishes. Returns the ledger
    dict; ``seconds`` holds each claim's wall time when ``jobs`` is 1 and the whole run's otherwise.
    """
    log = log or (lambda message: None)
    out = Path(out)
    selected = get_claims(claims)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise PacekitError("seeds must name at least one seed")
    if jobs < 1:
        raise PacekitError(f"jobs must be at least 1, got {jobs}")
    threads = cfg.threads if cfg.threads is not None or jobs == 1 else max(1, available_cpus() // jobs)
    if jobs > 1:  # workers' progress bars would interleave; neither field changes a result
        cfg = cfg.replace(threads=threads, progress=False)
    record_seeds(out, seeds, [c.id for c in selected])
    ledger = {"preset": preset, "seeds": seeds, "verdict_rule": VERDICT_RULE, "config": cfg.to_dict(),
              "command": command, "machine": describe_machine(), "jobs": jobs, "threads": threads,
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "metrics": METRICS, "status": "running", "claims": [], "seconds": {},
              "synthetic_version": synthetic_version(cfg.root) if cfg.dataset == "synthetic" else None}
    cells = {claim.id: {arm: {} for arm in claim.arms} for claim in selected}
    tasks = _ledger_tasks(cfg, out, selected, seeds, attention_videos, jobs, cells)
    cell_count = sum(len(claim.arms) for claim in selected) * len(seeds)
    t0 = last_written = time.perf_counter()

    def write_finished_claims() -> None:
        nonlocal last_written
        while len(ledger["claims"]) < len(selected):
            claim = selected[len(ledger["claims"])]
            if any(len(cells[claim.id][arm]) < len(seeds) for arm in claim.arms):
                return
            entry = claim_rows(claim, cells[claim.id], seeds)
            if figures:
                import matplotlib.pyplot as plt

                fig = plot_claim(entry)
                entry["figure"] = f"claim_{claim.id}.png"
                fig.savefig(out / entry["figure"], dpi=90)
                plt.close(fig)
            ledger["claims"].append(entry)
            if jobs == 1:
                ledger["seconds"][claim.id] = time.perf_counter() - last_written
                last_written = time.perf_counter()
            write_ledger(ledger, out)

    def on_done(task: Task, result) -> None:
        if task.key[0] == "pretrain":
            log(f"pretraining {Path(task.key[1]).name}: done")
            return
        _, claim_id, arm, seed = task.key
        cells[claim_id][arm][seed] = result
        finished = sum(len(per_seed) for arms in cells.values() for per_seed in arms.values())
        log(f"{claim_id} | {arm} | seed {seed}: done ({finished} of {cell_count} cells)")
        write_finished_claims()

    write_finished_claims()  # claims read back whole
    run_tasks(tasks, jobs=jobs, threads=threads, on_done=on_done)
    ledger["status"] = "complete"
    ledger["seconds"]["total"] = time.perf_counter() - t0
    ledger["compute"] = recorded_compute(cfg, out, selected, seeds)
    write_ledger(ledger, out)
    return ledger


def _json_safe(value):
    """NaN and infinities as None (strict JSON has no NaN), through dicts and lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_ledger(ledger: dict, out) -> tuple[Path, Path]:
    """Write ``ledger.json`` (every number; a missing one as null) and ``ledger.md`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "ledger.json", json.dumps(_json_safe(ledger), indent=1, default=str, allow_nan=False))
    write_text_atomic(out / "ledger.md", format_ledger(ledger))
    return out / "ledger.md", out / "ledger.json"


__all__ = ["ATTENTION_VIDEOS", "CLAIMS", "CLAIM_IDS", "Claim", "Comparison", "METRICS", "PairedStats",
           "VERDICTS", "VERDICT_RULE", "attention_scores", "claim_rows", "comparison_label", "default_jobs",
           "format_ledger", "get_claims",
           "paired_ci", "plot_claim", "pretrain_arm", "pretrain_key", "record_seeds", "recorded_compute", "run_cell",
           "run_ledger", "t_critical_975", "verdict", "write_ledger"]
