# %% [markdown]
# # 04 · Contrastive variants: same context against same pace
#
# Notebook 4 of 6. The paper adds a contrastive objective to pace prediction (Sec. 3.2) and tries two
# definitions of "positive pair". This notebook draws both, computes both losses by hand and checks
# them against pacekit, then trains each variant and fine-tunes it: Table 2 at small scale.
#
# **Why.** Contrastive learning pulls the embeddings of positive pairs together and pushes negatives
# apart. What counts as positive decides what the embedding learns:
#
# - **same context** (Eq. 2): two clips of the *same video* at *different paces* are positives; clips
#   of other videos are negatives. The embedding must capture the content and ignore the pace.
# - **same pace** (Eq. 3): clips with the *same pace* are positives, whatever the video. The embedding
#   must capture the pace and ignore the content.
#
# The paper finds same context better (Table 2) and explains the weakness of same pace by the few
# paces: with 4 candidates, most pairs in a batch share a pace, so there are few negatives.
#
# **Contents.** 1. the masks of a toy batch · 2. the losses by hand and by pacekit · 3. both variants
# trained: Table 2 at small scale · exercises.

# %% [setup]
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from pacekit.losses import same_context_loss, same_context_masks, same_pace_loss, same_pace_masks, similarity_matrix
from pacekit.notebook import format_runs, pretrain_and_finetune

# %% [markdown]
# ## 1. The positive and negative masks of a toy batch
#
# A batch of $N = 4$ videos with $n = 2$ clips each, at random paces, laid out **clip-major**: row
# $k N + i$ is clip $k$ of video $i$, so rows $i$ and $i + 4$ are the two clips of video $i$ (this is
# `torch.cat([z[:, 0], z[:, 1]])` of a `(N, 2, D)` tensor). A clip is never its own positive or negative.

# %%
# NBVAL_CHECK_OUTPUT
pace_labels = torch.tensor([[0, 2], [1, 0], [3, 1], [2, 0]])  # (N, n): the pace label of each video's two clips
clip_paces = pace_labels.t().reshape(-1)  # clip-major (n*N,)
ctx_pos, ctx_neg = same_context_masks(n_videos=4, clips_per_video=2)
pace_pos, pace_neg = same_pace_masks(pace_labels)
print("clip:   ", list(range(8)))
print("video:  ", [i % 4 for i in range(8)])
print("pace:   ", clip_paces.tolist())
print("same-context positives of clip 0:", ctx_pos[0].nonzero().flatten().tolist(),
      "negatives:", ctx_neg[0].nonzero().flatten().tolist())
print("same-pace positives of clip 0:   ", pace_pos[0].nonzero().flatten().tolist(),
      "negatives:", pace_neg[0].nonzero().flatten().tolist())
print("negatives per clip: same context", ctx_neg.sum(1).tolist(), "| same pace", pace_neg.sum(1).tolist())

# %% [markdown]
# Drawn as matrices (green: positive, red: negative, white: not in the loss):

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 4), constrained_layout=True)
for ax, (title, pos, neg) in zip(axes, (("same context (Eq. 2)", ctx_pos, ctx_neg),
                                         ("same pace (Eq. 3)", pace_pos, pace_neg))):
    ax.imshow(pos.int() - neg.int(), cmap="RdYlGn", vmin=-1.5, vmax=1.5)
    ax.set(title=title, xticks=range(8), yticks=range(8), xlabel="clip b", ylabel="anchor clip a",
           xticklabels=[f"v{i % 4}\np{int(p)}" for i, p in enumerate(clip_paces)],
           yticklabels=[f"v{i % 4} p{int(p)}" for i, p in enumerate(clip_paces)])
plt.show()

# %% [markdown]
# Same context gives every clip exactly one positive and $2N - 2 = 6$ negatives. Same pace gives a clip
# as many positives as there are other clips of its pace -- here clip 2 (pace 3) has none and is left
# out of the loss -- and its negatives shrink as paces repeat. With a real batch of 30 clips and 4 paces,
# a clip has about 7 positives and 22 negatives.
#
# ## 2. The losses, by hand and by pacekit
#
# Both losses are the same formula with different masks. For an anchor $a$ with positives $P(a)$ and
# negatives $N(a)$ and the similarity $s_{ab} = u_a^\top u_b / \tau$,
#
# $$\ell_a = -\frac{1}{|P(a)|} \sum_{p \in P(a)} \log \frac{\exp(s_{ap})}{\sum_{b \in P(a) \cup N(a)} \exp(s_{ab})},$$
#
# averaged over the anchors that have a positive. With one positive per anchor this is Eq. 2 exactly
# (its $1/2N$ is the mean over the $2N$ anchors). The paper's similarity is the plain dot product
# $z_i^\top z_j$ ($u = z$, $\tau = 1$); pacekit's default normalises $u = z / \lVert z \rVert$ and uses
# $\tau = 0.5$, because a plain dot product can lower the loss by growing $\lVert z \rVert$ alone.

# %%
z = torch.randn(8, 16, generator=torch.Generator().manual_seed(0))  # (n*N, D) embeddings, clip-major


def by_hand(z, positive, negative, temperature, normalize):
    u = F.normalize(z, dim=1) if normalize else z
    s = u @ u.T / temperature  # (M, M)
    losses = []
    for a in range(len(z)):
        denominator = torch.logsumexp(s[a][positive[a] | negative[a]], dim=0)
        if positive[a].any():
            losses.append(-(s[a][positive[a]] - denominator).mean())
    return torch.stack(losses).mean()


