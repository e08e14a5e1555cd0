# %% [markdown]
# # 03 · Pace-prediction pretraining, on a GPU or a CPU
#
# Notebook 3 of 6. Here a network learns the pretext task: it sees clips at random paces and predicts
# which pace each one is (Sec. 3.1, Eq. 1). No action label is used. The result, a checkpoint, is what
# notebooks 04-06 fine-tune, probe and look inside.
#
# > **You will learn** what one step of pace prediction computes (Eq. 1) and why the loss starts near
# > $\ln M$; the network this run trains, stage by stage; how R(2+1)D splits a 3D convolution; how to judge
# > the pretext task on unseen videos with a confusion matrix; whether the network reads the pace against
# > each action's own speed.
# >
# > **Before this:** notebook 01 (notebook 02 helps).
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
# **Why.** The paper's claim is that the weights learned this way are a good starting point for action
# recognition (Sec. 4.2, Fig. 4). Before any transfer, the pretext task itself has to be learnable: the
# loss must fall and the pace accuracy on videos the network never saw must rise above chance.
#
# **Where it runs.** The setup cell picks a preset of `pacekit.config` from the hardware; the table below
# is written from those presets when the cell runs, so it always says what the code does.
#
# On Colab choose *Runtime > Change runtime type > GPU* first. Real video comes in two sizes (a clone of
# the repository has the scripts; see the README): `ucf101-mini`, ten UCF101 actions for a Colab T4 in
# about an hour (section 7), or all of UCF101 in `data/ucf101` with
# `python data_scripts/get_ucf101.py --out data/ucf101` (hours).
#
# **Contents.** 1. the configuration · 2. one training step, written out · 3. training, with live curves
# · 4. the pretext accuracy and the pace confusion matrix · 5. the model at every pace · 6. the
# checkpoint · 7. the ucf101-mini course on a Colab GPU · does it reproduce here? · summary, exercises,
# further reading.

# %% [setup]
import math

import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import Markdown, display
from torch import nn

from pacekit.config import get_config
from pacekit.data import build_dataset
from pacekit.data.readers import open_video
from pacekit.data.subsets import UCF101_MINI
from pacekit.data.synthetic import natural_speeds
from pacekit.evaluation.attention import load_pace_clips
from pacekit.evaluation.recognition import evaluate_on_test, pace_accuracy, pace_confusion, pace_confusion_by_class
from pacekit.losses import pace_classification_loss
from pacekit.models import build_backbone, stage_shapes
from pacekit.models.layers import SpatioTemporalConv, r21d_mid_channels
from pacekit.pace import PaceSet, sample_pace_clip
from pacekit.recipes.train import PaceStep, build_pace_model, eval_transform, make_augment
from pacekit.study.estimate import estimate_run
from pacekit.study.plots import plot_pace_confusion, plot_pace_error_by_class, plot_pace_strip, plot_training_curves
from pacekit.teaching.notebook import (
    FAST_OVERRIDES,
    SMALL_SYNTHETIC,
    LiveCurves,
    load_or_train,
    one_run_verdict,
    reproduction_table,
)


# %%
def in_words(c):
    """A config's input, colour jitter and optimiser, in words (read from the config: the text cannot drift)."""
    inputs = {"rgb": "RGB clips", "residual": "residual clips (each clip minus its mean frame)",
              "standardized": "standardized RGB clips (every frame scaled to mean 0, std 1 per channel)"}
    jitter = {"frame": "colour jitter per frame", "clip": "colour jitter per clip", None: "no colour jitter"}
    optimizer = {"sgd": f"SGD (momentum {c.momentum})", "adamw": "AdamW"}
    return (f"{inputs.get(c.input_mode, c.input_mode)}, {jitter.get(c.jitter, c.jitter)}, "
            f"{optimizer.get(c.optimizer, c.optimizer)} at lr {c.lr:g}")


def network(c):
    millions = sum(p.numel() for p in build_backbone(c.backbone, width=c.width).parameters()) / 1e6
    return f"`{c.backbone}` ({millions:.2f}M parameters), {c.clip_len}x{c.crop}x{c.crop} clips"


