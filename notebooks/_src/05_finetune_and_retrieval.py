# %% [markdown]
# # 05 · Fine-tuning, the 10-clip evaluation and video retrieval
#
# Notebook 5 of 6. The pretext task is only a means: the paper judges the pretrained network by how
# well it serves action recognition, fine-tuned (Sec. 4.3, Fig. 4) or frozen for nearest-neighbour
# retrieval (Sec. 4.4, Tables 4 and 5). Both are run here, against a randomly initialised network.
#
# **Why.** If pace prediction taught the network something about motion, its weights should (1) make
# fine-tuning on few labels reach a better accuracy than random weights, and (2) map videos of the
# same action close together, with no fine-tuning at all.
#
# **Contents.** 1. fine-tuning against random init (Fig. 4 at small scale) · 2. the 10-clip evaluation
# · 3. retrieval top-k and neighbour strips (Tables 4 and 5) · exercises.

# %% [setup]
import matplotlib.pyplot as plt
import torch

from pacekit.data import build_dataset
from pacekit.evaluate import plot_confusion
from pacekit.notebook import format_runs, pretrain_and_finetune
from pacekit.plots import plot_training_curves
from pacekit.retrieval import format_table, plot_retrieval_examples, run_retrieval
from pacekit.models import build_backbone
from pacekit.train import eval_transform

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
# The results of both networks (`pacekit.evaluate.evaluate_videos` did this inside
# `pretrain_and_finetune`):

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
# and is a hit at $k$ if one of its $k$ nearest neighbours has its action class. Two features: `p5`, the
# last pooling layer, and `p4`, the global average of the conv4 map (the paper finds p4 better). A
# randomly initialised backbone is the baseline.

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
# The neighbours themselves: each row is a test video (left) and its three nearest training videos,
# framed green when they share its class (frames spread over each video).

# %%
fig = plot_retrieval_examples(retrieval["pace-pretrained"]["p4"], queries, gallery, num_neighbours=3,
                              frame_size=pre_cfg.frame_size)

# %% [markdown]
# **Reading the results.** The paper's numbers (UCF101 split 1, R(2+1)D): p4 top-1 25.6%, top-5 42.7%;
# p5 17.9% and 34.3%; a random R(2+1)D 10.6% and 20.7% (Table 4). The networks here are tiny and briefly
# trained: look for the gap between pretrained and random features, not the absolute values. Retrieval
# needs no labels, so it can show what pretraining learned even where fine-tuning on 4 labelled videos
# per class (2 in fast mode), as the `cpu-tiny` and `gpu-demo` presets do (section 1), stays near chance. In fast mode (`PACEKIT_FAST=1`) the runs last seconds and sit
# near chance.
#
# ## Exercises
#
# 1. Fine-tune on more labels (`finetune_overrides={"labels_per_class": 8}` in `pretrain_and_finetune`).
#    Does the gap to random init shrink, as self-supervised pretraining usually does with more labels?
# 2. The linear probe: `pacekit.probe.linear_probe(nb.config("probe", pretrained=...))` trains only
#    the classifier on the frozen backbone. How far is it below fine-tuning?
# 3. Retrieve with the fine-tuned network's backbone (`pretrained.finetune.model`). Which layer gains most?
# 4. Compare `p4` and `p5` for the random backbone. Why do random features retrieve above chance at all?
#    (Colours, shapes and backgrounds are random per group of videos in the synthetic set, so appearance
#    does not give the class away. What do random 3D convolutions still respond to?)
