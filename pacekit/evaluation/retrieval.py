"""Nearest-neighbour video retrieval: VCOP, p5 and p4 features, chunked cosine kNN, top-k (paper 4.4).

The protocol (paper 4.4, after VCOP and VCP):

1. Every video gives ten 16-frame clips spaced uniformly over it (the ``eval`` dataset mode), centre
   cropped. The frozen backbone maps each clip to one or more features:

   - ``vcop``: the feature of VCOP's retrieval code (Xu et al., CVPR 2019), which the paper says it
     follows for "the last pooling layer (p5)": the conv5 map ``(C, T', H', W')``, max-pooled with
     kernel and stride ``(1, 2, 2)`` (no padding, so ``H'' = floor(H'/2)``), then flattened to
     ``C * T' * floor(H'/2) * floor(W'/2)`` values (:func:`vcop_feature`). For 16x112x112 clips at
     width 1: R3D, R(2+1)D, R3D-18 and C3D (its conv5, before C3D's own pool5) give conv5 maps of
     512 x 2 x 7 x 7, hence 512 x 2 x 3 x 3 = 9,216 values; S3D-G's 1024 x 2 x 4 x 4 gives
     1024 x 2 x 2 x 2 = 8,192. It needs a conv5 map at least 2x2 in space (pacekit's ``tiny`` network
     on 32x32 crops has 1x1). This is the feature of the paper's Tables 4 and 5 as pacekit reproduces
     them: :data:`PAPER_FEATURES` (``vcop`` for their p5 rows, ``p4``) is the default of
     :func:`run_retrieval` and of ``pacekit retrieve``.
   - ``p5``: pacekit's global average of the conv5 map, ``(embed_dim,)``, 512-d for the paper's networks
     (the embedding the pace head sees; not comparable with the paper's p5 rows);
   - ``p4``: the second-last, defined in pacekit as the global average of the conv4 map over its time,
     height and width (``backbone.forward_stages``). The authors' networks have no separate pool4 layer
     for R3D / R(2+1)D, and C3D's pool4 is a 2x2x2 max pool that leaves a spatial map; a global
     average gives one vector per clip at any input size.

2. A video's feature is the mean of its ten clip features (taken before any normalisation).
3. Each test video queries the training videos by cosine similarity; it is a hit at ``k`` if any of
   its ``k`` nearest training videos has its action class. Top-k accuracy is the fraction of hits, for
   k = 1, 5, 10, 20, 50 (Tables 4 and 5).

Every readable video of both splits is used: no batch is dropped (VCOP's script loses up to 7 videos per
split through ``drop_last``), and the counts are printed. A video that cannot be read (or that Kinetics
lists but is missing on disk) is left out of its side, queries or gallery, and named with the reason;
it is never replaced by another video. The similarity is computed in blocks of
``chunk_size`` queries x ``chunk_size`` gallery videos, keeping a running top-k, so memory stays bounded
however large the splits are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data.datasets import LeftOutVideo
from ..data.strips import read_strip, spread_indices
from ..models import backbone_of, stage_shapes
from ..models.modes import evaluating
from ..owned import Kind
from .recognition import left_out_note, over_eval_videos

logger = logging.getLogger("pacekit.evaluation")

#: The folder of a retrieval's results (``pacekit retrieve``), marked and checked by :mod:`pacekit.owned`.
RETRIEVAL_FOLDER = Kind("pacekit-retrieval", "a retrieval's results", files=(
    r"retrieval\.json", r"examples\.png", r"\.(retrieval\.json)\..+\.tmp"), required=r"retrieval\.json")

#: The k of Tables 4 and 5.
TOPK = (1, 5, 10, 20, 50)
#: Layers whose pooled features ``backbone.forward_stages`` provides.
LAYERS = ("p5", "p4")
#: Every feature retrieval offers: VCOP's pooled-and-flattened conv5 beside the pooled layers.
FEATURES = ("vcop", "p5", "p4")
#: The features of the paper's Tables 4 and 5 as pacekit reproduces them: VCOP's for the "p5" rows, p4.
PAPER_FEATURES = ("vcop", "p4")
#: What each feature is, for printouts, ``retrieval.json`` and :attr:`RetrievalResult.feature`.
FEATURE_DESCRIPTIONS = {
    "vcop": "VCOP's feature: conv5 max-pooled (1,2,2), flattened (the paper's p5, Tables 4/5)",
    "p5": "pacekit's p5: global average of conv5 (embedding; not the paper's p5 feature)",
    "p4": "pacekit's p4: global average of conv4",
}


def describe_feature(name: str) -> str:
    """One line on what feature ``name`` is (``name`` itself for a feature pacekit does not define)."""
    return FEATURE_DESCRIPTIONS.get(name, name)


def vcop_feature(conv5: torch.Tensor) -> torch.Tensor:
    """VCOP's retrieval feature of a conv5 map: float ``(B, C, T', H', W')`` -> ``(B, C * T' * H'' * W'')``.

    ``max_pool3d`` with kernel = stride = ``(1, 2, 2)``, no padding (``H'' = floor(H' / 2)``), then a
    flatten in ``(C, T', H'', W'')`` order; 9,216 values for R3D / R(2+1)D / C3D at 16x112x112 (see the
    module docstring for every backbone).
    """
    if conv5.dim() != 5:
        raise ValueError(f"the VCOP feature takes a conv5 map (B, C, T, H, W), got shape {tuple(conv5.shape)}")
    if min(conv5.shape[-2:]) < 2:
        raise ValueError(f"the VCOP feature max-pools conv5 over 2x2 in space, but this conv5 map is "
                         f"{conv5.shape[-2]}x{conv5.shape[-1]}; use larger crops or the p5 / p4 features")
    return F.max_pool3d(conv5, kernel_size=(1, 2, 2), stride=(1, 2, 2)).flatten(1)


def unavailable_feature(backbone: nn.Module, clip_shape: Sequence[int], feature: str) -> Optional[str]:
    """Why ``backbone`` (or a model around one) cannot give ``feature`` for clips of ``clip_shape``
    ``(C, T, H, W)``, or None when it can: VCOP's feature needs a conv5 map of at least 2x2 in space (the
    ``tiny`` network's is 1x1 on 32-pixel crops). The map's size comes from :func:`pacekit.models.stage_shapes`."""
    if feature != "vcop":
        return None
    height, width = stage_shapes(backbone, clip_shape)["conv5"][-2:]
    if min(height, width) < 2:
        return (f"VCOP's feature max-pools conv5 over 2x2 in space; this network's conv5 is {height}x{width} on "
                f"{clip_shape[-2]}x{clip_shape[-1]} crops")
    return None


# --------------------------------------------------------------------------------------------
# Chunked cosine k-nearest neighbours
# --------------------------------------------------------------------------------------------


def cosine_knn(
    queries: torch.Tensor, gallery: torch.Tensor, k: int, chunk_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` gallery rows most cosine-similar to each query row.

    Args:
        queries: float ``(Nq, D)``.
        gallery: float ``(Ng, D)``.
        k: neighbours per query, ``1 <= k <= Ng``.
        chunk_size: the similarity is computed in blocks of at most ``chunk_size x chunk_size``;
            memory is ``O(chunk_size^2 + Nq * k)``, never ``Nq x Ng``.

    Returns:
        ``(similarities, indices)``, both ``(Nq, k)``, sorted from most to least similar; indices point
        into ``gallery``. Among equal similarities the lower gallery index comes first. A zero feature
        vector has similarity 0 to everything.
    """
    if queries.dim() != 2 or gallery.dim() != 2 or queries.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"expected queries (Nq, D) and gallery (Ng, D) with the same D, got {tuple(queries.shape)} "
            f"and {tuple(gallery.shape)}"
        )
    num_gallery = gallery.shape[0]
    if not 1 <= k <= num_gallery:
        raise ValueError(f"k must be between 1 and the gallery size {num_gallery}, got {k}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    q = F.normalize(queries.float(), dim=1)
    g = F.normalize(gallery.float(), dim=1)
    best_sim, best_idx = [], []
    for q_start in range(0, q.shape[0], chunk_size):
        q_chunk = q[q_start : q_start + chunk_size]  # (nq, D)
        run_sim = q_chunk.new_empty((q_chunk.shape[0], 0))
        run_idx = torch.empty((q_chunk.shape[0], 0), dtype=torch.int64, device=q.device)
        for g_start in range(0, num_gallery, chunk_size):
            sim = q_chunk @ g[g_start : g_start + chunk_size].T  # (nq, ng)
            kk = min(k, sim.shape[1])
            s, i = _stable_topk(sim, kk)
            # Running candidates come from earlier (lower-index) chunks, so putting them first keeps
            # ties in gallery order.
            run_sim = torch.cat([run_sim, s], 1)
            run_idx = torch.cat([run_idx, i + g_start], 1)
            if run_sim.shape[1] > k:
                s, order = _stable_topk(run_sim, k)
                run_sim, run_idx = s, run_idx.gather(1, order)
        best_sim.append(run_sim)
        best_idx.append(run_idx)
    return torch.cat(best_sim), torch.cat(best_idx)


def _stable_topk(values: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k along dim 1 with ties broken by position (a stable descending sort)."""
    s, i = torch.sort(values, dim=1, descending=True, stable=True)
    return s[:, :k], i[:, :k]


def topk_hits(neighbour_labels: torch.Tensor, query_labels: torch.Tensor, ks: Sequence[int] = TOPK) -> dict[int, float]:
    """Top-k retrieval accuracy: the fraction of queries with their class among the first ``k`` neighbours.

    Args:
        neighbour_labels: ``(Nq, K)`` class of each query's neighbours, nearest first, ``K >= max(ks)``.
        query_labels: ``(Nq,)``.
    """
    neighbour_labels = torch.as_tensor(neighbour_labels)
    query_labels = torch.as_tensor(query_labels)
    if neighbour_labels.shape[0] != query_labels.shape[0]:
        raise ValueError(f"{neighbour_labels.shape[0]} rows of neighbours for {query_labels.shape[0]} queries")
    if ks and max(ks) > neighbour_labels.shape[1]:
        raise ValueError(f"top-{max(ks)} needs {max(ks)} neighbours per query, got {neighbour_labels.shape[1]}")
    match = neighbour_labels == query_labels[:, None]  # (Nq, K)
    hit_rank = torch.where(match.any(1), match.float().argmax(1), torch.full_like(query_labels, 1 << 30))
    return {int(k): float((hit_rank < k).float().mean()) for k in ks}


@dataclass
class RetrievalResult:
    """Top-k accuracy of one layer's features, with the neighbours that gave it.

    Attributes:
        layer: the feature's name: ``vcop``, ``p5``, ``p4`` (or any name given).
        feature: what that feature is (:func:`describe_feature`), so that a number never travels without it.
        topk: k -> accuracy in [0, 1], for every k the gallery is large enough for.
        skipped_k: the k larger than the gallery (not computable; listed, never silently dropped).
        neighbours: ``(Nq, K)`` gallery indices, nearest first (K = the largest computed k).
        similarities: ``(Nq, K)`` their cosine similarities.
        num_queries, num_gallery: videos used on each side (the rows of the queries and of the gallery).
        query_indices, gallery_indices: ``(Nq,)`` and ``(Ng,)``, the dataset record of each row (None: row
            ``i`` is record ``i``); rows and records differ once a video is left out.
        queries_listed, gallery_listed: videos each split lists (None: the ones used).
        query_left_out, gallery_left_out: ``(name, reason)`` of the listed videos each side left out.

    ``num_listed``, ``num_evaluated`` and ``left_out`` add up both sides.
    """

    layer: str
    topk: dict[int, float]
    neighbours: torch.Tensor
    similarities: torch.Tensor
    num_queries: int
    num_gallery: int
    skipped_k: list[int] = field(default_factory=list)
    query_indices: Optional[torch.Tensor] = None
    gallery_indices: Optional[torch.Tensor] = None
    queries_listed: Optional[int] = None
    gallery_listed: Optional[int] = None
    query_left_out: list[LeftOutVideo] = field(default_factory=list)
    gallery_left_out: list[LeftOutVideo] = field(default_factory=list)
    feature: str = ""

    def __post_init__(self):
        if not self.feature:
            self.feature = describe_feature(self.layer)
        if self.queries_listed is None:
            self.queries_listed = self.num_queries + len(self.query_left_out)
        if self.gallery_listed is None:
            self.gallery_listed = self.num_gallery + len(self.gallery_left_out)

    @property
    def num_listed(self) -> int:
        return self.queries_listed + self.gallery_listed

    @property
    def num_evaluated(self) -> int:
        return self.num_queries + self.num_gallery

    @property
    def left_out(self) -> list[LeftOutVideo]:
        return list(self.query_left_out) + list(self.gallery_left_out)

    def query_record(self, row: int) -> int:
        """The query dataset's record index of query row ``row``."""
        return int(self.query_indices[row]) if self.query_indices is not None else int(row)

    def gallery_record(self, row: int) -> int:
        """The gallery dataset's record index of gallery row ``row`` (e.g. a neighbour)."""
        return int(self.gallery_indices[row]) if self.gallery_indices is not None else int(row)


def retrieve(
    query_features: torch.Tensor,
    query_labels: torch.Tensor,
    gallery_features: torch.Tensor,
    gallery_labels: torch.Tensor,
    ks: Sequence[int] = TOPK,
    chunk_size: int = 1024,
    layer: str = "features",
) -> RetrievalResult:
    """Top-k retrieval accuracy of queries ``(Nq, D)`` against a gallery ``(Ng, D)`` by cosine similarity."""
    query_labels = torch.as_tensor(query_labels).long().cpu()
    gallery_labels = torch.as_tensor(gallery_labels).long().cpu()
    if len(query_labels) != query_features.shape[0] or len(gallery_labels) != gallery_features.shape[0]:
        raise ValueError("each feature row needs one label (queries and gallery)")
    num_gallery = gallery_features.shape[0]
    usable = sorted(int(k) for k in ks if k <= num_gallery)
    skipped = sorted(int(k) for k in ks if k > num_gallery)
    if not usable:
        raise ValueError(f"the gallery has {num_gallery} videos, fewer than every k in {list(ks)}")
    sims, idx = cosine_knn(query_features, gallery_features, max(usable), chunk_size)
    idx = idx.cpu()
    accuracy = topk_hits(gallery_labels[idx], query_labels, usable)
    return RetrievalResult(layer, accuracy, idx, sims.cpu(), query_features.shape[0], num_gallery, skipped)


def format_table(results: Sequence[RetrievalResult], ks: Sequence[int] = TOPK) -> str:
    """A Tables 4/5-style text table: one row per feature, top-k accuracy in percent, then what each
    feature is."""
    header = "layer " + "".join(f"{'Top' + str(k):>8}" for k in ks)
    lines = [header]
    for r in results:
        cells = "".join(f"{100 * r.topk[k]:8.1f}" if k in r.topk else f"{'n/a':>8}" for k in ks)
        lines.append(f"{r.layer:<6}{cells}")
    for r in results:
        lines.append(f"  {r.layer}: {r.feature}")
    skipped = sorted({k for r in results for k in r.skipped_k})
    if skipped:
        lines.append(f"(n/a: top-{', '.join(map(str, skipped))} needs more than the {results[0].num_gallery} "
                     "gallery videos)")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------


@dataclass
class VideoFeatures:
    """Per-video features of a dataset: ``features[layer]`` is ``(N, D)`` (mean over clips), ``labels``
    and ``indices`` (dataset records) are ``(N,)`` in dataset order, one row per video read.

    ``num_listed`` counts the videos the split lists (None: the N read); ``left_out`` names those that
    have no row (unreadable, missing on disk) and why. No row ever holds another video's features.
    """

    features: dict[str, torch.Tensor]
    labels: torch.Tensor
    indices: torch.Tensor
    num_listed: Optional[int] = None
    left_out: list[LeftOutVideo] = field(default_factory=list)

    def __post_init__(self):
        if self.num_listed is None:
            self.num_listed = self.num_evaluated + len(self.left_out)

    @property
    def num_evaluated(self) -> int:
        return int(self.labels.shape[0])

    def describe(self) -> str:
        """``"11 of 12 videos used (1 left out: 1 undecodable (name))"``."""
        note = f" ({left_out_note(self.left_out)})" if self.left_out else ""
        return f"{self.num_evaluated:,} of {self.num_listed:,} videos used{note}"


@torch.inference_mode()
def clip_features(backbone: nn.Module, clips: torch.Tensor, layers: Sequence[str] = PAPER_FEATURES) -> dict[str, torch.Tensor]:
    """Video features from a batch of clip stacks: float ``(B, n, C, T, H, W)`` -> ``{feature: (B, D)}``,
    the mean over the ``n`` clips of each feature (``vcop``: :func:`vcop_feature` of conv5; ``p5``, ``p4``:
    the pooled layers of ``forward_stages``)."""
    b, n = clips.shape[:2]
    stages = backbone.forward_stages(clips.flatten(0, 1))  # (B*n, C, T, H, W) in
    out = {}
    for layer in layers:
        if layer == "vcop" and "conv5" in stages:
            value = vcop_feature(stages["conv5"].float())
        elif layer != "vcop" and layer in stages and stages[layer].dim() == 2:
            value = stages[layer].float()
        else:
            raise KeyError(f"feature {layer!r} is not one this backbone's forward_stages gives; use one of {FEATURES}")
        out[layer] = value.unflatten(0, (b, n)).mean(1)  # (B, D)
    return out


def extract_features(
    model: nn.Module,
    dataset,
    layers: Sequence[str] = PAPER_FEATURES,
    device="cpu",
    batch_size: int = 8,
    num_workers: int = 0,
    transform: Optional[nn.Module] = None,
) -> VideoFeatures:
    """Features of every video of an ``eval``-mode dataset, in dataset order, mean over its clips.

    Args:
        model: a backbone with ``forward_stages`` or a ClipModel (its backbone is used), run in eval mode.
        dataset: items ``{"video": (n, T, H, W, C) uint8, "label", "index"}`` (``build_dataset(...,
            mode="eval")``); every readable item is used (no ``drop_last``), unreadable ones and the
            split's videos missing on disk are listed in ``left_out``.
        transform: uint8 ``(B, n, T, H, W, C)`` -> float ``(B, n, C, T, h, w)``; default
            :class:`pacekit.data.ClipEval` (resize to 128x171, centre crop 112).

    Raises:
        pacekit.evaluation.recognition.NoUsableVideosError: not one video of the dataset could be read.
    """
    backbone = backbone_of(model)
    with evaluating(backbone):
        seen = over_eval_videos(dataset, lambda clips: {layer: value.cpu() for layer, value in
                                                        clip_features(backbone, clips, layers).items()},
                                "retrieval set", device, batch_size, num_workers, transform)
    features = {layer: torch.cat([batch[layer] for batch in seen.outputs]) for layer in layers}
    return VideoFeatures(features, seen.labels, seen.indices, seen.num_listed, seen.left_out)


# --------------------------------------------------------------------------------------------
# The qualitative figure
# --------------------------------------------------------------------------------------------


def frame_strip(path, num_frames: int = 4, frame_size=(64, 85)) -> np.ndarray:
    """``num_frames`` frames spread evenly over a video, side by side: uint8 ``(H, num_frames * W, 3)``."""
    frames = read_strip(path, lambda n: spread_indices(n, num_frames), size=frame_size)  # (n, H, W, C)
    return torch.cat(list(frames), dim=1).numpy()


def plot_retrieval_examples(
    result: RetrievalResult,
    query_dataset,
    gallery_dataset,
    queries: Optional[Sequence[int]] = None,
    num_neighbours: int = 3,
    num_frames: int = 4,
    frame_size=(64, 85),
):
    """Queries (rows) and their nearest training videos as frame strips; returns the Figure.

    Column 0 is the query (test video), columns 1..``num_neighbours`` its neighbours, nearest first,
    titled with class and cosine similarity; a neighbour of the query's class is framed green, else red.
    ``queries`` are query rows of ``result`` (default: 4 spread over them); rows map to the datasets'
    records through ``result.query_record`` / ``gallery_record`` (they differ once a video is left out).
    """
    import matplotlib.pyplot as plt

    num_neighbours = min(num_neighbours, result.neighbours.shape[1])
    if queries is None:
        queries = np.unique(np.round(np.linspace(0, result.num_queries - 1, min(4, result.num_queries))).astype(int))
    queries = [int(q) for q in queries]
    classes = query_dataset.classes
    fig, axes = plt.subplots(len(queries), num_neighbours + 1, figsize=(3.2 * (num_neighbours + 1), 1.3 * len(queries) + 0.6),
                             squeeze=False)
    for row, q in enumerate(queries):
        record = query_dataset.records[result.query_record(q)]
        cells = [(record, f"query: {classes[record.label]}", None)]
        for j in range(num_neighbours):
            neighbour = gallery_dataset.records[result.gallery_record(int(result.neighbours[q, j]))]
            hit = neighbour.label == record.label
            cells.append((neighbour, f"#{j + 1} {classes[neighbour.label]} ({result.similarities[q, j]:.2f})",
                          "tab:green" if hit else "tab:red"))
        for col, (rec, title, color) in enumerate(cells):
            ax = axes[row, col]
            ax.imshow(frame_strip(rec.path, num_frames, frame_size))
            ax.set_title(title, fontsize=8, color=color or "black")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_edgecolor(color or "black")
                spine.set_linewidth(2.5 if color else 1.0)
    fig.suptitle(f"{result.layer} features ({result.feature}): test queries and their nearest training videos")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def run_retrieval(
    model: nn.Module,
    query_dataset,
    gallery_dataset,
    layers: Sequence[str] = PAPER_FEATURES,
    ks: Sequence[int] = TOPK,
    device="cpu",
    batch_size: int = 8,
    num_workers: int = 0,
    transform: Optional[nn.Module] = None,
    chunk_size: int = 1024,
    verbose: bool = True,
) -> dict[str, RetrievalResult]:
    """The whole protocol: features of both splits, then each feature's top-k. Returns ``{feature: result}``.

    ``layers`` are the features (:data:`FEATURES`); the default, :data:`PAPER_FEATURES`, is what the
    paper's Tables 4/5 report (VCOP's feature for their p5 rows, and p4). Each result's ``feature`` says
    which feature it used.

    With ``verbose`` it logs each side's counts (on the ``pacekit.evaluation`` logger, :mod:`pacekit.console`): the videos used of those listed, and the ones left
    out (unreadable, missing on disk) with the reason -- never replaced by other videos.
    """
    gallery = extract_features(model, gallery_dataset, layers, device, batch_size, num_workers, transform)
    query = extract_features(model, query_dataset, layers, device, batch_size, num_workers, transform)
    for name, feats in (("gallery (train)", gallery), ("queries (test)", query)):
        if feats.num_evaluated + len(feats.left_out) != feats.num_listed:  # guards future loader changes
            raise RuntimeError(f"{name}: {feats.num_evaluated} videos read and {len(feats.left_out)} left out "
                               f"do not add up to the {feats.num_listed} listed")
        logger.log(logging.INFO if verbose else logging.DEBUG, "%s: %s", name, feats.describe())
    coverage = dict(query_indices=query.indices, gallery_indices=gallery.indices, queries_listed=query.num_listed,
                    gallery_listed=gallery.num_listed, query_left_out=query.left_out, gallery_left_out=gallery.left_out)
    return {
        layer: replace(retrieve(query.features[layer], query.labels, gallery.features[layer], gallery.labels, ks,
                                chunk_size, layer), **coverage)
        for layer in layers
    }
