# %% [markdown]
# # 04 · Contrastive variants: same context against same pace
#
# Notebook 4 of 6. The paper adds a contrastive objective to pace prediction (Sec. 3.2) and tries two
# definitions of "positive pair". This notebook draws both, computes both losses by hand and checks
# them against pacekit, then pretrains each variant (on a CPU: loads it) and fine-tunes it: Table 2 at
# small scale.
#
# > **You will learn** the two contrastive objectives of Sec. 3.2 (same context, Eq. 2; same pace, Eq. 3)
# > as masks and as losses checked by hand; how each changes the pace accuracy and the fine-tuned accuracy
# > (Table 2 at small scale); what each embedding learned, from the similarity of real clips.
# >
# > **Before this:** notebook 03.
# >
# > **Run time:** {run_time}
# >
# > **Shipped weights:** on a CPU the notebook loads the three networks that ship with pacekit for it (pace
# > prediction alone, and with each contrastive term, all on the quickstart's recipe) instead of pretraining
# > them, and says so. To pretrain them here, set `PACEKIT_PRETRAINED=0` before starting Jupyter (or write
# > `nb = setup(shipped=False)` in the setup cell); with a GPU they pretrain. A variant you change (the
# > exercises' weights, temperature or paces) no shipped network fits, so it trains.
# >
# > **On Colab:** set `PACEKIT_RUNS=/content/drive/MyDrive/pacekit-runs` (Drive mounted) before the setup
# > cell to keep runs between sessions; an interrupted training resumes where it stopped.
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
# paces: with 4 candidates clips "tend to belong to the same pace", so a batch holds fewer negatives than
# under same context (Sec. 4.2).
#
# **Contents.** 1. the masks of a toy batch · 2. the losses by hand and by pacekit · 3. both variants
# trained: Table 2 at small scale · 4. what the embeddings learned: the similarity of real clips ·
# does it reproduce here? · summary, exercises, further reading.

# %% [setup]

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display

from pacekit.data import build_dataset
from pacekit.evaluation.attention import load_pace_clips
from pacekit.losses import same_context_loss, same_context_masks, same_pace_loss, same_pace_masks, similarity_matrix
from pacekit.pace import PaceSet
from pacekit.recipes.train import eval_transform
from pacekit.study.claims.table import paper_numbers
from pacekit.teaching.notebook import format_runs, one_run_verdict, pretrain_and_finetune, reproduction_table

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
# out of the loss -- and its negatives shrink as paces repeat (exercise 1 counts them for a real batch).
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
# ## 3. Both variants trained: Table 2 at small scale
#
# **How.** Each row pretrains with Eq. 4, $\mathcal{L} = \lambda_{cls} \mathcal{L}_{cls} + \lambda_{ctr}
# \mathcal{L}_{ctr}$ with the paper's $\lambda_{cls} = 1$, $\lambda_{ctr} = 0.1$, then fine-tunes the
# backbone on a few labelled videos per class and evaluates on the test split with 10 clips per video.
# Same context draws two clips per video at two different paces, so its batches hold twice as many
# clips. The first row is the run of notebook 03 (loaded if it is there). On a GPU a fourth row adds the
# nonlinear projection head of Table 2's last row (`projection="mlp"`). Where a run is trained rather than loaded, it is trained the first time and reused afterwards. In the printed table the pretext column scores four clips of each test video, each at a random pace; the shipped network's record,
# printed when it loads, scores one clip per video, so the two numbers differ a little.
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
ft_cfg = runs[0].finetune.config
print(f"\nfine-tuned on {ft_cfg.labels_per_class} labelled videos per class for {ft_cfg.ft_epochs} epochs; "
      f"{runs[0].evaluation.probs.shape[1]} classes, chance {100 / runs[0].evaluation.probs.shape[1]:.0f}%")
print(format_runs(runs))

# %%
fig, ax = plt.subplots(figsize=(7, 2.8), constrained_layout=True)
ax.barh([r.label for r in runs][::-1], [100 * r.evaluation.top1 for r in runs][::-1], color="tab:blue")
ax.axvline(100 / runs[0].evaluation.probs.shape[1], color="gray", ls="--", label="chance")
ax.set(xlabel="action top-1 after fine-tuning (%), 10-clip test", title="Table 2 at small scale")
ax.legend()
plt.show()

