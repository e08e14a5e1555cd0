# %% [markdown]
# # 05 · Fine-tuning, the 10-clip evaluation and video retrieval
#
# Notebook 5 of 6. The pretext task is only a means: the paper judges the pretrained network by how
# well it serves action recognition, fine-tuned (Sec. 4.2, Fig. 4) or frozen for nearest-neighbour
# retrieval (Sec. 4.4, Tables 4 and 5). Both are run here, against a randomly initialised network.
#
# > **You will learn** how fine-tuning from pace-pretrained weights compares with random initialisation
# > (Fig. 4 at small scale); what the 10-clip evaluation averages; how nearest-neighbour retrieval is
# > computed (per-clip features, their mean, cosine similarity, top-k) and what it shows (Tables 4, 5).
# >
# > **Before this:** notebook 03.
# >
# > **Run time:** {run_time}
# >
# > **Shipped weights:** on a CPU the notebook loads the pretrained network that ships with pacekit instead of
# > pretraining it, and says so. To pretrain it here, set `PACEKIT_PRETRAINED=0` before starting
# > Jupyter (or write `nb = setup(shipped=False)` in the setup cell); with a GPU it pretrains.
# >
# > **On Colab:** set `PACEKIT_RUNS=/content/drive/MyDrive/pacekit-runs` (Drive mounted) before the setup
# > cell to keep runs between sessions; an interrupted training resumes where it stopped.
#
# **Why.** If pace prediction taught the network something about motion, its weights should (1) make
# fine-tuning on few labels reach a better accuracy than random weights, and (2) map videos of the
# same action close together, with no fine-tuning at all.
#
# **Contents.** 1. fine-tuning against random init (Fig. 4 at small scale) · 2. the 10-clip evaluation
# · 3. retrieval top-k, written out, and neighbour strips (Tables 4 and 5) · does it reproduce here? ·
# summary, exercises, further reading.

# %% [setup]
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display

from pacekit.data import build_dataset
from pacekit.evaluation.recognition import plot_confusion
from pacekit.evaluation.retrieval import format_table, plot_retrieval_examples, run_retrieval, topk_hits, vcop_feature
from pacekit.models import build_backbone
from pacekit.recipes.train import eval_transform
from pacekit.study.claims.table import paper_numbers
from pacekit.study.plots import plot_training_curves
from pacekit.teaching.notebook import format_runs, one_run_verdict, pretrain_and_finetune, reproduction_table

# %% [markdown]
# ## 1. Fine-tuning against random initialisation
#
# **How.** Both networks get the same fine-tuning (paper 4.1: "the same as the pretraining stage" but the
# learning rate): a new action classifier on the backbone, all weights trained with cross-entropy on a
# few labelled training videos per class, the same clips and augmentations for both. The pretrained
# backbone is notebook 03's checkpoint (loaded, or trained now). Fine-tuning runs are reused the same
# way, so this cell is quick after notebook 04.

# %%
root = nb.ensure_data()
pretrained = pretrain_and_finetune(nb, "pace-pretrained", "pretrain")
random_init = pretrain_and_finetune(nb, "random init", None)
cfg = pretrained.finetune.config
print(f"\nfine-tuned on {cfg.labels_per_class} labelled videos per class, {cfg.ft_epochs} epochs")
fig = plot_training_curves({"pace-pretrained": pretrained.finetune.metrics, "random init": random_init.finetune.metrics},
                           title="fine-tuning: pace-pretrained against random initialisation")

# %% [markdown]
# ## 2. The 10-clip evaluation
#
# **How** (paper 4.1, "Evaluation"): every test video gives 10 clips whose starts are spaced uniformly
# from the first frame to the last start where a clip fits; each is centre-cropped; the video's class
# probabilities are the softmax of each clip's logits, averaged over the 10 clips. Top-1 counts the
# videos whose true class has the highest mean probability. Nothing is random, so two runs agree.
# The starts of a 75-frame video with 16-frame clips:

# %%
# NBVAL_CHECK_OUTPUT
test16 = build_dataset("synthetic", root, "test", mode="eval", clip_len=16, num_clips=10)
print("10 clip starts in a 75-frame video:", test16.eval_starts(75).tolist())
print("in a 12-frame video (shorter than a clip):", test16.eval_starts(12).tolist())

# %% [markdown]
# The results of both networks (`pacekit.evaluation.recognition.evaluate_videos` did this inside
# `pretrain_and_finetune`); the pretext column scores four clips of each test video, each at a random pace; the shipped network's record,
# printed when it loads, scores one clip per video, so the two numbers differ a little.

# %%
print(format_runs([pretrained, random_init]))
for run in (pretrained, random_init):
    print(f"{run.label:>16}: {run.evaluation.summary()}")
fig, ax = plt.subplots(figsize=(4.5, 2.2), constrained_layout=True)
ax.bar([r.label for r in (pretrained, random_init)], [100 * r.evaluation.top1 for r in (pretrained, random_init)],
       color=["tab:blue", "tab:gray"])
ax.axhline(100 / len(pretrained.evaluation.per_class_accuracy), color="k", ls="--", lw=1, label="chance")
ax.set(ylabel="top-1 (%)", title="Fig. 4 at small scale: one backbone, two inits")
ax.legend()
plt.show()

# %% [markdown]
# Where the pretrained network goes wrong (rows: true class, columns: predicted):

# %%
fig = plot_confusion(pretrained.evaluation)

# %% [markdown]
# ## 3. Retrieval: nearest neighbours without fine-tuning
#
# **How** (paper 4.4): the *pretrained* backbone, frozen, maps each of a video's 10 clips to a feature;
# the video's feature is their mean. Each test video queries the training videos by cosine similarity,
# and is a hit at $k$ if one of its $k$ nearest neighbours has its action class. The paper takes its
# feature from "the last pooling layer (p5)" following VCOP's protocol (Sec. 4.4); VCOP's code defines it
# as conv5 max-pooled over (1, 2, 2) and flattened, which pacekit calls `vcop` (the feature of the
# paper's "p5" rows; pacekit's own `p5` is the global average of conv5, 512 numbers for R(2+1)D, not comparable). Beside it `p4`, the
# global average of the conv4 map (the paper finds p4 better). A randomly initialised backbone is the
# baseline. `run_retrieval` computes both by default, and the tables name each feature.

# %%
pre_cfg = pretrained.pretrain.config
eval_kwargs = dict(mode="eval", clip_len=pre_cfg.clip_len, frame_size=pre_cfg.frame_size)
queries = build_dataset("synthetic", root, "test", **eval_kwargs)
gallery = build_dataset("synthetic", root, "train", **eval_kwargs)
transform = eval_transform(pre_cfg)  # centre crop, normalise, the run's input mode
torch.manual_seed(nb.seed)
backbones = {"pace-pretrained": pretrained.pretrain.model, "random init": build_backbone(pre_cfg.backbone, width=pre_cfg.width)}
retrieval = {}
for label, model in backbones.items():
    print(label)
    retrieval[label] = run_retrieval(model, queries, gallery, transform=transform, batch_size=pre_cfg.eval_batch_size)

# %%
for label, results in retrieval.items():
    print(f"{label}: top-k retrieval accuracy (%), {len(queries)} test queries, {len(gallery)} training videos")
    print(format_table(list(results.values())))
    print()

# %% [markdown]
# **The same retrieval, written out** for the pretrained network's `p4` feature: each video's 10 clips
# through the frozen backbone, one feature per clip, their mean per video; cosine similarity of every test
# video with every training video; a hit at $k$ when one of the $k$ most similar training videos has the
# query's class. It must give `run_retrieval`'s numbers (clips batched differently can round the last
# digit of a similarity differently, which can only matter for a query with a near tie).