course = estimate_run(get_config("colab-t4"), UCF101_MINI.train_videos, UCF101_MINI.test_videos, finetunes=2)
rows = ["| where | preset | network | training | data | time |", "|---|---|---|---|---|---|"]
for where, preset, overrides, data, time in (
        ("Colab T4 / a GPU, with `data/ucf101_mini_prepared`", "colab-t4", {},
         f"ucf101-mini ({len(UCF101_MINI.classes)} UCF101 classes, split 1)",
         f"about {course.minutes['total']:.0f} min with fine-tuning (an estimate, section 7)"),
        ("Colab / a GPU, with UCF101 in `data/ucf101`", "paper", {}, "UCF101 train split 1", "hours"),
        ("Colab / a GPU", "gpu-demo", {}, None, "minutes"),
        ("a CPU", "cpu-tiny", {}, None, "a few minutes"),
        ("`PACEKIT_FAST=1` (tests)", "cpu-tiny", FAST_OVERRIDES, "small", "seconds")):
    c = get_config(preset, **overrides)
    if data is None:
        data = f"synthetic ({c.synthetic_classes} classes x {c.synthetic_videos} videos)"
    elif data == "small":
        data = f"synthetic ({SMALL_SYNTHETIC['num_classes']} classes x {SMALL_SYNTHETIC['videos_per_class']} videos)"
    rows.append(f"| {where} | `{preset}` | {network(c)} | {c.epochs} epochs; {in_words(c)} | {data} | {time} |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## 1. The configuration
#
# One dataclass, `pacekit.config.Config`, holds every knob; its fields default to the paper's values
# where the paper states one (Sec. 4.1; `pacekit.config.paper_values()` lists them: not momentum, weight
# decay or frame size, for example) and a preset changes a few. `nb.config(name)` starts from the preset the setup cell picked
# and points the run at `runs/<mode>/<name>`. With a GPU, real video is used when it is there:
# `ucf101-mini` first, else the whole of UCF101.

# %%
ucf101, mini = nb.root / "data" / "ucf101", nb.root / "data" / "ucf101_mini_prepared"
on_gpu = nb.device == "cuda" and not nb.fast
on_mini = on_gpu and (mini / "ucfTrainTestlist").is_dir()
if on_mini:
    cfg = nb.config("pretrain-mini", preset="colab-t4", dataset="ucf101", root=mini.as_posix())
elif on_gpu and (ucf101 / "ucfTrainTestlist").is_dir():
    cfg = nb.config("pretrain", preset="paper", dataset="ucf101", root=ucf101.as_posix())
else:
    nb.ensure_data()
    cfg = nb.config("pretrain")
paper = get_config("paper")
paces = list(PaceSet.from_spec(cfg.pace_set))
print(f"run folder {cfg.run_dir}; dataset {cfg.dataset} at {cfg.root}")
print(f"{'field':<14} {'this run':>16} {'paper':>16}")
for field in ("backbone", "clip_len", "crop", "frame_size", "pace_set", "start_policy", "jitter", "input_mode",
              "epochs", "epoch_repeat", "batch_size", "optimizer", "lr", "lr_step", "weight_decay"):
    print(f"{field:<14} {str(getattr(cfg, field, '-')):>16} {str(getattr(paper, field, '-')):>16}")

# %% [markdown]
# **The network this run trains**, stage by stage: the shape of each stage's output for one clip of this
# run (batch, channels, time, height, width) and the parameters. A 3D ResNet turns a clip into maps that
# shrink in time and space while their channels grow; `p5` is the global average of conv5, one vector
# per clip, and the pace head is one linear layer from it to the $M$ pace logits. R(2+1)D (the paper's)
# splits each $3 \times 3 \times 3$ convolution into a spatial and a temporal one (section 2); the `tiny-fine`
# network of the CPU preset is an R3D with few channels and a stem of stride 4, so it runs in minutes; its
# conv4 and conv5 halve time only, so conv5 keeps a 7x7 grid on 56-pixel crops, as Fig. 5's conv5 has.

# %%
net = build_pace_model(cfg, len(paces))
shapes = stage_shapes(net, (3, cfg.clip_len, cfg.crop, cfg.crop))
backbone = net.backbone
count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
params = {name: count(backbone.stage_module(name)) for name in ("conv2", "conv3", "conv4", "conv5")}
params["conv1"] = count(backbone) - sum(params.values())  # the stem: everything before conv2
print(f"{'stage':<7}{'output for one clip':>26}{'parameters':>12}")
for stage_name, shape in shapes.items():
    shown = f"{params[stage_name]:,}" if stage_name in params else "- (pooling)"
    print(f"{stage_name:<7}{str((1, *shape[1:])):>26}{shown:>12}")
print(f"{'head':<7}{str((1, len(paces))):>26}{sum(p.numel() for p in net.head.parameters()):>12,}")
print(f"{cfg.backbone}: {sum(p.numel() for p in net.parameters()):,} parameters in all")

# %% [markdown]
# Where this run departs from the paper's recipe: the paper trains a 14M-parameter R(2+1)D for hours on
# UCF101, the synthetic-set presets train for minutes. Each preset's departures are explained beside it
# in `pacekit/config.py`.

# %%
departures = [f"- `{name}`: **{getattr(cfg, name)!r}** here, {getattr(paper, name)!r} in the paper"
              for name in ("input_mode", "jitter", "optimizer", "lr", "backbone", "clip_len", "crop")
              if getattr(cfg, name) != getattr(paper, name)]
display(Markdown(f"This run (`{nb.preset}` preset{', fast mode' if nb.fast else ''}) feeds "
                 f"{in_words(cfg)}; the paper feeds {in_words(paper)}.\n\n" + ("\n".join(departures) or
                 "It follows the paper on all of these.")))

# %% [markdown]
# ## 2. One training step, written out
#
# **How.** Everything `pacekit.recipes.train.PaceStep` and the training loop do in one step, with pacekit's
# pieces and nothing hidden: for each video of a batch, (1) draw a pace $p$ from the pace set and a start
# frame (`sample_pace_clip`, notebook 01) and (2) read the clip $g(x|p)$; (3) augment the batch (random
# crop, flip, colour jitter as configured, the input mode); (4) the network's pace logits $h$; (5) the
# cross-entropy of Eq. 1,
#
# $$\mathcal{L}_{cls} = -\sum_{i=1}^{M} y_i \log \frac{\exp(h_i)}{\sum_{j=1}^{M} \exp(h_j)},$$
#
# with $M$ the number of paces and $y$ the one-hot pace label, averaged over the batch; (6) backward and
# one optimiser step. Here the network is a fresh one, so the loss is also the practitioner's first
# sanity check: with random weights the logits are nearly equal, every pace gets probability about
# $1/M$, and the loss must be close to $\ln M$. A loss far from it at step 0 means a bug (labels off by
# one, logits scaled, a softmax applied twice).

# %%
torch.manual_seed(nb.seed)
rng = np.random.default_rng(nb.seed)
pace_set = PaceSet.from_spec(cfg.pace_set)
train_videos = build_dataset(cfg.dataset, cfg.root, "train", mode="eval").records
net = build_pace_model(cfg, len(pace_set)).to(nb.device).train()     # backbone -> pace head: M logits
augment = make_augment(cfg)                                           # crop, flip, jitter, input mode
optimizer = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay) if cfg.optimizer == "adamw" \
    else torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)