# %% [markdown]
# **Reading the table.** The paper's Table 2 puts same context on top and same pace last. One seed's
# fine-tuning varies by several points, so read a small gap as noise: `pacekit claims` runs the
# comparison over seeds with a stated verdict rule (C4 and C5 in `docs/claims.md`). In fast mode
# (`PACEKIT_FAST=1`) every model trains for seconds and sits near chance.
#
# ## 4. What the embeddings learned: the similarity of real clips
#
# Same context asks that two clips of one video, at two different paces, embed close together and far
# from other videos' clips. Here is that matrix for real clips: four test videos of different classes,
# each as a clip at the slowest and one at the fastest pace of the set, laid out clip-major as in
# section 1 (row $i$ and row $i + 4$ are the same video), embedded by the pace-only network and by the
# same-context network (the features the contrastive loss saw: the projection $z$ when there is one).
# Features pooled from ReLU outputs are all non-negative and share a large common part, which makes
# every raw cosine close to 1; the matrices therefore show the cosine after subtracting the mean
# feature of the eight clips. If same context learned its task, its matrix shows two bright
# off-diagonals -- the positives of section 1 -- brighter than the rest.

# %%
pre_cfg = runs[0].pretrain.config
paces = list(PaceSet.from_spec(pre_cfg.pace_set))
records = build_dataset(pre_cfg.dataset, pre_cfg.root, "test", mode="eval").records
by_class = {r.label: r for r in records}
videos = [by_class[c] for c in sorted(by_class)[:4]]  # one test video of each of four classes
pair = (paces[0], paces[-1])
clips = [load_pace_clips(v.path, pair, pre_cfg.clip_len, start=0, frame_size=pre_cfg.frame_size) for v in videos]
x = torch.cat([torch.stack([c[k] for c in clips]) for k in range(2)])  # clip-major (2N, T, H, W, C)


def clip_features(run):
    model = run.pretrain.model.eval()
    device = next(model.parameters()).device
    with torch.inference_mode():
        _, embedding, z = model(eval_transform(run.pretrain.config)(x.to(device)), return_all=True)
    return (z if z is not None else embedding).cpu()


panels = [("pace prediction only", runs[0]), ("+ same context (Eq. 2)", runs[2])]
similarity = {}  # title -> (mean cosine of a video's two clips, of clips of other videos)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), constrained_layout=True)
labels = [f"v{i % 4} p{pair[i // 4]}" for i in range(8)]
for ax, (title, run) in zip(axes, panels):
    features = clip_features(run)
    sim = similarity_matrix(features - features.mean(0), temperature=1.0, normalize=True)  # centred cosine, (2N, 2N)
    im = ax.imshow(sim, cmap="coolwarm", vmin=-1, vmax=1)
    positives = sim[same_context_masks(4, 2)[0]].mean()
    others = sim[same_context_masks(4, 2)[1]].mean()
    similarity[title] = (float(positives), float(others))
    ax.set(title=f"{title}\nsame video {positives:.2f}, other videos {others:.2f}", xticks=range(8),
           yticks=range(8), xticklabels=labels, yticklabels=labels)
    ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    ax.tick_params(axis="y", labelsize=7)
fig.colorbar(im, ax=axes, shrink=0.8, label="cosine similarity (centred features)")
plt.show()

# %% [markdown]
# The titles give the mean cosine similarity of the positive pairs (same video, different pace) and of
# the negatives (other videos). A network that organises the clips by pace, not by video, makes the slow
# clips of four different videos alike and unlike the fast clips of the same videos: a low "same video"
# number. Pace prediction alone has no reason to pull a video's paces together, since its features must
# *differ* between paces; same context asks for exactly that, and its title says how far it got with
# $\lambda_{ctr} = 0.1$ beside the pace loss.
#
# ## Does it reproduce here?
#
# Written from this run's numbers when the cell runs.

# %%
top1 = {r.label: r.evaluation.top1 for r in runs}
pace_only, same_pace, same_context, random_run = runs[0].label, runs[1].label, runs[2].label, runs[-1].label
rows = [(f"{label} beats {other} (Table 2)", f"{paper_numbers('C5', 'linear probe', better, worse)}, UCF101",
         f"{100 * top1[label]:.1f} vs {100 * top1[other]:.1f}", one_run_verdict(top1[label], top1[other]))
        for label, other, better, worse in ((same_context, pace_only, "pace + same context", "pace alone"),
                                            (pace_only, same_pace, "pace alone", "pace + same pace"))]
rows.append((f"{pace_only} beats {random_run} (Table 1)", paper_numbers("C1", "fine-tuned", worse="random"),
             f"{100 * top1[pace_only]:.1f} vs {100 * top1[random_run]:.1f}", one_run_verdict(top1[pace_only], top1[random_run])))
together, apart = similarity["+ same context (Eq. 2)"]
rows.append(("same context embeds a video's clips together (Sec. 3.2)", "the aim of Eq. 2, not measured",
             f"same video {together:+.2f}, other videos {apart:+.2f}", one_run_verdict(together, apart, digits=0)))
