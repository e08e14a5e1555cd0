"""The claims as data: each :class:`Claim`'s arms, metrics and comparisons (:data:`CLAIMS`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional, Sequence

from ...errors import PacekitError
from .statistics import DEFAULT_MARGIN

##: What each metric is; every one is a fraction in [0, 1].
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
                 "stage whose map is at least Fig. 5's 7x7 conv5 grid (on 56-pixel crops: conv5 for tiny-fine, "
                 "conv3 for tiny, conv4 for R(2+1)D), on every test video at paces 1-4",
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
#: The retrieval metrics and the feature each retrieves with (:func:`pacekit.evaluation.retrieval.run_retrieval`'s layers).
RETRIEVAL_FEATURES = {"retrieval": "p5", "retrieval vcop": "vcop", "retrieval p4": "p4"}


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
                                          ("fine-tuned", "72.0 (73.9 with colour jitter) vs 56.0 (Table 1, R(2+1)D)"),
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
        "known once the action is recognised, and on version 3 of the set the quickstart's network learned it to "
        "under 50% (docs/results.md). The "
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


def paper_numbers(claim_id: str, metric: str, better: Optional[str] = None, worse: Optional[str] = None) -> str:
    """The paper's numbers for one comparison of a claim, as the claims table states them (e.g.
    ``paper_numbers("C1", "fine-tuned")`` -> ``"72.0 (73.9 with colour jitter) vs 56.0 (Table 1, R(2+1)D)"``): the first comparison on
    ``metric`` whose arms are ``better`` and ``worse`` (any, when not given), else the first whose arms start
    with them."""
    claim = get_claims([claim_id])[0]
    on_metric = [c for c in claim.compare if c.metric == metric]
    for same in (lambda arm, want: want is None or arm == want, lambda arm, want: arm.startswith(want or "")):
        for c in on_metric:
            if same(c.better, better) and same(c.worse, worse):
                return c.paper
    raise KeyError(f"{claim_id} has no comparison on {metric!r} of {better!r} against {worse!r}")


__all__ = ["CLAIMS", "CLAIM_IDS", "Claim", "Comparison", "LABEL_COUNTS", "METRICS", "MODEL_FIELDS", "PAPER_BACKBONE_ARM", "RETRIEVAL_FEATURES", "TRANSFER_FIELDS", "comparison_label", "get_claims", "paper_numbers"]