clips, labels = [], []
for i in rng.choice(len(train_videos), size=16, replace=False):      # a batch of 16 videos
    with open_video(train_videos[i].path, size=cfg.frame_size) as reader:
        clip = sample_pace_clip(reader.num_frames, cfg.clip_len, pace_set, rng, policy=cfg.start_policy)  # (1)
        clips.append(reader.get_frames(clip.indices))                # (2) (T, H, W, C) uint8
        labels.append(clip.label)
video, labels = torch.stack(clips).to(nb.device), torch.tensor(labels, device=nb.device)  # (B, T, H, W, C), (B,)
generator = torch.Generator(nb.device).manual_seed(nb.seed)
x = augment(video, generator=generator)                              # (3) (B, C, T, h, w) float
logits = net(x)                                                      # (4) (B, M): h of Eq. 1
loss = F.cross_entropy(logits, labels)                               # (5) Eq. 1, mean over the batch
optimizer.zero_grad()
loss.backward()                                                      # (6)
optimizer.step()

print(f"batch {tuple(x.shape)}, paces drawn {[str(p) for p in sorted(pace_set.pace_of(int(k)) for k in labels)]}")
print(f"loss at initialisation {loss.item():.3f}, ln M = ln {len(pace_set)} = {math.log(len(pace_set)):.3f}")
assert abs(loss.item() - math.log(len(pace_set))) < 0.3, "the loss at initialisation should be close to ln M"
assert torch.allclose(loss, pace_classification_loss(logits, labels))  # pacekit's Eq. 1 is the same