best = max((same_context, pace_only, same_pace), key=top1.get)
takeaway = (f"After fine-tuning, {best} scored highest of the three pretrainings ({100 * top1[best]:.1f}% top-1; "
            f"random init {100 * top1[random_run]:.1f}%, chance {100 / runs[0].evaluation.probs.shape[1]:.0f}%). "
            f"Same context's clips of one video are {'closer' if together > apart else 'not closer'} to each other "
            f"than to other videos' ({together:+.2f} against {apart:+.2f}).")
display(Markdown(reproduction_table(rows) + "\n\n" + takeaway))

# %% [markdown]
# ## Summary
#
# 1. Both contrastive variants are one loss with different masks: same context (Eq. 2) pairs clips of one video, same pace (Eq. 3) clips of one pace.
# 2. Written as a loop over anchors, both losses match pacekit's to floating-point precision.
# 3. Same pace has few negatives when there are few paces -- the paper's explanation of its weaker Table 2 row.
# 4. Eq. 4 adds the contrastive term with weight $\lambda_{ctr} = 0.1$ to pace prediction, whose head stays.
# 5. Whether a variant learned its task shows in the similarity of real clips, before any fine-tuning.
#
# ## Exercises
#
# Each answer cell checks what you write in it: replace `None` by your answer and run the cell.
#
# **1. Positives and negatives in a real batch.** A batch of 30 clips whose paces are drawn uniformly
# from 4. Under same pace, how many positives and how many negatives does a clip have on average?
#
# <details><summary>Solution</summary>
#
# Each of the 29 other clips shares the pace with probability 1/4: $29/4 = 7.25$ positives and
# $29 \cdot 3/4 = 21.75$ negatives. (Same context with 15 videos x 2 clips: always 1 and 28.)
# </details>

# %%
answer_1 = None  # (positives, negatives)
if answer_1 is None:
    print("exercise 1: not answered yet")
else:
    draws = [same_pace_masks(torch.randint(0, 4, (30,), generator=torch.Generator().manual_seed(i))) for i in range(400)]
    truth = (sum(pos.sum().item() for pos, _ in draws) / (400 * 30), sum(neg.sum().item() for _, neg in draws) / (400 * 30))
    assert abs(answer_1[0] - truth[0]) < 0.3 and abs(answer_1[1] - truth[1]) < 0.3, \
        "not quite: each of the 29 other clips shares the pace with some probability"
    print("exercise 1: right")

# %% [markdown]
# **2. Eq. 2 when the network knows nothing.** If all $2N$ embeddings are the same vector, what is the
# same-context loss for the toy batch ($N = 4$)? Give a number to two decimals.
#
# <details><summary>Solution</summary>
#
# Every similarity is equal, so each anchor's positive gets $1/(1 + 2N - 2)$ of the softmax: the loss
# is $\ln(2N - 1) = \ln 7 \approx 1.95$ -- the contrastive loss's "$\ln M$ at initialisation"
# (notebook 03).
# </details>

# %%
answer_2 = None  # a number
if answer_2 is None:
    print("exercise 2: not answered yet")
else:
    truth = same_context_loss(torch.ones(8, 16)).item()
    assert abs(answer_2 - truth) < 0.01, "not quite: how many terms does each anchor's denominator have?"
    print("exercise 2: right")

# %% [markdown]
# **More to try** (no check):
#
# - Train same context with the paper's literal similarity: `{"contrastive": "context", "normalize":
#   False, "temperature": 1.0}`. What happens to the loss curve (`plot_training_curves`)?
# - Vary $\lambda_{ctr}$ (`lambda_ctr=1.0`): does a heavier contrastive term help or hurt the pace
#   accuracy? The fine-tuned accuracy? The similarity matrix of section 4?
# - Same pace with more paces: `pace_set="1,2,3,4,5,6,7,8"`. Do more negatives rescue it, as the
#   paper's explanation predicts?
#
# ## Further reading
#
# - Chen et al., *A Simple Framework for Contrastive Learning of Visual Representations* (SimCLR), ICML 2020: normalised similarity with a temperature, and the projection head of Table 2's last row.
# - Qian et al., *Spatiotemporal Contrastive Video Representation Learning* (CVRL), CVPR 2021: same-video positives (this notebook's same context) at scale, with temporally consistent augmentation.
# - Chen et al., *RSPNet: Relative Speed Perception for Unsupervised Video Representation Learning*, AAAI 2021: joins relative speed with a same-video contrastive term -- pace and context together.
# - Yao et al., *Video Playback Rate Perception for Self-supervised Spatio-Temporal Representation Learning* (PRP), CVPR 2020, and Xu et al., *Self-supervised Spatiotemporal Learning via Video Clip Order Prediction* (VCOP), CVPR 2019: the pretext tasks of Table 3's neighbouring rows.
# - Benaim et al., *SpeedNet: Learning the Speediness in Videos*, CVPR 2020: speed as a single binary question.