# %%
def video_features(backbone, dataset, feature="p4"):
    """One feature per video: the mean over its clips of the frozen backbone's ``feature``."""
    feats, labels = [], []
    backbone.eval()
    with torch.no_grad():
        for i in range(len(dataset)):
            item = dataset[i]                                   # "video": (10, T, H, W, C) uint8, its 10 clips
            x = transform(item["video"][None].to(device))[0]    # (10, C, T, h, w): centre crop, input mode
            feats.append(backbone.forward_stages(x)[feature].mean(0))  # (10, D) -> (D,)
            labels.append(int(item["label"]))
    return torch.stack(feats).cpu(), torch.tensor(labels)


device = next(pretrained.pretrain.model.parameters()).device
frozen = pretrained.pretrain.model.backbone
query_x, query_y = video_features(frozen, queries)
gallery_x, gallery_y = video_features(frozen, gallery)
similarity = F.normalize(query_x, dim=1) @ F.normalize(gallery_x, dim=1).T   # (queries, gallery) cosines
nearest = similarity.argsort(dim=1, descending=True)                            # most similar first
by_hand = {k: (gallery_y[nearest[:, :k]] == query_y[:, None]).any(1).float().mean().item() for k in (1, 5, 10)}
library = retrieval["pace-pretrained"]["p4"].topk
print("top-k by hand (%):      ", {k: round(100 * v, 1) for k, v in by_hand.items()})
print("run_retrieval, p4 (%):  ", {k: round(100 * library[k], 1) for k in by_hand})
# the same numbers, up to a query whose two nearest videos float rounding could order the other way
assert all(abs(by_hand[k] - library[k]) <= 1 / len(queries) + 1e-9 for k in by_hand)

# %% [markdown]
# The neighbours themselves: each row is a test video (left) and its three nearest training videos,
# framed green when they share its class (frames spread over each video).

# %%
fig = plot_retrieval_examples(retrieval["pace-pretrained"]["p4"], queries, gallery, num_neighbours=3,
                              frame_size=pre_cfg.frame_size)

# %% [markdown]
# **Reading the results.** The paper's numbers (UCF101 split 1, R(2+1)D, Table 4): its "p5" feature
# (`vcop` here) top-1 17.9%, top-5 34.3%; p4 25.6% and 42.7%; a random R(2+1)D 10.6% and 20.7%. Compare the
# gaps, not the levels: ten synthetic actions and a small network are not UCF101 and R(2+1)D. One seed's
# fine-tuning varies by several points, so a small fine-tuning gap is noise; retrieval needs no labels and
# shows what pretraining alone learned. pacekit's p4 averages conv4 over time and space, `vcop` keeps a grid
# of conv5 max-pooled over 2x2 cells, and the paper does not say how its p4 is pooled. In fast mode
# (`PACEKIT_FAST=1`) the runs last seconds and sit near chance.
#
# ## Does it reproduce here?
#
# Written from this run's numbers when the cell runs; `docs/results.md` gives the same measures over five
# seeds of the quickstart.

# %%
tuned = {r.label: r.evaluation.top1 for r in (pretrained, random_init)}
top1 = {label: {feature: result.topk[1] for feature, result in results.items()} for label, results in retrieval.items()}
pre, ran = top1["pace-pretrained"], top1["random init"]
rows = [("pace pretraining helps fine-tuning (Fig. 4)", paper_numbers("C1", "fine-tuned", worse="random"),
         f"{100 * tuned['pace-pretrained']:.1f} vs {100 * tuned['random init']:.1f}",
         one_run_verdict(tuned["pace-pretrained"], tuned["random init"]))]
for feature, metric in (("vcop", "retrieval vcop"), ("p4", "retrieval p4")):
    if feature in pre and feature in ran:
        rows.append((f"retrieval top-1 with `{feature}` beats random weights (Table 4)",
                     paper_numbers("C1", metric, worse="random"), f"{100 * pre[feature]:.1f} vs {100 * ran[feature]:.1f}",
                     one_run_verdict(pre[feature], ran[feature])))
