"""One experiment pipeline: pretrain -> transfer -> evaluate, with one typed result.

:func:`run_experiment` is the single place where pacekit strings the paper's stages together:

1. **Pretrain** (Sec. 3): pace-pretrain the backbone without labels (or take ``cfg.pretrained``), and
   measure the pretext (pace) accuracy on the test split.
2. **Transfer** (4.1): for every initialisation (``"random"``, ``"pretrained"``), protocol (``"fine-tuned"``:
   the whole network; ``"linear probe"``: a new fc fitted at ``cfg.probe_lr`` on the frozen backbone's clip
   features, computed once, :mod:`pacekit.recipes.linear_probe`) and seed,
   train on the labelled subset. Every cell sees the same videos, clips and augmentations for its seed.
3. **Evaluate**: the 10-clip test evaluation of every cell (top-1, top-5, a histogram of the predicted
   classes so a constant predictor shows, the "N of M" coverage), and optionally nearest-neighbour
   retrieval (4.4) with each initialisation's frozen backbone, beside its chance level.

The quickstart (:mod:`pacekit.study.quickstart`), the notebooks (:func:`pacekit.teaching.notebook.pretrain_and_finetune`)
and the linear probe (:func:`linear_probe`) all call it. The result,
:class:`ExperimentResult`, holds plain numbers (``to_json`` / ``from_json`` round-trip them) plus the
trained models and evaluations of this process, which are not written.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import torch

from ..atomic import check_json, check_schema, damaged, read_json, result_text, write_text_atomic
from ..config import Config
from ..errors import one_line
from ..evaluation.attention import (
    attention_grid,
    attention_scores_of,
    attention_stage,
    plot_attention_grid,
)
from ..evaluation.recognition import EvalResult, PaceConfusionByClass, evaluate_videos, pace_confusion_by_class
from ..evaluation.retrieval import TOPK, run_retrieval, unavailable_feature
from ..owned import MARKER, Kind, check_folder, mark_folder
from ..pace import PaceSet
from ..recipes.linear_probe import run_linear_probe
from ..recipes.train import TrainResult, evaluate_on_test, finetune, pretrain
from ..training.data import eval_dataset, eval_workers
from ..training.loading import (
    build_pace_model,
    eval_split,
    eval_transform,
    load_model,
    model_from_checkpoint,
    resolve_device,
)
from ..training.loop import RUN_FOLDER

#: The initialisations an experiment compares.
INITS = ("random", "pretrained")
#: The transfer protocols: the whole network trained, or only a new fc on the frozen backbone.
PROTOCOLS = ("fine-tuned", "linear probe")
#: Retrieval features of the quickstart's scale: the paper's p5 (VCOP's feature, which needs a conv5 map of at
#: least 2x2 and is skipped on smaller crops, :attr:`ExperimentResult.retrieval_skipped`), pacekit's p5, p4.
SMALL_FEATURES = ("vcop", "p5", "p4")
#: The folder of an experiment that draws Fig. 5 (``attention_<init>.png``) beside its run folders.
EXPERIMENT_FOLDER = Kind("pacekit-experiment", "an experiment's runs and figures", files=(
    r"attention_[^/]+\.png", *(rf"[^/]+/(?:{pattern})" for pattern in RUN_FOLDER.files + (re.escape(MARKER),))))

#: ``trainer(cfg, stage, on_epoch_end) -> TrainResult`` with stage ``"pretrain"`` or ``"finetune"``.
Trainer = Callable[[Config, str, Optional[Callable[[dict], None]]], TrainResult]


@dataclass
class TransferOutcome:
    """One (initialisation, protocol, seed) cell: its training and its 10-clip test evaluation.

    Accuracies are fractions in [0, 1]. ``predicted_counts[c]`` is how many test videos were predicted as
    class ``c`` (it sums to ``num_evaluated``; a constant predictor puts everything in one bin), and
    ``label_counts[c]`` how many test videos are of class ``c``. ``evaluation`` (the
    :class:`pacekit.evaluation.recognition.EvalResult`) and ``run`` (the :class:`pacekit.recipes.train.TrainResult`) are kept in
    memory only.
    """

    init: str
    protocol: str
    seed: int
    top1: float
    top5: float
    train_accuracy: float
    predicted_counts: list[int]
    label_counts: list[int]
    num_evaluated: int
    num_listed: int
    run_dir: str
    classes: Optional[list[str]] = None
    evaluation: Any = field(default=None, repr=False, compare=False)
    run: Any = field(default=None, repr=False, compare=False)

    @property
    def coverage(self) -> str:
        """``"N of M"``: the test videos scored of those the split lists."""
        return f"{self.num_evaluated} of {self.num_listed}"

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.init, self.protocol, self.seed)

    @property
    def constant(self) -> bool:
        """Whether every test video got the same predicted class."""
        return sum(1 for n in self.predicted_counts if n) <= 1

    def to_dict(self) -> dict:
        values = {k: v for k, v in asdict(self).items() if k not in ("evaluation", "run")}
        values["coverage"] = self.coverage
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "TransferOutcome":
        return cls(**{k: v for k, v in values.items() if k != "coverage"})


@dataclass
class RetrievalOutcome:
    """Top-k retrieval (test videos query the training videos) of one initialisation's frozen backbone.

    ``topk`` and ``chance`` map k to a fraction; ``chance[k]`` is the expected top-k of a retrieval that
    ranks the gallery at random (given the classes' gallery sizes). ``feature`` names the feature and
    ``description`` says what it is.
    """

    init: str
    feature: str
    description: str
    topk: dict[int, float]
    chance: dict[int, float]
    num_queries: int
    num_gallery: int
    skipped_k: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "RetrievalOutcome":
        values = dict(values)
        values["topk"] = {int(k): float(v) for k, v in values["topk"].items()}
        values["chance"] = {int(k): float(v) for k, v in values["chance"].items()}
        return cls(**values)


@dataclass
class ExperimentResult:
    """Everything one :func:`run_experiment` measured; accuracies are fractions, ``seconds`` per stage.

    Attributes:
        out: the experiment's folder.
        config: the experiment's config as a plain dict (:meth:`pacekit.config.Config.to_dict`).
        inits, protocols, seeds: the grid that was run.
        outcomes: one :class:`TransferOutcome` per (init, protocol, seed), in that order.
        pretext_accuracy: pace accuracy of the pretrained model on the test split of the set it pretrained on
            (None without pretraining).
        pretext_train_accuracy: its last pretraining epoch's training accuracy (None without pretraining).
        pretext_by_class: the same test clips' pace answers split by action class, ``{"classes": [...],
            "counts": (C, M, M) nested lists}`` (:func:`pacekit.evaluation.recognition.pace_confusion_by_class`; None
            without pretraining); :meth:`pace_confusion_by_class` gives it back as that class.
        labelled_pretext_accuracy, labelled_pretext_by_class: the same model's pace answers on the labelled
            set's test split, when the pretraining read another set (``pretrain_cfg`` with another dataset or
            root: a companion set, as K-400 is for UCF101 in the paper); None otherwise.
            :meth:`labelled_pace_confusion_by_class` gives the split back.
        pretrained: the pretrained checkpoint the "pretrained" cells started from (None: none).
        retrieval: ``{init: [RetrievalOutcome per feature]}`` (empty without retrieval).
        retrieval_skipped: ``{feature: why}`` for the requested retrieval features the network cannot give at
            this crop (:func:`pacekit.evaluation.retrieval.unavailable_feature`: VCOP's needs a conv5 map of 2x2 or more).
        attention: ``{init: figure file name in out}``, the activation attention (Fig. 5) of each
            initialisation's backbone on the first test videos at every pace (empty without attention).
        attention_scores: ``{init: {"attention": [share, chance], "grad-cam": [share, chance]}}``: the share of
            each initialisation's activation attention (and Grad-CAM) at ``attention_stage`` inside the
            ground-truth mover masks of every test video at Fig. 5's paces, beside the masks' area
            (:func:`attention_scores`; empty unless asked). Random initialisation's share is the mean over the
            random networks of every transfer seed (``attention_draws``).
        attention_draws: ``{init: {"attention": [share, ...], "grad-cam": [share, ...]}}``: each scored network's
            share: the pretrained network's one, random initialisation's one per transfer seed in ``seeds``
            order (empty unless asked, and in results written before it was recorded).
        attention_stage: the stage the attention figures and scores read (:func:`pacekit.evaluation.attention.fig5_stage`:
            conv5 at the paper's sizes and for tiny-fine, conv3 for tiny on 56-pixel crops); None without them.
        seconds: ``pretrain``, ``pretext``, ``transfer``, ``evaluate``, ``retrieval``, ``attention``, ``total``.
        pretrain_run: the pretraining's :class:`pacekit.recipes.train.TrainResult` (in memory only).
    """

    out: str
    config: dict
    inits: list[str]
    protocols: list[str]
    seeds: list[int]
    outcomes: list[TransferOutcome]
    pretext_accuracy: Optional[float] = None
    pretext_train_accuracy: Optional[float] = None
    pretrained: Optional[str] = None
    retrieval: dict[str, list[RetrievalOutcome]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    attention: dict[str, str] = field(default_factory=dict)
    attention_scores: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    pretrain_run: Any = field(default=None, repr=False, compare=False)
    pretext_by_class: Optional[dict] = None
    labelled_pretext_accuracy: Optional[float] = None
    labelled_pretext_by_class: Optional[dict] = None
    attention_stage: Optional[str] = None
    retrieval_skipped: dict[str, str] = field(default_factory=dict)
    attention_draws: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def pace_confusion_by_class(self) -> Optional[PaceConfusionByClass]:
        """The pretext test clips' answers by action class (None without pretraining)."""
        return _split_from_dict(self.pretext_by_class)

    def labelled_pace_confusion_by_class(self) -> Optional[PaceConfusionByClass]:
        """The pretrained model's pace answers on the labelled set's test clips, by action class (None unless
        the pretraining read another set)."""
        return _split_from_dict(self.labelled_pretext_by_class)

    def outcome(self, init: str, protocol: str, seed: Optional[int] = None) -> TransferOutcome:
        """The cell of ``(init, protocol, seed)`` (seed: the first one by default)."""
        seed = self.seeds[0] if seed is None else seed
        for o in self.outcomes:
            if o.key == (init, protocol, seed):
                return o
        raise KeyError(f"no outcome for init={init!r}, protocol={protocol!r}, seed={seed}")

    def top1(self, init: str, protocol: str) -> list[float]:
        """Top-1 of ``(init, protocol)`` per seed, in seed order."""
        return [self.outcome(init, protocol, s).top1 for s in self.seeds]

    def top5(self, init: str, protocol: str) -> list[float]:
        return [self.outcome(init, protocol, s).top5 for s in self.seeds]

    def train_accuracy(self, init: str, protocol: str) -> list[float]:
        return [self.outcome(init, protocol, s).train_accuracy for s in self.seeds]

    def to_dict(self) -> dict:
        return {
            "out": self.out, "config": self.config, "inits": list(self.inits), "protocols": list(self.protocols),
            "seeds": list(self.seeds), "pretext_accuracy": self.pretext_accuracy,
            "pretext_train_accuracy": self.pretext_train_accuracy, "pretrained": self.pretrained,
            "pretext_by_class": self.pretext_by_class,
            "labelled_pretext_accuracy": self.labelled_pretext_accuracy,
            "labelled_pretext_by_class": self.labelled_pretext_by_class,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "retrieval": {init: [r.to_dict() for r in rows] for init, rows in self.retrieval.items()},
            "seconds": dict(self.seconds), "attention": dict(self.attention),
            # A share with no attention mass at all is NaN; JSON has no NaN, so it is written as null.
            "attention_scores": _finite_or_null(self.attention_scores),
            "attention_draws": _finite_or_null(self.attention_draws),
            "attention_stage": self.attention_stage, "retrieval_skipped": dict(self.retrieval_skipped),
        }

    def to_json(self, path=None) -> str:
        """Every number as the JSON of a result file (:func:`pacekit.atomic.result_text`); written to ``path``
        when given. Returns the text."""
        text = result_text(self.to_dict(), indent=1)
        if path is not None:
            write_text_atomic(path, text)
        return text

    @classmethod
    def from_dict(cls, values: dict, source: str = "the experiment's values") -> "ExperimentResult":
        """Inverse of :meth:`to_dict`. Values of another shape (a damaged ``experiment.json``) are a
        :class:`pacekit.errors.DamagedFileError` naming ``source``, never a result with wrong numbers."""
        check_json(values, source, EXPERIMENT_FIX, dict, keys=_EXPERIMENT_KEYS, optional={"attention_draws": dict})
        try:
            values = check_schema(values, source, EXPERIMENT_FIX)
            values["outcomes"] = [TransferOutcome.from_dict(check_json(o, source, EXPERIMENT_FIX, dict,
                                                                       optional=_OUTCOME_NUMBERS, where=f"outcomes[{i}]"))
                                  for i, o in enumerate(values["outcomes"])]
            values["retrieval"] = {init: [RetrievalOutcome.from_dict(r) for r in rows]
                                   for init, rows in values["retrieval"].items()}
            return cls(**values)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise damaged(source, f"not an experiment's results: {one_line(exc)}", EXPERIMENT_FIX) from None

    @classmethod
    def from_json(cls, text_or_path: Union[str, Path]) -> "ExperimentResult":
        """Inverse of :meth:`to_json`: from the JSON text or a file holding it (a damaged one is a
        :class:`pacekit.errors.DamagedFileError` naming the file)."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            path = Path(text_or_path)
            return cls.from_dict(read_json(path, EXPERIMENT_FIX), source=str(path))
        try:
            values = json.loads(text)
        except ValueError as exc:
            raise damaged("the experiment's JSON text", f"not valid JSON: {one_line(exc)}", EXPERIMENT_FIX) from None
        return cls.from_dict(values, source="the experiment's JSON text")


#: What to do about a damaged ``experiment.json``.
EXPERIMENT_FIX = "delete it and run the experiment again (its finished runs are reused, not retrained)"
_NUMBER_OR_NULL = (int, float, type(None))
_EXPERIMENT_KEYS = {"out": str, "config": dict, "inits": list, "protocols": list, "seeds": list, "outcomes": list,
                    "pretext_accuracy": _NUMBER_OR_NULL, "pretext_train_accuracy": _NUMBER_OR_NULL,
                        "labelled_pretext_accuracy": _NUMBER_OR_NULL, "pretrained": (str, type(None)),
                        "retrieval": dict, "seconds": dict, "attention": dict, "attention_scores": dict,
                        "retrieval_skipped": dict, "pretext_by_class": (dict, type(None)),
                        "labelled_pretext_by_class": (dict, type(None)), "attention_stage": (str, type(None))}
_OUTCOME_NUMBERS = {"top1": _NUMBER_OR_NULL, "top5": _NUMBER_OR_NULL, "train_accuracy": _NUMBER_OR_NULL,
                    "seed": int}


def _mean_of_finite(shares: list[float]) -> float:
    """The mean of the shares that exist (a map with no attention mass has none: NaN); NaN when none does."""
    finite = [x for x in shares if math.isfinite(x)]
    return float(np.mean(finite)) if finite else float("nan")


def _finite_or_null(scores: dict[str, dict[str, list[float]]]) -> dict:
    """``{init: {name: [number, ...]}}`` with a NaN (a map with no attention mass) as None: JSON has no NaN."""
    return {init: {k: [x if x is None or math.isfinite(x) else None for x in v] for k, v in d.items()}
            for init, d in scores.items()}


def _split_from_dict(values: Optional[dict]) -> Optional[PaceConfusionByClass]:
    if values is None:
        return None
    return PaceConfusionByClass(np.asarray(values["counts"], dtype=np.int64), list(values["classes"]))


#: Clips per test video the pretext (pace) accuracy is measured on, each at a random pace (seeded).
PRETEXT_CLIPS_PER_VIDEO = 4


def _pace_split(model, cfg: Config) -> tuple[float, dict]:
    """The pace answers on :data:`PRETEXT_CLIPS_PER_VIDEO` clips of each test video of ``cfg``'s set, split by action
    class: the overall accuracy (the split's diagonal) and the split as plain lists."""
    by_class = pace_confusion_by_class(model, cfg, "test", device=_device_of(model, cfg),
                                       batch_size=cfg.eval_batch_size * 2, clips_per_video=PRETEXT_CLIPS_PER_VIDEO)
    return by_class.overall_accuracy(), {"classes": by_class.classes, "counts": by_class.counts.tolist()}


def default_run_name(init: str, protocol: str, seed_index: int, num_seeds: int) -> str:
    """``fine-tuned_random``, ``linear_probe_pretrained_s2``, ...: the run folder of one cell."""
    return f"{protocol.replace(' ', '_')}_{init}" + (f"_s{seed_index}" if num_seeds > 1 else "")


def retrieval_chance(query_labels: Sequence[int], gallery_labels: Sequence[int], ks: Sequence[int]) -> dict[int, float]:
    """Expected top-k of a random ranking: the mean over queries of the probability that ``k`` gallery
    videos drawn without replacement include one of the query's class."""
    gallery = np.asarray(gallery_labels)
    total = len(gallery)
    counts = {int(c): int((gallery == c).sum()) for c in np.unique(np.asarray(query_labels))}
    chance = {}
    for k in ks:
        if k > total:
            continue
        miss = [math.comb(total - counts.get(int(q), 0), k) / math.comb(total, k) for q in query_labels]
        chance[int(k)] = float(1 - np.mean(miss)) if miss else float("nan")
    return chance


def _stage_trainer(reuse: Union[bool, Trainer], overwrite: bool) -> Trainer:
    if callable(reuse):
        return reuse

    def train(cfg: Config, stage: str, on_epoch_end=None) -> TrainResult:
        cfg = cfg.replace(resume=True) if reuse else cfg
        return (pretrain if stage == "pretrain" else finetune)(cfg, on_epoch_end, overwrite=overwrite)

    return train


def _device_of(model, cfg: Config) -> torch.device:
    try:
        return next(model.parameters()).device
    except (StopIteration, AttributeError):
        return torch.device(resolve_device(cfg.device))


def _retrieval_rows(init: str, model, cfg: Config, device, features, ks) -> list[RetrievalOutcome]:
    query, gallery = eval_dataset(cfg, "test"), eval_dataset(cfg, "train")
    results = run_retrieval(model, query, gallery, layers=features, ks=ks, device=device,
                            batch_size=cfg.eval_batch_size, num_workers=eval_workers(cfg),
                            transform=eval_transform(cfg), verbose=False)
    rows = []
    for name, r in results.items():
        q_labels = [query.records[i].label for i in (r.query_indices.tolist() if r.query_indices is not None
                                                      else range(r.num_queries))]
        g_labels = [gallery.records[i].label for i in (r.gallery_indices.tolist() if r.gallery_indices is not None
                                                        else range(r.num_gallery))]
        rows.append(RetrievalOutcome(init, name, r.feature, dict(r.topk), retrieval_chance(q_labels, g_labels, r.topk),
                                     r.num_queries, r.num_gallery, list(r.skipped_k)))
    return rows


def init_model(init: str, pre, pretrained: Optional[str], cfg: Config):
    """The backbone an initialisation transfers: the pretrained model, or a fresh one seeded with ``cfg.seed``."""
    device = resolve_device(cfg.device)
    if init == "pretrained":
        return pre.model if pre is not None else model_from_checkpoint(pretrained, device=device)[0]
    torch.manual_seed(cfg.seed)
    model = build_pace_model(cfg.replace(contrastive="none", projection=None), len(PaceSet.from_spec(cfg.pace_set)))
    return model.to(device)


def _attention_figure(init: str, model, cfg: Config, out: Path, num_videos: int, stage: str) -> str:
    """Fig. 5 for one initialisation: activation attention at ``stage`` (:func:`attention_stage`) on the first
    test videos at every pace."""
    import matplotlib.pyplot as plt  # deferred: a heavy optional dependency

    videos = [r.path for r in eval_dataset(cfg, "test").records[:num_videos]]
    grid = attention_grid(model, videos, paces=list(PaceSet.from_spec(cfg.pace_set)), clip_len=cfg.clip_len,
                          stage=stage, transform=eval_transform(cfg),
                          device=_device_of(model, cfg), frame_size=cfg.frame_size)
    fig = plot_attention_grid(grid)
    name = f"attention_{init}.png"
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / name, dpi=80)
    plt.close(fig)
    return name


@dataclass(frozen=True)
class ExperimentPlan:
    """What one :func:`run_experiment` measures: the grid of transfer cells and the evaluations beside it.

    Attributes:
        inits: ``"random"`` and/or ``"pretrained"``. The pretrained cells start from ``cfg.pretrained`` when
            it is set, else from a pretraining run.
        protocols: ``"fine-tuned"`` and/or ``"linear probe"`` (frozen backbone, fc at ``cfg.probe_lr``); none
            for a pretraining alone.
        seeds: the seeds of the transfer runs (None: ``cfg.seed`` alone).
        retrieval: also run nearest-neighbour retrieval with each initialisation's backbone, with
            ``features`` at top-``ks``.
        attention_figures: draw each initialisation's activation attention (Fig. 5) on this many test videos
            at every pace, as ``<out>/attention_<init>.png`` (0: no figure); ``out`` must then be new, empty or
            an experiment's folder already, and is marked as one.
        attention_score: also score each initialisation's attention against the mover masks
            (:func:`attention_scores`: every test video at Fig. 5's paces; needs the synthetic set).
    """

    inits: tuple[str, ...] = INITS
    protocols: tuple[str, ...] = PROTOCOLS
    seeds: Optional[tuple[int, ...]] = None
    retrieval: bool = True
    features: tuple[str, ...] = SMALL_FEATURES
    ks: tuple[int, ...] = TOPK
    attention_figures: int = 0
    attention_score: bool = False

    def __post_init__(self):
        for name in ("inits", "protocols", "features", "ks"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.seeds is not None:
            object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
            if not self.seeds:
                raise ValueError("seeds must name at least one seed")
        for init in self.inits:
            if init not in INITS:
                raise ValueError(f"init must be one of {INITS}, got {init!r}")
        for protocol in self.protocols:
            if protocol not in PROTOCOLS:
                raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        if int(self.attention_figures) < 0:
            raise ValueError(f"attention_figures must be >= 0, got {self.attention_figures}")

    def seeds_of(self, cfg: Config) -> list[int]:
        """The transfer seeds: the plan's, or ``cfg.seed`` alone."""
        return list(self.seeds) if self.seeds is not None else [int(cfg.seed)]


class _Experiment:
    """The stages of one :func:`run_experiment`, in order; each adds to the result's values and ``seconds``."""

    def __init__(self, cfg: Config, plan: ExperimentPlan, out: Path, train: Trainer, reuse, overwrite: bool,
                 run_name: Callable[[str, str, int, int], str], on_epoch_end):
        self.cfg, self.plan, self.out, self.train = cfg, plan, out, train
        self.reuse, self.overwrite, self.run_name, self.on_epoch_end = reuse, overwrite, run_name, on_epoch_end
        self.seconds = {"pretrain": 0.0, "pretext": 0.0, "transfer": 0.0, "evaluate": 0.0, "retrieval": 0.0,
                        "attention": 0.0}
        self.pre: Optional[TrainResult] = None
        self.pretrained: Optional[str] = cfg.pretrained
        self.values: dict[str, Any] = {}   # the ExperimentResult's fields measured so far

    def pretrain(self, pretrain_cfg: Optional[Config]) -> None:
        """Pretrain (unless ``cfg.pretrained`` is given or no cell starts from it) and measure the pretext."""
        if "pretrained" not in self.plan.inits or self.pretrained is not None:
            return
        cfg, out = self.cfg, self.out
        pre_cfg = (pretrain_cfg if pretrain_cfg is not None else cfg.replace(name="pretrain")).replace(
            out_dir=str(out), pretrained=None)
        t = time.perf_counter()
        self.pre = self.train(pre_cfg, "pretrain", self.on_epoch_end)
        self.seconds["pretrain"] = time.perf_counter() - t
        t = time.perf_counter()
        v = self.values
        v["pretext_accuracy"], v["pretext_by_class"] = _pace_split(self.pre.model, pre_cfg)
        if (pre_cfg.dataset, pre_cfg.root) != (cfg.dataset, cfg.root):   # pretrained on a companion set
            v["labelled_pretext_accuracy"], v["labelled_pretext_by_class"] = _pace_split(self.pre.model, cfg)
        v["pretext_train_accuracy"] = self.pre.final("acc")
        self.seconds["pretext"] = time.perf_counter() - t
        self.pretrained = str(self.pre.checkpoint)

    def transfer(self, seeds: Sequence[int]) -> list[TransferOutcome]:
        """Every (seed, init, protocol) cell, trained and evaluated on the test split."""
        outcomes = []
        pretrained_test_features = None  # the frozen pretrained backbone's test features serve every seed's probe
        for k, seed in enumerate(seeds):
            for init in self.plan.inits:
                for protocol in self.plan.protocols:
                    run_cfg = self.cfg.replace(name=self.run_name(init, protocol, k, len(seeds)), seed=seed,
                                               pretrained=self.pretrained if init == "pretrained" else None,
                                               freeze_backbone=protocol == "linear probe")
                    if protocol == "linear probe":
                        t = time.perf_counter()
                        run, result, probe_test = run_linear_probe(
                            run_cfg.replace(resume=run_cfg.resume or bool(self.reuse)), resolve_device(run_cfg.device),
                            overwrite=self.overwrite,
                            test=pretrained_test_features if init == "pretrained" else None)
                        if init == "pretrained":
                            pretrained_test_features = probe_test
                        self.seconds["transfer"] += time.perf_counter() - t
                    else:
                        run, result = self._finetune(run_cfg)
                    outcomes.append(_outcome(init, protocol, seed, run, result))
        return outcomes

    def _finetune(self, run_cfg: Config) -> tuple[TrainResult, EvalResult]:
        t = time.perf_counter()
        run = self.train(run_cfg, "finetune", self.on_epoch_end)
        self.seconds["transfer"] += time.perf_counter() - t
        t = time.perf_counter()
        result = evaluate_on_test(run.model, run_cfg, _device_of(run.model, run_cfg))
        self.seconds["evaluate"] += time.perf_counter() - t
        return run, result

    def model(self, init: str):
        return init_model(init, self.pre, self.pretrained, self.cfg)

    def retrieval(self) -> None:
        """Nearest-neighbour retrieval with each initialisation's frozen backbone."""
        cfg, rows, skipped = self.cfg, {}, {}
        t = time.perf_counter()
        for init in self.plan.inits:
            model = self.model(init)
            if not rows:  # every init has the same architecture: the same features are available
                clip_shape = (3, cfg.clip_len, cfg.crop, cfg.crop)
                skipped = {f: why for f in self.plan.features for why in [unavailable_feature(model, clip_shape, f)]
                           if why}
            available = [f for f in self.plan.features if f not in skipped]
            rows[init] = (_retrieval_rows(init, model, cfg, _device_of(model, cfg), available, self.plan.ks)
                          if available else [])
        self.seconds["retrieval"] = time.perf_counter() - t
        self.values.update(retrieval=rows, retrieval_skipped=skipped)

    def attention(self) -> None:
        """Fig. 5's figures and/or the attention's share inside the mover masks, per initialisation."""
        figures: dict[str, str] = {}
        scores: dict[str, dict[str, list[float]]] = {}
        stage = None  # every init has the same architecture, so the same stage: found once
        t = time.perf_counter()
        if self.plan.attention_figures:
            for init in self.plan.inits:
                model = self.model(init)
                stage = stage or attention_stage(model, self.cfg)
                figures[init] = _attention_figure(init, model, self.cfg, self.out, self.plan.attention_figures, stage)
        draws: dict[str, dict[str, list[float]]] = {}
        if self.plan.attention_score:
            for init in self.plan.inits:
                # Random initialisation is a distribution: its share is the mean over the random networks the
                # transfer seeds start from, as the probe's and fine-tuning's random arms are.
                models = ([self.model(init)] if init == "pretrained" else
                          [init_model(init, None, None, self.cfg.replace(seed=seed))
                           for seed in self.plan.seeds_of(self.cfg)])
                stage = stage or attention_stage(models[0], self.cfg)
                measured = attention_scores_of(models, self.cfg, with_grad_cam=True, stage=stage)
                draws[init] = {name: [float(m[name][0]) for m in measured] for name in measured[0]}
                scores[init] = {name: [_mean_of_finite(shares), float(measured[0][name][1])]
                                for name, shares in draws[init].items()}
        self.seconds["attention"] = time.perf_counter() - t
        self.values.update(attention=figures, attention_scores=scores, attention_draws=draws, attention_stage=stage)


def _outcome(init: str, protocol: str, seed: int, run: TrainResult, result: EvalResult) -> TransferOutcome:
    num_classes = result.probs.shape[1]
    return TransferOutcome(
        init=init, protocol=protocol, seed=seed, top1=float(result.top1), top5=float(result.top5),
        train_accuracy=float(run.final("acc")),
        predicted_counts=np.bincount(result.predictions, minlength=num_classes).tolist(),
        label_counts=np.bincount(result.labels, minlength=num_classes).tolist(),
        num_evaluated=int(result.num_evaluated), num_listed=int(result.num_listed), run_dir=str(run.run_dir),
        classes=list(result.classes) if result.classes is not None else None, evaluation=result, run=run)


def run_experiment(cfg: Config, plan: Optional[ExperimentPlan] = None, out=None, *,
                   pretrain_cfg: Optional[Config] = None, reuse: Union[bool, Trainer] = False, overwrite: bool = False,
                   run_name: Optional[Callable[[str, str, int, int], str]] = None,
                   on_epoch_end: Optional[Callable[[dict], None]] = None) -> ExperimentResult:
    """Pretrain, transfer every (init, protocol, seed) cell of ``plan``, evaluate; see the module docstring.

    Args:
        cfg: the configuration of the transfer runs (its dataset, schedule, labelled subset).
        plan: what to measure (:class:`ExperimentPlan`; default: both inits, both protocols, ``cfg.seed``,
            retrieval).
        out: the folder all runs go to (default ``cfg.out_dir``).
        pretrain_cfg: the pretraining's configuration (default ``cfg`` named ``pretrain``).
        reuse: False trains (a folder holding another run is refused unless ``overwrite`` or ``cfg.resume``);
            True continues each run from its folder, so a finished one is loaded without training (a run
            of other settings is refused); a callable ``trainer(cfg, stage, on_epoch_end)`` trains or loads
            each stage itself (the notebooks' load-or-train).
        overwrite: replace the runs an earlier experiment left in the run folders.
        run_name: ``run_name(init, protocol, seed_index, num_seeds)`` -> the cell's run name
            (default :func:`default_run_name`).
        on_epoch_end: passed to every training run.
    """
    plan = plan if plan is not None else ExperimentPlan()
    seeds = plan.seeds_of(cfg)
    out = Path(out if out is not None else cfg.out_dir)
    cfg = cfg.replace(out_dir=str(out))
    if plan.attention_figures:  # the figures go into out itself, beside the run folders (each marked on its own)
        check_folder(out, EXPERIMENT_FOLDER, "Give the experiment a new or empty out folder.")
        mark_folder(out, EXPERIMENT_FOLDER)
    t0 = time.perf_counter()
    run = _Experiment(cfg, plan, out, _stage_trainer(reuse, overwrite), reuse, overwrite,
                      run_name or default_run_name, on_epoch_end)
    run.pretrain(pretrain_cfg)
    outcomes = run.transfer(seeds)
    if plan.retrieval:
        run.retrieval()
    if plan.attention_figures or plan.attention_score:
        run.attention()
    run.seconds["total"] = time.perf_counter() - t0
    return ExperimentResult(out=str(out), config=cfg.to_dict(), inits=list(plan.inits),
                            protocols=list(plan.protocols), seeds=seeds, outcomes=outcomes,
                            pretrained=run.pretrained, seconds=run.seconds, pretrain_run=run.pre, **run.values)


def probe_experiment(cfg) -> ExperimentResult:
    """The linear probe as an experiment: one cell, ``cfg.pretrained``'s backbone (random init without
    one), ``cfg.seed``, the run folder ``cfg.run_dir``, no retrieval."""
    init = "pretrained" if cfg.pretrained else "random"
    return run_experiment(cfg, ExperimentPlan(inits=(init,), protocols=("linear probe",), seeds=(cfg.seed,),
                                              retrieval=False),
                          cfg.out_dir, run_name=lambda *_: cfg.name)


def linear_probe(cfg, finetuned=None, device=None) -> dict[str, EvalResult]:
    """Train a linear classifier on ``cfg.pretrained``'s frozen backbone and evaluate it (10 clips).

    The backbone stays in eval mode (its BatchNorm statistics frozen) and only the new fc is fitted, at
    ``cfg.probe_lr``, on its cached clip features (:func:`probe_experiment`). With ``finetuned`` (a fine-tuning checkpoint of the same
    backbone) that model is evaluated on the same test split, so the two read side by side. Returns
    ``{"linear probe": EvalResult, "fine-tuned": EvalResult}`` (the second if asked).
    """
    probe = probe_experiment(cfg).outcomes[0]
    device = device if device is not None else next(probe.run.model.parameters()).device
    results = {"linear probe": probe.evaluation}
    if finetuned is not None:
        loaded = load_model(checkpoint=finetuned, device=device)
        if loaded.stage != "finetune":
            raise ValueError(f"--finetuned {finetuned} is a {loaded.stage} checkpoint; give a fine-tuning checkpoint")
        test = eval_split(loaded, cfg.dataset, cfg.root, "test", cfg.split, cfg.max_videos, cfg.num_clips)
        results["fine-tuned"] = evaluate_videos(loaded.model, test, device, cfg.eval_batch_size,
                                                eval_workers(cfg), loaded.transform())
    return results


__all__ = ["PRETEXT_CLIPS_PER_VIDEO", "INITS", "PROTOCOLS", "SMALL_FEATURES", "ExperimentResult", "RetrievalOutcome", "TransferOutcome",
           "ExperimentPlan", "default_run_name", "init_model", "linear_probe", "probe_experiment", "retrieval_chance", "run_experiment"]