for temperature, normalize, name in ((0.5, True, "pacekit default"), (1.0, False, "paper's dot product")):
    hand_ctx = by_hand(z, ctx_pos, ctx_neg, temperature, normalize)
    hand_pace = by_hand(z, pace_pos, pace_neg, temperature, normalize)
    print(f"{name:>19}: Eq. 2 by hand {hand_ctx:.5f}, pacekit {same_context_loss(z, temperature, normalize):.5f} | "
          f"Eq. 3 by hand {hand_pace:.5f}, pacekit {same_pace_loss(z, clip_paces, temperature, normalize):.5f}")

# %%
# NBVAL_CHECK_OUTPUT
for temperature, normalize in ((0.5, True), (1.0, False), (0.1, True)):
    same = (torch.allclose(by_hand(z, ctx_pos, ctx_neg, temperature, normalize),
                           same_context_loss(z, temperature, normalize))
            and torch.allclose(by_hand(z, pace_pos, pace_neg, temperature, normalize),
                               same_pace_loss(z, clip_paces, temperature, normalize)))
    print(f"temperature {temperature}, normalize {normalize}: by hand == pacekit for Eq. 2 and Eq. 3: {same}")

# %% [markdown]
# The similarity matrix the two losses share (diagonal: a clip with itself, never used):

# %%
fig, ax = plt.subplots(figsize=(4, 3.4), constrained_layout=True)
im = ax.imshow(similarity_matrix(z, temperature=1.0, normalize=True), cmap="coolwarm", vmin=-1, vmax=1)
ax.set(title="cosine similarity of the toy embeddings", xlabel="clip b", ylabel="clip a")
fig.colorbar(im)
plt.show()

# %% [markdown]
# ## 3. Both variants trained: Table 2 at small scale
#
# **How.** Each row pretrains with Eq. 4, $\mathcal{L} = \lambda_{cls} \mathcal{L}_{cls} + \lambda_{ctr}
# \mathcal{L}_{ctr}$ with the paper's $\lambda_{cls} = 1$, $\lambda_{ctr} = 0.1$, then fine-tunes the
# backbone on a few labelled videos per class and evaluates on the test split with 10 clips per video.
# Same context draws two clips per video at two different paces, so its batches hold twice as many
# clips. The first row is the run of notebook 03 (loaded if it is there). On a GPU a fourth row adds the
# nonlinear projection head of Table 2's last row (`projection="mlp"`). On a 2-core CPU this cell takes
# about 5-10 minutes the first time (seconds afterwards: every run is reused).
#
# The paper's Table 2 (UCF101 / HMDB51 top-1 after fine-tuning, R(2+1)D, pretrained on UCF101): pace
# prediction alone 73.9 / 33.8; + same pace 73.6 / 32.3; + same context 75.8 / 35.0; + same context with
# the fc 75.9 / 35.9. Contrastive learning alone: same pace 59.4 / 20.3, same context 67.3 / 28.6.

# %%
variants = [
    ("pace prediction (Eq. 1)", "pretrain", {}),
    ("+ same pace (Eq. 3)", "pretrain-same-pace", {"contrastive": "pace"}),
    ("+ same context (Eq. 2)", "pretrain-same-context", {"contrastive": "context"}),
]
if nb.device == "cuda" and not nb.fast:  # on a CPU this row would add several minutes more
    variants.append(("+ same context, + fc", "pretrain-same-context-fc", {"contrastive": "context", "projection": "mlp"}))
runs = [pretrain_and_finetune(nb, label, name, overrides) for label, name, overrides in variants]
runs.append(pretrain_and_finetune(nb, "random init (no pretraining)", None))
print()
print(format_runs(runs))

# %%
fig, ax = plt.subplots(figsize=(7, 2.8), constrained_layout=True)
ax.barh([r.label for r in runs][::-1], [100 * r.evaluation.top1 for r in runs][::-1], color="tab:blue")
ax.axvline(100 / runs[0].evaluation.probs.shape[1], color="gray", ls="--", label="chance")
ax.set(xlabel="action top-1 after fine-tuning (%), 10-clip test", title="Table 2 at small scale")
ax.legend()
plt.show()

# %% [markdown]
# **Reading the table.** On a handful of synthetic videos and a few minutes of CPU the differences are
# small and noisy (rerun with another `seed` in `setup(seed=...)` to see how much): the point is the
# machinery, and the direction to look for -- same pace should not help, same context may. Read the
# pretext column first: it says whether each pretraining learned its task. The action column is a harder
# test than it looks: with the CPU preset's 4 labelled videos per class (2 in fast mode) and a 0.09M-parameter network,
# fine-tuning can stay near chance (10% for 10 classes) from any initialisation; exercise 1 of notebook 05
# gives it more labels, and its retrieval section tests the features with no labels at all. In fast mode
# (`PACEKIT_FAST=1`) every model trains for seconds and sits near chance.
#
# ## Exercises
#
# 1. Count, for a batch of 30 clips with paces drawn uniformly from 4, the expected positives and
#    negatives per clip under each variant (then check with `same_pace_masks(torch.randint(0, 4, (30,)))`).
# 2. Train same context with the paper's literal similarity: `{"contrastive": "context", "normalize":
#    False, "temperature": 1.0}`. What happens to the loss curve (`plot_training_curves`)?
# 3. Vary $\lambda_{ctr}$ (`lambda_ctr=1.0`): does a heavier contrastive term help or hurt the pace
#    accuracy? The fine-tuned accuracy?
# 4. Same pace with more paces: `pace_set="1,2,3,4,5,6,7,8"`. Do more negatives rescue it, as the
#    paper's explanation predicts?
