"""Tests for pacekit.losses: Eq. 1-4 against slow loop references, gradients, minima, masks."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from pacekit.losses import (
    DEFAULT_TEMPERATURE,
    PaceClassificationLoss,
    SameContextLoss,
    SamePaceLoss,
    contrastive_loss,
    flatten_clips,
    pace_classification_loss,
    same_context_loss,
    same_context_masks,
    same_pace_loss,
    same_pace_masks,
    total_loss,
)

SEEDS = [0, 1, 2, 3]


# ---------------------------------------------------------------- slow references (python loops)


def _sim(z: list[list[float]], a: int, b: int, temperature: float, normalize: bool) -> float:
    dot = sum(x * y for x, y in zip(z[a], z[b]))
    if normalize:
        dot /= math.sqrt(sum(x * x for x in z[a])) * math.sqrt(sum(y * y for y in z[b]))
    return dot / temperature


def reference_same_context(z: torch.Tensor, temperature: float, normalize: bool) -> float:
    """Eq. 2 literally: rows i and i+N are the clips of video i; denominator = every other clip."""
    rows = z.tolist()
    two_n = len(rows)
    n = two_n // 2
    total = 0.0
    for i in range(two_n):
        partner = (i + n) % two_n
        numerator = math.exp(_sim(rows, i, partner, temperature, normalize))
        denominator = sum(
            math.exp(_sim(rows, i, k, temperature, normalize)) for k in range(two_n) if k != i
        )
        total += -math.log(numerator / denominator)
    return total / two_n


def reference_same_pace(z: torch.Tensor, labels: list[int], temperature: float, normalize: bool) -> float:
    """Eq. 3 in SupCon form: mean over positives, then mean over anchors that have a positive."""
    rows = z.tolist()
    m = len(rows)
    per_anchor = []
    for i in range(m):
        positives = [j for j in range(m) if j != i and labels[j] == labels[i]]
        if not positives:
            continue
        denominator = sum(math.exp(_sim(rows, i, k, temperature, normalize)) for k in range(m) if k != i)
        terms = [
            -math.log(math.exp(_sim(rows, i, j, temperature, normalize)) / denominator) for j in positives
        ]
        per_anchor.append(sum(terms) / len(terms))
    return sum(per_anchor) / len(per_anchor) if per_anchor else 0.0


# ---------------------------------------------------------------- Eq. 1


@pytest.mark.parametrize("seed", SEEDS)
def test_pace_classification_loss_matches_eq1_loop(seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(6, 4, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 4, (6,), generator=g)
    expected = 0.0
    for b in range(6):
        h = logits[b].tolist()
        expected += -math.log(math.exp(h[labels[b]]) / sum(math.exp(x) for x in h))
    expected /= 6
    got = pace_classification_loss(logits, labels)
    assert got.item() == pytest.approx(expected, abs=1e-5)
    assert PaceClassificationLoss()(logits, labels).item() == pytest.approx(expected, abs=1e-5)


def test_pace_classification_loss_flattens_two_clip_labels_clip_major():
    logits = torch.randn(6, 4)
    labels = torch.tensor([[0, 3], [1, 2], [2, 0]])  # (N=3, 2)
    flat = torch.tensor([0, 1, 2, 3, 2, 0])
    assert torch.equal(pace_classification_loss(logits, labels), F.cross_entropy(logits, flat))


def test_pace_classification_loss_rejects_mismatched_labels():
    with pytest.raises(ValueError, match="one pace label per clip"):
        pace_classification_loss(torch.randn(4, 3), torch.tensor([0, 1]))


# ---------------------------------------------------------------- Eq. 2


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("temperature,normalize", [(DEFAULT_TEMPERATURE, True), (0.1, True), (1.0, False)])
def test_same_context_loss_matches_loop_reference(seed, temperature, normalize):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(10, 5, generator=g, dtype=torch.float64)  # N = 5 videos, 2 clips each
    if not normalize:
        z = z * 0.5  # keep plain dot products in exp's range for the reference
    expected = reference_same_context(z, temperature, normalize)
    got = same_context_loss(z, temperature=temperature, normalize=normalize)
    assert got.item() == pytest.approx(expected, abs=1e-5)
    module = SameContextLoss(temperature=temperature, normalize=normalize)
    assert module(z).item() == pytest.approx(expected, abs=1e-5)


def test_same_context_loss_normalize_false_temperature_one_is_the_paper_dot_product():
    # Hand-computed Eq. 2 for N = 2 videos in 1-D: z = [1, 2 | 3, 4], pairs (1,3) and (2,4).
    z = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=torch.float64)
    terms = [
        -math.log(math.exp(3) / (math.exp(2) + math.exp(3) + math.exp(4))),  # anchor 1, partner 3
        -math.log(math.exp(8) / (math.exp(2) + math.exp(6) + math.exp(8))),  # anchor 2, partner 4
        -math.log(math.exp(3) / (math.exp(3) + math.exp(6) + math.exp(12))),  # anchor 3, partner 1
        -math.log(math.exp(8) / (math.exp(4) + math.exp(8) + math.exp(12))),  # anchor 4, partner 2
    ]
    got = same_context_loss(z, temperature=1.0, normalize=False)
    assert got.item() == pytest.approx(sum(terms) / 4, abs=1e-9)


def test_same_context_loss_accepts_n_by_2_layout():
    z = torch.randn(4, 2, 3, dtype=torch.float64)  # (N, 2, D)
    flat = torch.cat([z[:, 0], z[:, 1]])  # rows i and i + N are video i
    assert torch.equal(flatten_clips(z), flat)
    assert same_context_loss(z).item() == pytest.approx(same_context_loss(flat).item(), abs=1e-12)


def test_same_context_loss_rejects_odd_batch():
    with pytest.raises(ValueError, match="cannot be split into videos of 2 clips"):
        same_context_loss(torch.randn(5, 3))


# ---------------------------------------------------------------- Eq. 3


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("temperature,normalize", [(DEFAULT_TEMPERATURE, True), (0.2, True), (1.0, False)])
def test_same_pace_loss_matches_loop_reference(seed, temperature, normalize):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(9, 4, generator=g, dtype=torch.float64)
    if not normalize:
        z = z * 0.5
    labels = torch.randint(0, 4, (9,), generator=g)
    labels[0] = 7  # a pace nobody else has: this anchor must be skipped
    expected = reference_same_pace(z, labels.tolist(), temperature, normalize)
    got = same_pace_loss(z, labels, temperature=temperature, normalize=normalize)
    assert got.item() == pytest.approx(expected, abs=1e-5)
    assert SamePaceLoss(temperature, normalize)(z, labels).item() == pytest.approx(expected, abs=1e-5)


def test_same_pace_loss_with_all_unique_paces_is_zero_with_gradient():
    z = torch.randn(4, 3, requires_grad=True)
    loss = same_pace_loss(z, torch.tensor([0, 1, 2, 3]))
    assert loss.item() == 0.0
    loss.backward()
    assert z.grad is not None and torch.equal(z.grad, torch.zeros_like(z))


def test_same_pace_loss_accepts_two_clip_layout():
    z = torch.randn(3, 2, 5, dtype=torch.float64)
    labels = torch.tensor([[0, 1], [1, 2], [0, 2]])
    flat_z, flat_labels = flatten_clips(z), torch.tensor([0, 1, 0, 1, 2, 2])
    expected = same_pace_loss(flat_z, flat_labels).item()
    assert same_pace_loss(z, labels).item() == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------- gradients and stability


def test_contrastive_losses_pass_gradcheck():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(6, 3, generator=g, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 1, 0, 1, 2, 0])
    assert torch.autograd.gradcheck(lambda x: same_context_loss(x, temperature=0.3), (z,))
    assert torch.autograd.gradcheck(lambda x: same_pace_loss(x, labels, temperature=0.3), (z,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_large_logits_give_finite_loss_and_gradients(dtype):
    # Unnormalised dot products of ~1e4: a naive exp() overflows, logsumexp does not.
    z = (torch.randn(8, 16) * 30).to(dtype).requires_grad_(True)
    for loss in (
        same_context_loss(z, temperature=1.0, normalize=False),
        same_pace_loss(z, torch.tensor([0, 1, 0, 1, 2, 2, 3, 0]), temperature=1.0, normalize=False),
        same_context_loss(z, temperature=0.01),
    ):
        assert loss.dtype == torch.float32
        assert torch.isfinite(loss)
        (grad,) = torch.autograd.grad(loss, z)
        assert torch.isfinite(grad.float()).all()
    logits = (torch.randn(4, 5) * 1e4).to(dtype).requires_grad_(True)
    loss = pace_classification_loss(logits, torch.tensor([0, 1, 2, 3]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad.float()).all()


# ---------------------------------------------------------------- minima


def _simplex(n: int) -> torch.Tensor:
    """n unit vectors with pairwise cosine -1/(n-1) (a regular simplex, in R^n)."""
    e = torch.eye(n, dtype=torch.float64)
    return F.normalize(e - e.mean(dim=0), dim=1)


def test_same_context_loss_is_minimal_for_aligned_simplex_embeddings():
    n, tau = 4, DEFAULT_TEMPERATURE
    centres = _simplex(n)
    z = torch.cat([centres, centres])  # the two clips of a video are identical
    # Each anchor: positive at cos 1, 2(n-1) negatives at cos -1/(n-1).
    analytic = math.log(1 + 2 * (n - 1) * math.exp((-1 / (n - 1) - 1) / tau))
    best = same_context_loss(z, temperature=tau).item()
    assert best == pytest.approx(analytic, abs=1e-10)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        perturbed = z + 0.05 * torch.randn(z.shape, generator=g, dtype=torch.float64)
        assert same_context_loss(perturbed, temperature=tau).item() > best


def test_same_context_loss_approaches_zero_for_orthogonal_negatives_at_small_temperature():
    n = 3
    z = torch.cat([torch.eye(n), torch.eye(n)]).double()  # negatives orthogonal, positives equal
    for tau in (1.0, 0.5, 0.1, 0.02):
        analytic = math.log(1 + 2 * (n - 1) * math.exp(-1 / tau))
        assert same_context_loss(z, temperature=tau).item() == pytest.approx(analytic, abs=1e-10)
    assert same_context_loss(z, temperature=0.02).item() < 1e-20


def test_same_pace_loss_is_minimal_for_pace_aligned_embeddings():
    # Balanced paces: the regular simplex is SupCon's minimiser when classes have equal size
    # (Graf et al. 2021); with unequal classes the optimum tilts towards the larger class.
    tau, n_paces = 0.5, 3
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 2, 1, 0])
    z = _simplex(n_paces)[labels]  # every clip sits on its pace's simplex vertex
    anchor_losses = []
    for c in labels.tolist():
        n_c = int((labels == c).sum())
        negative_term = (len(labels) - n_c) * math.exp(-1 / ((n_paces - 1) * tau))
        denominator = (n_c - 1) * math.exp(1 / tau) + negative_term
        anchor_losses.append(-1 / tau + math.log(denominator))
    best = same_pace_loss(z, labels, temperature=tau).item()
    assert best == pytest.approx(sum(anchor_losses) / len(anchor_losses), abs=1e-10)
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        perturbed = z + 0.05 * torch.randn(z.shape, generator=g, dtype=torch.float64)
        assert same_pace_loss(perturbed, labels, temperature=tau).item() > best


# ---------------------------------------------------------------- masks


def test_same_context_masks_for_three_videos_two_clips():
    positive, negative = same_context_masks(3, 2)
    # rows: clip 0 of videos 0,1,2 then clip 1 of videos 0,1,2
    expected_positive = torch.tensor(
        [
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 1, 0],
            [0, 0, 0, 0, 0, 1],
            [1, 0, 0, 0, 0, 0],
            [0, 1, 0, 0, 0, 0],
            [0, 0, 1, 0, 0, 0],
        ],
        dtype=torch.bool,
    )
    assert torch.equal(positive, expected_positive)
    expected_negative = ~expected_positive & ~torch.eye(6, dtype=torch.bool)
    assert torch.equal(negative, expected_negative)
    assert not positive.diagonal().any() and not negative.diagonal().any()


def test_same_pace_masks_for_toy_batch():
    positive, negative = same_pace_masks(torch.tensor([1, 0, 1, 2]))
    assert positive.tolist() == [
        [False, False, True, False],
        [False, False, False, False],
        [True, False, False, False],
        [False, False, False, False],
    ]
    assert negative.tolist() == [
        [False, True, False, True],
        [True, False, True, True],
        [False, True, False, True],
        [True, True, True, False],
    ]


def test_contrastive_loss_uses_only_masked_pairs():
    # Removing a negative from the mask must change the loss exactly as the reference says.
    z = torch.randn(4, 3, dtype=torch.float64)
    positive, negative = same_context_masks(2, 2)
    negative_without_3 = negative.clone()
    negative_without_3[0, 3] = False
    full = contrastive_loss(z, positive, negative, temperature=1.0)
    reduced = contrastive_loss(z, positive, negative_without_3, temperature=1.0)
    s = F.normalize(z, dim=1) @ F.normalize(z, dim=1).T
    anchor0_full = -s[0, 2] + torch.logsumexp(s[0, [1, 2, 3]], 0)
    anchor0_reduced = -s[0, 2] + torch.logsumexp(s[0, [1, 2]], 0)
    assert (full - reduced).item() == pytest.approx(((anchor0_full - anchor0_reduced) / 4).item(), abs=1e-12)


# ---------------------------------------------------------------- Eq. 4


def test_total_loss_uses_paper_weights_by_default():
    l_cls, l_ctr = torch.tensor(2.0), torch.tensor(5.0)
    assert total_loss(l_cls, l_ctr).item() == pytest.approx(2.0 + 0.1 * 5.0)
    assert total_loss(l_cls, l_ctr, lambda_cls=0.5, lambda_ctr=1.0).item() == pytest.approx(6.0)
    assert total_loss(l_cls, None).item() == pytest.approx(2.0)