if {"vcop", "p4"} <= set(pre):
    rows.append(("p4 retrieves better than the paper's p5 (Sec. 4.4)",
                 paper_numbers("C1", "retrieval p4", worse="pace-pretrained"), f"{100 * pre['p4']:.1f} vs {100 * pre['vcop']:.1f}",
                 one_run_verdict(pre["p4"], pre["vcop"])))
feature = max(pre, key=lambda f: pre[f] - ran.get(f, 0.0))
takeaway = (f"Fine-tuned on {cfg.labels_per_class} videos per class, the pace-pretrained network reached "
            f"{100 * tuned['pace-pretrained']:.1f}% top-1 against {100 * tuned['random init']:.1f}% from random weights. "
            f"Frozen, with no label at all, its `{feature}` features retrieve a video of the query's action first "
            f"{100 * pre[feature]:.1f}% of the time, random weights' {100 * ran[feature]:.1f}%.")
display(Markdown(reproduction_table(rows) + "\n\n" + takeaway))

# %% [markdown]
# ## Summary
#
# 1. Fine-tuning keeps the pretrained convolutions, adds a new action classifier and trains everything with cross-entropy (Sec. 4.1).
# 2. The 10-clip evaluation averages the softmax of ten centre-cropped clips spaced over each video; nothing in it is random.
# 3. Retrieval freezes the backbone: each test video queries the training videos by cosine similarity (Sec. 4.4).
# 4. The paper's "p5" retrieval feature is VCOP's pooled and flattened conv5 (`vcop` in pacekit); the paper finds p4 better (the table above says which this run found better).
# 5. Compare against the same network with random weights: the gap, not the absolute number, is what pretraining bought.
#
# ## Exercises
#
# Each answer cell checks what you write in it: replace `None` by your answer and run the cell.
#
# **1. Top-k by hand.** Three test videos of classes 0, 1 and 2 retrieve training videos whose classes
# are, nearest first, `[2, 0, 1]`, `[1, 1, 0]` and `[0, 2, 2]`. What are the top-1 and top-3 accuracies?
#
# <details><summary>Solution</summary>
#
# Top-1: only the second query's nearest neighbour has its class, 1/3. Top-3: every query finds its class
# among its three neighbours, 1.0. `pacekit.evaluation.retrieval.topk_hits` computes the same.
# </details>

# %%
answer_1 = None  # (top-1, top-3) as fractions
if answer_1 is None:
    print("exercise 1: not answered yet")
else:
    truth = topk_hits(torch.tensor([[2, 0, 1], [1, 1, 0], [0, 2, 2]]), torch.tensor([0, 1, 2]), ks=(1, 3))
    assert abs(answer_1[0] - truth[1]) < 0.01 and abs(answer_1[1] - truth[3]) < 0.01, "not quite: a hit at k needs the class among the first k"
    print("exercise 1: right")

# %% [markdown]
# **2. The size of the paper's retrieval feature.** R(2+1)D's conv5 map for a 16x112x112 clip is
# 512 x 2 x 7 x 7 (channels, time, height, width). How many numbers does VCOP's feature have?
#
# <details><summary>Solution</summary>
#
# Max pooling over (1, 2, 2) with stride (1, 2, 2) and no padding keeps 2 time steps and
# $\lfloor 7/2 \rfloor = 3$ rows and columns: $512 \cdot 2 \cdot 3 \cdot 3 = 9{,}216$ -- against 512
# for a global average.
# </details>

# %%
answer_2 = None  # a number
if answer_2 is None:
    print("exercise 2: not answered yet")
else:
    assert answer_2 == vcop_feature(torch.zeros(1, 512, 2, 7, 7)).shape[1], "not quite: what does a 2x2 max pool with stride 2 leave of 7?"
    print("exercise 2: right")

