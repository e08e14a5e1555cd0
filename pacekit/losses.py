"""The training objectives of pace prediction: Eq. 1 (pace), Eq. 2 (same context), Eq. 3 (same pace), Eq. 4.

Every loss is a plain function over tensors, with a thin ``nn.Module`` wrapper at the end of the
file. The two contrastive losses share one core, :func:`contrastive_loss`, which takes the batch's
positive and negative masks explicitly; :func:`same_context_masks` and :func:`same_pace_masks` build
those masks, so a notebook can draw exactly the matrices the loss uses.

Clip order. A batch of N videos with n clips each (the paper uses n = 2) is laid out **clip-major**:
row ``k * N + i`` is clip k of video i, so with n = 2 rows ``i`` and ``i + N`` are the two clips of
video i. This is ``torch.cat([z[:, 0], z[:, 1]])`` of a ``(N, 2, D)`` tensor, which every function
here also accepts directly (see :func:`flatten_clips`).

Similarity and temperature. The paper writes sim(z_i, z_j) = z_i^T z_j, a plain dot product with no
temperature. Here ``sim(z_i, z_j) = u_i^T u_j / temperature`` with ``u = z / ||z||`` when
``normalize=True`` and ``u = z`` otherwise, so ``normalize=False, temperature=1.0`` *is* the paper's
literal Eq. 2 / Eq. 3. The default, ``normalize=True, temperature=0.5`` (:data:`DEFAULT_NORMALIZE`,
:data:`DEFAULT_TEMPERATURE`: the defaults of those :class:`pacekit.config.Config` fields), is not: an
unnormalised dot product can lower the loss just by growing ``||z||``, which says nothing about the
video, and L2-normalised cosine similarity with a temperature is the standard remedy (SimCLR, Chen et
al. 2020, Table 5). SimCLR's 0.5 is its setting for small batches (CIFAR-10); a pace-prediction batch is
small too: the paper's "batch size is 30" (Sec. 4.1), which pacekit reads as N = 30 videos, so 60 clips
with the same-context loss (n = 2); the paper does not say whether 30 counts the N videos or the n x N
clips of Sec. 3.2 (the ``batch_size`` field of :class:`pacekit.config.Config` says the same). Either way
the batch is small, and there a low temperature such as 0.07 makes the few hardest
negatives dominate the gradient.

Denominators. For anchor i the denominator runs over its positives *and* its negatives and never over
the clip itself (sim(z_i, z_i) is a constant, 1/temperature after normalisation, and carries no
information). This matches Eq. 2, whose denominator includes the positive pair, and Eq. 3.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# The Config fields ``temperature`` and ``normalize`` (pacekit.config) take these as their defaults, so a loss
# called without a config matches a run's.
DEFAULT_TEMPERATURE: float = 0.5
"""Default contrastive temperature (0.5), used with ``normalize=True`` (see the module docstring)."""

DEFAULT_NORMALIZE: bool = True
"""Whether the similarity L2-normalises the embeddings by default (True; the paper's dot product: False)."""

LAMBDA_CLS: float = 1.0
"""Paper's weight of the pace classification loss in Eq. 4 (1, Sec. 4.1)."""

LAMBDA_CTR: float = 0.1
"""Paper's weight of the contrastive loss in Eq. 4 (0.1, Sec. 4.1)."""


# --------------------------------------------------------------------------------------------
# Eq. 1: pace classification
# --------------------------------------------------------------------------------------------


def pace_classification_loss(logits: Tensor, pace_labels: Tensor) -> Tensor:
    """Cross-entropy of the pace classifier, Eq. 1, averaged over the batch.

    Args:
        logits: ``(B, M)`` float, one score per pace candidate (M candidates, h in Eq. 1).
        pace_labels: ``(B,)`` int64 pace class indices in ``[0, M)``; ``(N, n)`` is flattened
            clip-major, like the embeddings (see :func:`flatten_clips`).

    Returns:
        Scalar tensor, ``-mean_b log softmax(logits_b)[pace_labels_b]``.
    """
    if logits.dim() != 2:
        raise ValueError(
            f"pace_classification_loss expects logits of shape (B, M), got {tuple(logits.shape)}; "
            "flatten two-clip batches with pacekit.losses.flatten_clips first."
        )
    pace_labels = _flatten_labels(pace_labels)
    if pace_labels.shape != logits.shape[:1]:
        raise ValueError(
            f"pace_labels has shape {tuple(pace_labels.shape)} but logits has {logits.shape[0]} rows; "
            "give one pace label per clip."
        )
    if pace_labels.dtype.is_floating_point:
        raise TypeError(f"pace_labels must be integer class indices, got dtype {pace_labels.dtype}.")
    return F.cross_entropy(logits.float(), pace_labels.long())


# --------------------------------------------------------------------------------------------
# Layout helpers and masks
# --------------------------------------------------------------------------------------------


def flatten_clips(z: Tensor) -> Tensor:
    """Turn ``(N, n, D)`` per-video clip embeddings into the clip-major ``(n * N, D)`` layout.

    Row ``k * N + i`` of the result is clip k of video i. A ``(M, D)`` input is returned unchanged.
    """
    if z.dim() == 3:
        n_videos, n_clips, dim = z.shape
        return z.transpose(0, 1).reshape(n_clips * n_videos, dim)  # (n*N, D)
    if z.dim() == 2:
        return z
    raise ValueError(
        f"expected embeddings of shape (M, D) or (N, n_clips, D), got {tuple(z.shape)}."
    )


def _flatten_labels(labels: Tensor) -> Tensor:
    """``(N, n)`` labels to clip-major ``(n * N,)``; ``(M,)`` unchanged."""
    if labels.dim() == 2:
        return labels.transpose(0, 1).reshape(-1)
    if labels.dim() == 1:
        return labels
    raise ValueError(f"expected labels of shape (M,) or (N, n_clips), got {tuple(labels.shape)}.")


def same_context_masks(
    n_videos: int, clips_per_video: int = 2, device: torch.device | str | None = None
) -> tuple[Tensor, Tensor]:
    """Positive and negative masks of the same-context objective (Eq. 2), clip-major order.

    With M = ``clips_per_video * n_videos`` clips, row/column ``k * n_videos + i`` is clip k of
    video i. ``positive[a, b]`` is True when clips a and b come from the same video, ``negative[a, b]``
    when they come from different videos. The diagonal (a clip with itself) is False in both.

    Returns:
        ``(positive, negative)``, two bool ``(M, M)`` tensors.
    """
    if n_videos < 1 or clips_per_video < 1:
        raise ValueError(
            f"need n_videos >= 1 and clips_per_video >= 1, got {n_videos} and {clips_per_video}."
        )
    video_of_clip = torch.arange(n_videos, device=device).repeat(clips_per_video)  # (M,)
    return _masks_from_groups(video_of_clip)


def same_pace_masks(pace_labels: Tensor) -> tuple[Tensor, Tensor]:
    """Positive and negative masks of the same-pace objective (Eq. 3).

    ``positive[a, b]`` is True when clips a and b have the same pace label, ``negative[a, b]`` when
    their paces differ. The diagonal is False in both.

    Args:
        pace_labels: ``(M,)`` int pace labels, or ``(N, n)`` (flattened clip-major).

    Returns:
        ``(positive, negative)``, two bool ``(M, M)`` tensors on the labels' device.
    """
    return _masks_from_groups(_flatten_labels(torch.as_tensor(pace_labels)))


def _masks_from_groups(groups: Tensor) -> tuple[Tensor, Tensor]:
    """Masks for "same group" positives / "other group" negatives, diagonal excluded."""
    same = groups[:, None] == groups[None, :]  # (M, M)
    off_diagonal = ~torch.eye(len(groups), dtype=torch.bool, device=groups.device)
    return same & off_diagonal, ~same


# --------------------------------------------------------------------------------------------
# The shared contrastive core
# --------------------------------------------------------------------------------------------


def similarity_matrix(
    z: Tensor, temperature: float = DEFAULT_TEMPERATURE, normalize: bool = DEFAULT_NORMALIZE
) -> Tensor:
    """All pairwise similarities ``sim(z_a, z_b) = u_a^T u_b / temperature``, ``(M, M)`` float.

    ``u = z / ||z||`` when ``normalize`` is True, ``u = z`` otherwise (the paper's dot product).
    Half-precision inputs are computed in float32 so that the loss is stable under autocast.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}.")
    z = flatten_clips(z)
    if z.dtype in (torch.float16, torch.bfloat16):
        z = z.float()
    if normalize:
        z = F.normalize(z, dim=1)
    return (z @ z.T) / temperature  # (M, M)


def contrastive_loss(
    z: Tensor,
    positive_mask: Tensor,
    negative_mask: Tensor,
    temperature: float = DEFAULT_TEMPERATURE,
    normalize: bool = DEFAULT_NORMALIZE,
) -> Tensor:
    """Multi-positive InfoNCE over a batch, the common form of Eq. 2 and Eq. 3.

    For each anchor a with positives P(a) and negatives N(a) (the diagonal is never used)::

        l_a = -1/|P(a)| * sum_{p in P(a)} log( exp(s_ap) / sum_{b in P(a) or N(a)} exp(s_ab) )

    with ``s = similarity_matrix(z, temperature, normalize)``; the loss is the mean of l_a over the
    anchors that have at least one positive (Khosla et al. 2020, "L_out"). Anchors without a positive
    are skipped; if no anchor has one, the result is 0 and still carries a (zero) gradient to z.
    The denominator is computed with logsumexp, so large similarities do not overflow.

    Args:
        z: ``(M, D)`` embeddings (clip-major) or ``(N, n, D)``.
        positive_mask, negative_mask: bool ``(M, M)``, e.g. from :func:`same_context_masks`.
        temperature, normalize: see :func:`similarity_matrix`.

    Returns:
        Scalar float tensor.
    """
    logits = similarity_matrix(z, temperature, normalize)  # (M, M)
    m = logits.shape[0]
    for name, mask in (("positive_mask", positive_mask), ("negative_mask", negative_mask)):
        if mask.shape != (m, m) or mask.dtype != torch.bool:
            raise ValueError(
                f"{name} must be a bool ({m}, {m}) tensor to match {m} embeddings, "
                f"got {mask.dtype} {tuple(mask.shape)}."
            )
    off_diagonal = ~torch.eye(m, dtype=torch.bool, device=logits.device)
    positive = positive_mask.to(logits.device) & off_diagonal
    in_denominator = (positive | negative_mask.to(logits.device)) & off_diagonal

    n_positives = positive.sum(dim=1)  # (M,)
    anchors = n_positives > 0
    # Computed for every row with masks alone (no data-dependent indexing, so no host sync on a GPU).
    # A row without a positive gets a harmless all-true denominator and weight 0, so it never yields
    # -inf - -inf; if no row has a positive the result is 0 with a gradient path.
    safe_denominator = in_denominator | ~anchors[:, None]
    log_denominator = torch.logsumexp(logits.masked_fill(~safe_denominator, float("-inf")), dim=1, keepdim=True)
    log_prob = logits - log_denominator  # (M, M)
    per_anchor = -(log_prob * positive).sum(dim=1) / n_positives.clamp(min=1)  # (M,)
    return (per_anchor * anchors).sum() / anchors.sum().clamp(min=1)


# --------------------------------------------------------------------------------------------
# Eq. 2 and Eq. 3
# --------------------------------------------------------------------------------------------


def same_context_loss(
    z: Tensor,
    temperature: float = DEFAULT_TEMPERATURE,
    normalize: bool = DEFAULT_NORMALIZE,
    clips_per_video: int = 2,
) -> Tensor:
    """Same-context contrastive loss, Eq. 2 (NT-Xent when ``clips_per_video == 2``).

    Positives are the clips of the same video (sampled at different paces), negatives every clip of
    every other video. With two clips per video each of the 2N anchors has exactly one positive,
    the denominator holds that positive and the 2N - 2 negatives, and the loss is the mean over the
    2N anchors, i.e. the 1/(2N) of Eq. 2.

    Args:
        z: ``(n * N, D)`` clip-major (rows i and i + N are the clips of video i) or ``(N, n, D)``.
        temperature, normalize: see the module docstring; ``normalize=False, temperature=1.0`` is
            the paper's literal dot-product form.
        clips_per_video: n; only used for ``(M, D)`` input, which must have M divisible by n.

    Returns:
        Scalar float tensor.
    """
    if z.dim() == 3:
        clips_per_video = z.shape[1]
    z = flatten_clips(z)
    m = z.shape[0]
    if clips_per_video < 1 or m % clips_per_video:
        raise ValueError(
            f"{m} embeddings cannot be split into videos of {clips_per_video} clips; give (N, n, D) "
            "or a (n*N, D) tensor with rows k*N + i = clip k of video i."
        )
    positive, negative = same_context_masks(m // clips_per_video, clips_per_video, z.device)
    return contrastive_loss(z, positive, negative, temperature, normalize)


def same_pace_loss(
    z: Tensor,
    pace_labels: Tensor,
    temperature: float = DEFAULT_TEMPERATURE,
    normalize: bool = DEFAULT_NORMALIZE,
) -> Tensor:
    """Same-pace contrastive loss, Eq. 3, in supervised-contrastive form (Khosla et al. 2020).

    Positives of a clip are all other clips with the same pace label, regardless of video; negatives
    are the clips with another pace. Each anchor's log-likelihoods are averaged over its positives,
    then averaged over the anchors that have a positive (Eq. 3 sums over i, j, k; this normalisation
    keeps the scale independent of how many clips share a pace). Anchors whose pace occurs only once
    in the batch are skipped; a batch where every pace is unique gives 0 (with a gradient path).

    Args:
        z: ``(M, D)`` or ``(N, n, D)`` embeddings.
        pace_labels: ``(M,)`` or ``(N, n)`` int pace labels, in the same layout as z.
        temperature, normalize: as in :func:`same_context_loss`.

    Returns:
        Scalar float tensor.
    """
    z = flatten_clips(z)
    labels = _flatten_labels(torch.as_tensor(pace_labels, device=z.device))
    if labels.shape != z.shape[:1]:
        raise ValueError(
            f"pace_labels has {labels.numel()} entries for {z.shape[0]} embeddings; "
            "give one pace label per clip, in the same order."
        )
    positive, negative = same_pace_masks(labels)
    return contrastive_loss(z, positive, negative, temperature, normalize)


# --------------------------------------------------------------------------------------------
# Eq. 4
# --------------------------------------------------------------------------------------------


def total_loss(
    l_cls: Tensor,
    l_ctr: Tensor | None,
    lambda_cls: float = LAMBDA_CLS,
    lambda_ctr: float = LAMBDA_CTR,
) -> Tensor:
    """Final objective, Eq. 4: ``lambda_cls * L_cls + lambda_ctr * L_ctr``.

    The defaults are the paper's (1 and 0.1, Sec. 4.1). ``l_ctr=None`` means pace prediction alone.
    """
    if l_ctr is None:
        return lambda_cls * l_cls
    return lambda_cls * l_cls + lambda_ctr * l_ctr


# --------------------------------------------------------------------------------------------
# nn.Module wrappers
# --------------------------------------------------------------------------------------------


class PaceClassificationLoss(nn.Module):
    """Module form of :func:`pace_classification_loss` (Eq. 1)."""

    def forward(self, logits: Tensor, pace_labels: Tensor) -> Tensor:
        return pace_classification_loss(logits, pace_labels)


class SameContextLoss(nn.Module):
    """Module form of :func:`same_context_loss` (Eq. 2)."""

    def __init__(
        self, temperature: float = DEFAULT_TEMPERATURE, normalize: bool = DEFAULT_NORMALIZE, clips_per_video: int = 2
    ) -> None:
        super().__init__()
        self.temperature, self.normalize, self.clips_per_video = temperature, normalize, clips_per_video

    def forward(self, z: Tensor) -> Tensor:
        return same_context_loss(z, self.temperature, self.normalize, self.clips_per_video)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, normalize={self.normalize}"


class SamePaceLoss(nn.Module):
    """Module form of :func:`same_pace_loss` (Eq. 3)."""

    def __init__(self, temperature: float = DEFAULT_TEMPERATURE, normalize: bool = DEFAULT_NORMALIZE) -> None:
        super().__init__()
        self.temperature, self.normalize = temperature, normalize

    def forward(self, z: Tensor, pace_labels: Tensor) -> Tensor:
        return same_pace_loss(z, pace_labels, self.temperature, self.normalize)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, normalize={self.normalize}"