# %% [markdown]
# The same step through pacekit: `PaceStep` on the same clips, with a generator in the same state (so
# the same crops, flips and jitter), on a network with the same starting weights, gives the same loss.

# %%
torch.manual_seed(nb.seed)
same_start = build_pace_model(cfg, len(pace_set)).to(nb.device).train()
pacekit_loss, _, _ = PaceStep(cfg, augment)(same_start, {"video": video, "pace_label": labels},
                                                      torch.Generator(nb.device).manual_seed(nb.seed))
print(f"written out {loss.item():.6f}, pacekit.recipes.train.PaceStep {pacekit_loss.item():.6f}")
assert torch.allclose(loss, pacekit_loss, atol=1e-5)

# %% [markdown]
# **The network.** The paper's backbone for most results is R(2+1)D (Tran et al. 2018; Sec. 3.3: it
# "break[s] the original spatiotemporal 3D convolution into a 2D spatial convolution and a 1D temporal
# convolution"; it is the 3D CNN $f$ of Fig. 3(b)). A $t \times d \times d$ convolution from $N_{i-1}$ to
# $N_i$ channels becomes a $1 \times d \times d$ spatial convolution to $M_i$ channels, batch norm, ReLU,
# then a $t \times 1 \times 1$ temporal convolution to $N_i$ channels, with
#
# $$M_i = \left\lfloor \frac{t d^2 N_{i-1} N_i}{d^2 N_{i-1} + t N_i} \right\rfloor,$$
#
# chosen so that the pair has the parameters of the full 3D convolution (Tran et al., Sec. 3.5). Written
# out and checked against the convolution pacekit's `r21d` backbone is made of:

# %%
class R2Plus1dConv(nn.Module):
    """(B, N_in, T, H, W) -> (1, d, d) conv to M -> BN -> ReLU -> (t, 1, 1) conv -> (B, N_out, T, H, W)."""

    def __init__(self, n_in, n_out, t=3, d=3):
        super().__init__()
        m = (t * d * d * n_in * n_out) // (d * d * n_in + t * n_out)  # M_i: the full conv's parameter count
        self.spatial = nn.Conv3d(n_in, m, (1, d, d), padding=(0, d // 2, d // 2), bias=False)
        self.bn = nn.BatchNorm3d(m)
        self.temporal = nn.Conv3d(m, n_out, (t, 1, 1), padding=(t // 2, 0, 0), bias=False)

    def forward(self, x):
        return self.temporal(F.relu(self.bn(self.spatial(x))))


ours = R2Plus1dConv(128, 128).eval()
theirs = build_backbone("r21d").conv3.block1.conv2
theirs = theirs.eval()  # conv3's second (2+1)D conv: 128 -> 128, 3x3x3, stride 1
assert isinstance(theirs, SpatioTemporalConv)
def count(module):
    return sum(p.numel() for p in module.parameters())


full = nn.Conv3d(128, 128, 3, padding=1, bias=False)
print(f"M = {ours.bn.num_features} (pacekit: {r21d_mid_channels(128, 128, 3)}); parameters: ours {count(ours):,}, "
      f"pacekit {count(theirs):,}, a full 3x3x3 conv {count(full):,}")
assert count(ours) == count(theirs)
ours.load_state_dict({k.replace("spatial_conv", "spatial").replace("temporal_conv", "temporal"): v
                      for k, v in theirs.state_dict().items()})
x = torch.randn(2, 128, 4, 14, 14)  # (B, C, T, H, W)
with torch.no_grad():
    assert ours(x).shape == theirs(x).shape == (2, 128, 4, 14, 14)
    assert torch.allclose(ours(x), theirs(x), atol=1e-5)  # with the same weights: the same function
print("the written-out (2+1)D conv computes what pacekit's computes")

# %% [markdown]
# ## 3. Training, with live curves
#
# `pacekit.recipes.train.pretrain` repeats the step above over the training videos for the configured number of
# epochs (printed in section 1), with the preset's optimiser and the learning rate divided by 10 every
# `lr_step` epochs (the paper: SGD, Sec. 4.1). The figure below is redrawn after every epoch: lines are
# windows of `log_every` steps, dots epoch means.
#
# **Checkpoint reuse.** If `runs/.../pretrain/last.pt` exists and was trained with the same settings,
# it is loaded instead (a rerun takes seconds); delete the folder to train again. For a long run add
# `progress=True` to `nb.config(...)` for a progress bar within each epoch.

# %%
live = LiveCurves(cfg.run_dir, title=f"pace prediction pretraining: {cfg.backbone} on {cfg.dataset}")
result = load_or_train(cfg, "pretrain", on_epoch_end=live)
if live.updates == 0:  # loaded: draw the curves it was trained with
    fig = plot_training_curves(result.metrics, title=live.title)
model = result.model
device = next(model.parameters()).device
print(f"final training pace accuracy {100 * result.final('acc'):.1f}% (chance {100 / len(paces):.0f}%)")

# %% [markdown]
# ## 4. The pretext accuracy on held-out videos, and which paces it confuses
#
# Training accuracy can come from memorising videos. The test split's videos were never seen: one clip
# per video at a random (seeded) pace, centre-cropped, no jitter.

# %%
accuracy = pace_accuracy(model, cfg, "test", device=device, batch_size=cfg.eval_batch_size)
print(f"pace accuracy on the test videos: {100 * accuracy:.1f}% (chance {100 / len(paces):.0f}%)")

# %% [markdown]
# One number hides *which* paces the model tells apart. The confusion matrix
# (`pacekit.evaluation.recognition.pace_confusion`) counts, for clips of the test videos at each true pace (rows), the
# pace the model answered (columns); a few clips per video make the counts steadier. A model that has
# learned the task has a heavy diagonal; one that learned only "slow or fast" has two blocks; one stuck
# at a single answer fills one column.

# %%
confusion = pace_confusion(model, cfg, "test", device=device, batch_size=cfg.eval_batch_size,
                           clips_per_video=2 if nb.fast else 4)
fig = plot_pace_confusion(confusion, paces, title=None)
print("recall per pace (%):", {str(p): round(100 * float(r), 1) for p, r in zip(paces, np.diag(confusion) / confusion.sum(1))})

# %% [markdown]
# **Reading it.** Neighbouring paces are the hard pairs: pace 3 against pace 4 differs by a third of the
# speed, pace 1 against pace 4 by a factor of four. An extreme pace has one neighbour to be confused with, a
# middle pace two, so the middle paces tend to be recalled worst; the printed recalls say how it went here.
# The paper's R(2+1)D, trained for hours on UCF101, is not measured here.
#
# Is it reading each clip against its action's own speed? Split the same clips by the action of their
# video (`pacekit.evaluation.recognition.pace_confusion_by_class`) and take, per action, the mean error in pace steps
# (predicted minus true). On the synthetic set every action has its own natural speed
# (`pacekit.data.synthetic.natural_speeds`, the slowest at the top of the figure). A network that judges
# pace against the action's speed errs both ways in every action; one that reads the absolute speed calls
# the slow actions slow and the fast ones fast, so its errors climb with the natural speed.

# %%
by_class = pace_confusion_by_class(model, cfg, "test", device=device, batch_size=cfg.eval_batch_size,
                                   clips_per_video=2 if nb.fast else 4)
assert (by_class.counts.sum(0) == confusion).all()  # the same clips as the matrix above
speeds = natural_speeds(cfg.root, by_class.classes)  # None off the synthetic set
fig = plot_pace_error_by_class(by_class, speeds)
errors = by_class.mean_error()
order = np.argsort(speeds) if speeds is not None else np.arange(len(errors))
print("mean pace error (pace steps), slowest action first:",
      ", ".join(f"{by_class.classes[k]} {errors[k]:+.2f}" for k in order))
r = by_class.error_correlation(speeds) if speeds is not None else None
if r is not None:
    print(f"correlation of the actions' natural speed with their mean pace error: r = {r:+.2f}")

# %% [markdown]
# **Reading it.** Where the errors climb with the natural speed (a printed r well above 0), the network
# calls slow actions slow and fast ones fast: that part of its accuracy comes from the absolute speed,
# which the pace and the action's own speed share; the rest needs the content -- what each action looks
# like at its natural pace, which the paper argues pace prediction teaches. Try it: `pacekit quickstart
# --pretrain-speed-spread 1` pretrains on a copy of the set where every action has one speed and
# transfers to the set itself; its report gives the pace accuracy on both.
#
# ## 5. See it: one test video at every pace
#
# The same start frame, every pace of the set, and what the network says about each clip. One video is
# an anecdote; the matrix above is the evidence.

# %%
video_record = build_dataset(cfg.dataset, cfg.root, "test", mode="eval").records[0]
pace_clips = load_pace_clips(video_record.path, paces, cfg.clip_len, start=0, frame_size=cfg.frame_size)  # (P, T, H, W, C)
model.eval()
with torch.inference_mode():
    predicted = model(eval_transform(cfg)(pace_clips.to(device))).argmax(1).tolist()  # centre crop, input mode
strips = {f"p = {p}\nmodel: p = {paces[k]}": c.numpy() for p, c, k in zip(paces, pace_clips, predicted)}
fig = plot_pace_strip(strips, max_frames=cfg.clip_len,
                      title=f"{video_record.path.name}: one clip per pace and the model's answer")
print(f"right on {sum(k == i for i, k in enumerate(predicted))} of the {len(paces)} clips of this video")

# %% [markdown]
# ## 6. The checkpoint
#
# `last.pt` holds the model, the optimiser, the scheduler, the random states, the config (a plain dict)
# and the metrics; it loads with `torch.load(..., weights_only=True)`. Notebooks 04-06 call
# `load_or_train(nb.config("pretrain"), "pretrain")` and get this run back in a second. The command line
# does the same training: `pacekit pretrain --preset cpu-tiny --dataset synthetic --root data/synthetic`.

# %%
print(f"checkpoint: {result.checkpoint.as_posix()}")
print(f"stored metrics: {len(result.metrics)} rows, last epoch {[r for r in result.metrics if r['kind'] == 'epoch'][-1]['epoch']}")

# %% [markdown]
# ## 7. On a Colab GPU: the ucf101-mini course
#
# Real video in about an hour on Colab's T4, the data's download and preparation included: `ucf101-mini` is ten UCF101 actions of split 1 whose motion
# and speed differ (`pacekit.data.subsets` lists each with the reason it is there). Get it with
#
# ```
# python data_scripts/get_ucf101.py --out data/ucf101_mini --subset ucf101-mini --delete-archives --prepare
# ```
#
# It downloads UCF101's one 6.5 GB archive, extracts only the ten classes, deletes the archive and
# prepares them into `data/ucf101_mini_prepared`. Then rerun this notebook on the GPU: section 1 picks the
# `colab-t4` preset (the paper's R(2+1)D, clips and SGD in fp16, a shorter schedule), section 3 pretrains,
# and the cell below fine-tunes from the pretrained and from random weights and evaluates both with 10
# clips per video. With `PACEKIT_RUNS` on a mounted Drive a disconnect costs at most an epoch: the next run
# of the notebook resumes. The command line does the same: `pacekit pretrain --preset colab-t4` (it
# resumes when run again), then `pacekit finetune` and `pacekit evaluate`.
#
# No T4 was measured for this estimate: the work is counted (clips times the FLOPs of one clip of this
# network) and the rate assumed (the T4's fp16 peak times the share of its peak the same network reached
# on an H200).

# %%
print(f"colab-t4 on {UCF101_MINI.name}: {course.pretrain_clips:,} pretraining clips, {course.finetune_clips:,} for two "
      f"fine-tunings, {course.eval_clips:,} to evaluate; {course.train_gflops_per_clip:.0f} GFLOPs a training clip; "
      f"at {100 * course.fraction_of_peak:.1f}% of the T4's fp16 peak {course.clips_per_s:.0f} clips/s: about "
      f"{course.minutes['pretrain']:.0f} + {course.minutes['finetune']:.0f} + {course.minutes['evaluate']:.0f} min "
      "(an estimate)")
if on_mini:
    scores = {}
    for label, pretrained in (("pace-pretrained", str(result.checkpoint)), ("random init", None)):
        ft = cfg.replace(name="finetune-mini-" + ("pretrained" if pretrained else "random"), pretrained=pretrained)
        scores[label] = evaluate_on_test(load_or_train(ft, "finetune").model, ft, device=device).top1
    paper_top1 = {"pace-pretrained": 73.9, "random init": 56.0}  # Table 1, R(2+1)D, p = [1, 4] with colour jitter
    display(Markdown("\n".join(
        ["| init | this run: ucf101-mini top-1 (10 classes) | the paper: UCF101 top-1 (101 classes) |", "|---|---|---|",
         *(f"| {k} | {100 * v:.1f}% | {paper_top1[k]:.1f}% |" for k, v in scores.items())])))
else:
    print("no GPU with data/ucf101_mini_prepared here: the course above is not run")

# %% [markdown]
# ## Does it reproduce here?
#
# The table and the two sentences below are written from this run's numbers when the cell runs.

# %%
chance = 1 / len(paces)
rows = [("the pace of unseen videos can be learned (Sec. 3.1)", "no pace accuracy reported",
         f"{100 * accuracy:.1f}% on the test videos, chance {100 * chance:.0f}%", one_run_verdict(accuracy, chance))]
if r is not None:
    rows.append(("the pace is read against the action's own speed (Sec. 3)", "argued, not measured",
                 f"pace error against natural speed: r = {r:+.2f}", "no bar: r near 0 would mean it is"))
takeaway = (f"The network learned the pretext task: it named the pace of {100 * accuracy:.1f}% of the clips of "
            f"videos it never saw, against {100 * chance:.0f}% by chance.")
if r is not None:
    takeaway += (f" Its errors {'climb' if r > 0 else 'do not climb'} with the actions' natural speed (r = {r:+.2f}), "
                 + ("so part of what it reads is the absolute speed." if r > 0 else "so it reads more than the speed."))
display(Markdown(reproduction_table(rows) + "\n\n" + takeaway))

# %% [markdown]
# ## Summary
#
# 1. Pace prediction is plain classification: sample a pace and a clip, predict the pace, cross-entropy (Eq. 1); no action label anywhere.
# 2. One step is about twenty lines of pacekit pieces, and `PaceStep` computes exactly the same loss.
# 3. At initialisation the loss is close to $\ln M$ ($M$ paces): the first sanity check of any classifier.
# 4. R(2+1)D splits each $t \times d \times d$ convolution into a spatial and a temporal one of the same parameter count ($M_i$).
# 5. Judge the pretext task on held-out videos, and read the confusion matrix, not only the accuracy.
#
# ## Exercises
#
# Each answer cell checks what you write in it: replace `None` by your answer and run the cell.
#
# **1. How far does "slow or fast" take the loss?** A fresh network's loss starts near $\ln M$
# (section 2). Take Fig. 2's five paces (`pace_set="absolute"`: 1/3, 1/2, 1, 2, 3) and a network that
# always knows whether a clip is slow ($p < 1$), normal ($p = 1$) or fast ($p > 1$) but nothing more: it
# spreads its probability evenly over the paces of the right group. What is its loss (Eq. 1), averaged
# over clips whose paces are drawn uniformly? Give a number rounded to two decimals. A training curve that
# flattens near it has learned little beyond slow against fast.
#
# <details><summary>Solution</summary>
#
# A slow clip gets probability 1/2 on its true pace (two slow paces), a normal clip 1, a fast clip 1/2:
# the losses are $\ln 2$, 0 and $\ln 2$, and over the five paces the mean is
# $(2 \ln 2 + 0 + 2 \ln 2) / 5 = \tfrac{4}{5} \ln 2 \approx 0.55$, against $\ln 5 \approx 1.61$ at
# initialisation.
# </details>

# %%
answer_1 = None  # a number
if answer_1 is None:
    print("exercise 1: not answered yet")
else:
    absolute = list(PaceSet.from_spec("absolute"))
    group = [(p > 1) - (p < 1) for p in absolute]  # -1 slow, 0 normal, 1 fast
    even = torch.tensor([[0.0 if g == h else -1e9 for h in group] for g in group])  # a clip per pace: even in its group
    group_loss = pace_classification_loss(even, torch.arange(len(absolute))).item()  # Eq. 1, mean over the clips
    assert abs(answer_1 - group_loss) <= 0.005, "not quite: what probability does each clip's true pace get?"
    print("exercise 1: right")

# %% [markdown]
# **2. A (2+1)D convolution by hand.** conv4's first convolution in R(2+1)D goes from 128 to 256 channels
# with a $3 \times 3 \times 3$ kernel. What is $M$, and how many weights do the spatial and the temporal
# convolution have together (no batch norm)? Compare with the full 3D convolution.
#
# <details><summary>Solution</summary>
#
# $M = \lfloor 27 \cdot 128 \cdot 256 / (9 \cdot 128 + 3 \cdot 256) \rfloor = \lfloor 884736 / 1920
# \rfloor = 460$. Spatial: $460 \cdot 128 \cdot 9 = 529{,}920$; temporal: $256 \cdot 460 \cdot 3 =
# 353{,}280$; together 883,200, against $27 \cdot 128 \cdot 256 = 884{,}736$ for the full convolution.
# `R2Plus1dConv(128, 256)` above has them, plus $2M$ batch-norm parameters.
# </details>

# %%
answer_2 = None  # (M, number of weights)
if answer_2 is None:
    print("exercise 2: not answered yet")
else:
    block = R2Plus1dConv(128, 256)
    assert answer_2[0] == r21d_mid_channels(128, 256, 3), "not quite: M uses floor(t d^2 N_in N_out / (d^2 N_in + t N_out))"
    assert answer_2[1] == block.spatial.weight.numel() + block.temporal.weight.numel(), "M is right; recount the weights"
    print("exercise 2: right")

# %% [markdown]
# **3. Precision per pace from the matrix.** Section 4 printed the recall per pace: of the clips *at*
# each pace, the share the model got right. Write a function of a confusion matrix `m` (rows: true pace,
# columns: answered pace, as `confusion`) that gives the other reading: of the clips the model *called*
# each pace, the share that really were that pace (an array of $M$ numbers). The check tries it on two
# small matrices, then prints it for this run's.
#
# <details><summary>Solution</summary>
#
# The diagonal over the column sums: `lambda m: np.diag(m) / m.sum(axis=0)` (columns are the answers). A
# pace the model calls too often has a low precision and a high recall.
# </details>

# %%
answer_3 = None  # a function of a confusion matrix, e.g. lambda m: ...
if answer_3 is None:
    print("exercise 3: not answered yet")
else:
    small = np.array([[3, 1, 0], [2, 2, 0], [1, 0, 4]])  # 3 paces; rows: true pace, columns: answered
    assert np.allclose(answer_3(small), [0.5, 2 / 3, 1.0]), "not quite: columns are the answers"
    assert np.allclose(answer_3(small.T), [0.75, 0.5, 0.8]), "right on one matrix only: use m, not numbers"
    print("exercise 3: right; precision per pace (%):",
          {str(p): round(100 * float(v), 1) for p, v in zip(paces, answer_3(confusion))})

# %% [markdown]
# **More to try** (no check):
#
# - **The shortcut of notebook 01.** Train with `nb.config("pretrain-any", start_policy="any")`. Is the
#   pretext accuracy higher? On the test videos, clips are drawn with the same policy: a cut detector
#   would score there too. Then fine-tune both checkpoints (notebook 05): which transfers better?
# - **Colour jitter.** Sec. 3.1 ("Avoid Shortcuts") finds jitter per frame much better than per clip, a
#   finding stated in the text; Table 1 only compares jitter on and off. Train with `jitter="clip"` and
#   with `jitter="frame"` and compare the pretext accuracy and, in notebook 05, the fine-tuned accuracy.
# - **Pace sets** (Table 1): train with `pace_set="absolute"` (1/3 ... 3) and with `"1,2,3,4,5"`, and
#   compare their confusion matrices.
# - **Longer training.** Double `epochs`. Does the held-out accuracy follow the training accuracy?
# - **On a GPU**, compare `precision="bf16"` with `"fp32"`: the curves should overlap; the time per
#   epoch should not.
#
# ## Further reading
#
# - Tran et al., *A Closer Look at Spatiotemporal Convolutions for Action Recognition*, CVPR 2018: R(2+1)D and the formula for $M_i$ (its Sec. 3.5).
# - Xu et al., *Self-supervised Spatiotemporal Learning via Video Clip Order Prediction* (VCOP), CVPR 2019: the clip-order pretext task this paper compares with, on the same backbones.
# - Yao et al., *Video Playback Rate Perception for Self-supervised Spatio-Temporal Representation Learning* (PRP), CVPR 2020: playback-rate classification with a reconstruction branch.
# - Benaim et al., *SpeedNet: Learning the Speediness in Videos*, CVPR 2020: is this video sped up? -- and what a network learns from that.
# - Chen et al., *RSPNet: Relative Speed Perception for Unsupervised Video Representation Learning*, AAAI 2021: compares the speeds of two clips instead of classifying one.
# - Qian et al., *Spatiotemporal Contrastive Video Representation Learning* (CVRL), CVPR 2021: where contrastive video pretraining went next.