# %% [markdown]
# **3. When are the 10 clips 10 different clips?** The 10 clips of a video start at frames spaced
# uniformly from frame 0 to the last start where a whole 16-frame clip fits, both included, each start
# rounded to the nearest frame (`numpy.round`, which sends an exact half to the even neighbour). In a
# short video two starts can round to the same frame, and the average then counts that clip twice. What
# is the shortest video (in frames) whose 10 clips start on 10 different frames? And in a video one frame
# shorter, which start frame is used twice?
#
# <details><summary>Solution</summary>
#
# With $N$ frames the last start is $L = N - 16$, and 10 different whole-numbered starts between 0 and $L$
# need $L \ge 9$: $N = 25$, whose starts are exactly 0, 1, ..., 9. One frame shorter, $L = 8$: the
# starts are $8k/9$ for $k = 0..9$, that is 0, 0.89, 1.78, 2.67, 3.56, 4.44, 5.33, 6.22, 7.11, 8, which round to
# 0, 1, 2, 3, 4, 4, 5, 6, 7, 8: the clip from frame 4 is averaged twice. (`test16.eval_starts(n)` of
# section 2 gives the starts of any length: check both.)
# </details>

# %%
answer_3 = None  # (shortest number of frames, the start used twice one frame shorter)
if answer_3 is None:
    print("exercise 3: not answered yet")
else:
    frames, twice = answer_3
    assert len(set(test16.eval_starts(frames).tolist())) == 10, f"in {frames} frames two clips still start together"
    shorter = test16.eval_starts(frames - 1).tolist()
    assert len(set(shorter)) < 10, f"{frames - 1} frames already give 10 different starts"
    assert shorter.count(twice) == 2, f"{frames} frames is right; {twice} is not a start used twice in {frames - 1}"
    print("exercise 3: right")

# %% [markdown]
# **More to try** (no check):
#
# - Fine-tune on more labels (`finetune_overrides={"labels_per_class": 8}` in `pretrain_and_finetune`).
#   Does the gap to random init shrink, as self-supervised pretraining usually does with more labels?
# - The linear probe, the quickstart's second measure: a linear classifier trained on the frozen backbone's
#   features, every convolution left as pretraining made it
#   (`pacekit.study.experiment.linear_probe(nb.config("probe", pretrained=...))`). How far is it below
#   fine-tuning?
# - Retrieve with the fine-tuned network's backbone (`pretrained.finetune.model`). Which feature gains most?
# - Compare `vcop` and `p4` for the random backbone. Why do random features retrieve above chance at all?
#   (Colours, shapes and backgrounds are random per group of videos in the synthetic set, so appearance
#   does not give the class away. What do random 3D convolutions still respond to?)
#
# ## Further reading
#
# - Xu et al., *Self-supervised Spatiotemporal Learning via Video Clip Order Prediction* (VCOP), CVPR 2019: the retrieval protocol and feature the paper follows (Tables 4 and 5).
# - Yao et al., *Video Playback Rate Perception for Self-supervised Spatio-Temporal Representation Learning* (PRP), CVPR 2020: the strongest UCF101-pretrained method the paper compares with in Table 3.
# - Benaim et al., *SpeedNet: Learning the Speediness in Videos*, CVPR 2020, and Chen et al., *RSPNet: Relative Speed Perception for Unsupervised Video Representation Learning*, AAAI 2021: speed pretext tasks, evaluated the same way.
# - Qian et al., *Spatiotemporal Contrastive Video Representation Learning* (CVRL), CVPR 2021: linear evaluation on Kinetics, the protocol that replaced few-label fine-tuning in later work.
# - Tran et al., *A Closer Look at Spatiotemporal Convolutions for Action Recognition*, CVPR 2018: R(2+1)D, the backbone of the paper's retrieval rows.
