# %% [markdown]
# # 06 · Where the network looks: attention maps across paces (Fig. 5)
#
# Notebook 6 of 6. The paper's Fig. 5 overlays the conv5 attention of the pace-pretrained network on
# the last frame of clips at paces 1 to 4, and observes that "the neural network will pay more attention
# to the motion areas when learning the pace prediction task". Here that figure is redrawn with two
# methods -- activation-based attention, the paper's, and Grad-CAM through captum -- and the claim is
# measured.
#
# > **You will learn** how activation-based attention (the paper's Fig. 5) and Grad-CAM are computed; how
# > to measure whether attention sits on the moving object, against a randomly initialised network; why a
# > map's resolution limits what it can show.
# >
# > **Before this:** notebook 03.
# >
# > **Run time:** {run_time}
# >
# > **Shipped weights:** on a CPU the notebook loads the pretrained network that ships with pacekit instead of
# > pretraining it, and says so. To pretrain it here, set `PACEKIT_PRETRAINED=0` before starting
# > Jupyter (or write `nb = setup(shipped=False)` in the setup cell); with a GPU it pretrains.
# > Section 4's R(2+1)D is loaded from pacekit outside fast mode whatever `PACEKIT_PRETRAINED` says
# > (`TRAIN_R21D = True` trains it).
# >
# > **On Colab:** set `PACEKIT_RUNS=/content/drive/MyDrive/pacekit-runs` (Drive mounted) before the setup
# > cell to keep runs between sessions; an interrupted training resumes where it stopped.
#
# **Why.** A good pretext accuracy could come from a shortcut (notebook 01). If the network solves pace
# prediction by looking at what moves, its attention should sit on the moving object rather than on
# the background.
#
# **Contents.** 1. activation attention, Fig. 5 · 2. Grad-CAM · 3. does attention sit on the motion?
# · 4. the paper's network · does it reproduce here? · summary, exercises, further reading.

# %% [setup]
import numpy as np
import torch
from IPython.display import Markdown, display

from pacekit.data import build_dataset
from pacekit.evaluation.attention import (
    AttentionGrid,
    attention_scores,
    attention_stage,
    check_start,
    clip_attention,
    grad_cam,
    last_frame_masks,
    load_pace_clips,
    plot_attention_grid,
)
from pacekit.models import build_backbone, build_model
from pacekit.pace import PaceSet
from pacekit.recipes.train import eval_transform
from pacekit.study.claims.table import paper_numbers
from pacekit.teaching.notebook import load_or_train, one_run_verdict, reproduction_table

# %% [markdown]
# ## 1. Activation-based attention (Fig. 5)
#
# **How** (Zagoruyko and Komodakis, the paper's ref. [59]). For a stage map $A$ of shape $(C, T', H', W')$
# the attention is the channel sum of the squared activations, $F(A) = \sum_c |A_c|^2$; pacekit averages
# it over the stage's time axis, upsamples it to the frame and rescales it to $[0, 1]$
# (`pacekit.evaluation.attention.clip_attention`). Each column is a clip at one pace from the same start frame;
# the map is laid over the clip's **last** frame (which frame of the video that is, exercise 1 asks). The model
# is notebook 03's (loaded, or trained now); to its right, the same network with random weights, the
# baseline. The mover is outlined in white: the synthetic set's ground-truth mask of that frame.
#
# The paper's conv5 map is 7x7 for R(2+1)D on 112-pixel crops. The CPU network, `tiny-fine`, keeps its conv5 at
# 7x7 on 56-pixel crops, so the maps come from conv5 as in Fig. 5. The rule, for any network: the deepest stage
# at least as fine as the paper's map (`pacekit.evaluation.attention.attention_stage`, the rule the quickstart's
# and the ledger's scores use; the `tiny` network's conv5 is 2x2 there, so it would be read at conv3).

# %%
nb.ensure_data()
cfg = nb.config("pretrain")
model = load_or_train(cfg, "pretrain").model.eval()
device = next(model.parameters()).device
paces = list(PaceSet.from_spec(cfg.pace_set))
records = build_dataset(cfg.dataset, cfg.root, "test", mode="eval").records
by_class = {r.label: r for r in records}  # one test video per class
videos = [by_class[c].path for c in sorted(by_class)[:3]]
clips = {v: load_pace_clips(v, paces, cfg.clip_len, start=0, frame_size=cfg.frame_size) for v in videos}  # (P, T, H, W, C)
transform = eval_transform(cfg)  # what the network sees: centre crop, normalise, the run's input mode
stage = attention_stage(model, cfg)  # as fine as Fig. 5's 7x7: conv5 here and at the paper's sizes


# the mover's pixels in each drawn frame: the synthetic set's ground-truth masks (outlined in white)
outlines = np.stack([last_frame_masks(v, paces, cfg.clip_len, 0, cfg.frame_size, cfg.crop) for v in videos])


def pace_grid(map_fn, title):
    """Fig. 5's layout: rows = videos, columns = paces, ``map_fn(x) -> (P, h, w)`` over each clip's last frame."""
    maps, frames = [], []
    for v in videos:
        maps.append(map_fn(transform(clips[v].to(device))).detach().cpu().numpy())
        h, w = clips[v].shape[2:4]
        top, left = (h - cfg.crop) // 2, (w - cfg.crop) // 2  # the same centre crop, for display
        frames.append(clips[v][:, -1, top:top + cfg.crop, left:left + cfg.crop].numpy())
    return AttentionGrid(np.stack(frames), np.stack(maps), paces, [v.name for v in videos], title, outlines)


torch.manual_seed(nb.seed)
random_model = build_model(cfg.backbone, len(paces), width=cfg.width).eval()  # the baseline: no pretraining
activation = pace_grid(lambda x: clip_attention(model, x, stage), stage)
random_activation = pace_grid(lambda x: clip_attention(random_model, x, stage), stage)
fig = plot_attention_grid(activation, beside={"random init": random_activation})

# %% [markdown]
# ## 2. Grad-CAM (captum)
#
# **How** (Selvaraju et al.). Grad-CAM weights each channel of the stage by the mean gradient of one logit
# -- here the logit of the clip's own pace -- sums, keeps the positive part and interpolates to the clip
# (`pacekit.evaluation.attention.grad_cam`, through captum's `LayerGradCam`). Activation attention says where the
# stage responds strongly; Grad-CAM says where the evidence *for this pace* is. Deep stages are coarse in
# time (R(2+1)D's conv5 has 2 time steps for 16 frames), so the map changes slowly over a clip; the
# figure shows the last frame's.

# %%
own_pace = torch.arange(len(paces))  # column k is a clip at pace k: explain logit k
gradcam = pace_grid(lambda x: grad_cam(model, x, own_pace.to(x.device), stage)[:, -1], f"{stage} Grad-CAM")
random_gradcam = pace_grid(lambda x: grad_cam(random_model, x, own_pace.to(x.device), stage)[:, -1], "Grad-CAM")
fig = plot_attention_grid(gradcam, beside={"random init": random_gradcam})

# %% [markdown]
# ## 3. Does the attention sit on the motion?
#
# A motion map for each clip: the mean absolute difference between consecutive frames, in the same
# centre crop. The share of a map's attention that falls on the 10% of pixels with the most motion is
# 10% for a map that ignores motion; the higher, the more the map follows what moves. A randomly
# initialised network is the baseline.

# %%
def share_on_motion(grid, top=0.10):
    """Mean share of attention on each clip's top-``top`` motion pixels."""
    shares = []
    for r, v in enumerate(videos):
        h, w = clips[v].shape[2:4]
        top_, left = (h - cfg.crop) // 2, (w - cfg.crop) // 2
        crop = clips[v][:, :, top_:top_ + cfg.crop, left:left + cfg.crop].float()  # (P, T, h, w, C)
        motion = crop.diff(dim=1).abs().mean(dim=(1, 4)).numpy()  # (P, h, w)
        for m, mo in zip(grid.maps[r], motion):
            on = mo >= np.quantile(mo, 1 - top)
            shares.append(m[on].sum() / max(m.sum(), 1e-12))
    return float(np.mean(shares))


shares = {"activation attention": (share_on_motion(activation), share_on_motion(random_activation)),
          "Grad-CAM": (share_on_motion(gradcam), share_on_motion(random_gradcam))}
print("share of attention on the 10% most moving pixels (10% = blind to motion):")
for method, (pre, ran) in shares.items():
    print(f"  pace-pretrained, {method:<22} {100 * pre:5.1f}%")
    print(f"  random init, {method:<26} {100 * ran:5.1f}%")
print(f"input mode of this run: {cfg.input_mode!r} (the paper's: 'rgb')")

# %% [markdown]
# **Reading it.** The paper shows Fig. 5 for a fully trained R(2+1)D on UCF101: attention on the moving
# parts. Here the question is whether pace pretraining moved the maps toward the motion compared with the
# same network's random weights: the table below says, for both methods. The quickstart scores the
# activation attention against the synthetic set's ground-truth masks over five seeds (`docs/results.md`).
# Two caveats for your own runs: with residual clips (`input_mode="residual"`) the static scene is
# subtracted before the network, so any network's maps, random ones included, concentrate where things
# move and a high share is no evidence of learning; with the input of this run, which keeps the static
# scene, the comparison with random weights is the paper's. Random weights can score above a blind map's
# 10% too (the shares printed above), so compare the two networks, not either with 10%.
#
# ## 4. The paper's network: R(2+1)D at a quarter of its width
#
# Fig. 5 is drawn for R(2+1)D. A copy at a quarter of its width, pace-pretrained as in the claims ledger
# (the `claims` preset, a shorter schedule than the quickstart's, on the same synthetic set), ships with pacekit: pretraining it takes
# about half an hour on a 2-core CPU, so outside fast mode the next cell loads it; set `TRAIN_R21D = True`
# to pretrain it yourself. On the 56-pixel crops its conv5 is 4x4, so the rule above reads conv4 (7x7). The
# `claims` preset pretrains on 8-frame clips: the score below reads it on those, the grid on section 1's clips.
#
# The grid below is section 1's, for this network. Then the score the quickstart and the ledger's C6 use,
# for both networks of this notebook: the share of the attention inside the mover's ground-truth masks,
# over every test video at paces 1 to 4 from frame 0 (`pacekit.evaluation.attention.attention_scores`),
# beside the masks' share of the picture, which a map blind to the mover scores on average.

# %%
TRAIN_R21D = False  # True: pretrain it here (about half an hour on a CPU) instead of loading the shipped one
r21d_cfg = nb.config("pretrain_r21d", preset="claims", backbone="r21d", width=0.25, device=cfg.device,
                     threads=cfg.threads)
r21d = load_or_train(r21d_cfg, "pretrain", shipped=not (nb.fast or TRAIN_R21D),
                     train_hint="set TRAIN_R21D = True to train it yourself").model.eval()
r21d_stage = attention_stage(r21d, r21d_cfg)
torch.manual_seed(nb.seed)
r21d_random = build_model("r21d", len(paces), width=0.25).to(device).eval()
fig = plot_attention_grid(pace_grid(lambda x: clip_attention(r21d, x, r21d_stage), f"R(2+1)D x0.25 {r21d_stage}"),
                          beside={"random init": pace_grid(lambda x: clip_attention(r21d_random, x, r21d_stage),
                                                           r21d_stage)})

# %%
in_masks = {}  # network -> (pace-pretrained share, random init share, the masks' share of the picture)
for label, (net_cfg, pretrained, random_init) in {cfg.backbone: (cfg, model, random_model),
                                                  "R(2+1)D x0.25": (r21d_cfg, r21d, r21d_random)}.items():
    (pre, area), (ran, _) = (attention_scores(net, net_cfg)["attention"] for net in (pretrained, random_init))
    in_masks[label] = (pre, ran, area)
print("share of the activation attention inside the mover masks (every test video, paces 1-4):")
for label, (pre, ran, area) in in_masks.items():
    print(f"  {label:<14} pace-pretrained {100 * pre:5.1f}%   random init {100 * ran:5.1f}%   "
          f"(the masks cover {100 * area:.1f}% of the picture)")

# %% [markdown]
# ## Does it reproduce here?
#
# Written from this run's numbers when the cell runs.

# %%
rows, said = [], []
for method, (pre, ran) in shares.items():
    rows.append((f"pace pretraining puts the {method} on the motion (Fig. 5)", paper_numbers("C6", "attention", worse="random")
                 if method == "activation attention" else "not in the paper (Fig. 5 uses [59])",
                 f"{100 * pre:.1f}% vs random weights' {100 * ran:.1f}% on the 10% most moving pixels",
                 one_run_verdict(pre, ran)))
    said.append(f"its {method} puts {100 * pre:.1f}% of its mass on the 10% most moving pixels, random weights' "
                f"{100 * ran:.1f}%")
for label, (pre, ran, area) in in_masks.items():
    rows.append((f"pace pretraining puts {label}'s attention inside the mover masks (Fig. 5)",
                 paper_numbers("C6", "attention", worse="random"),
                 f"{100 * pre:.1f}% vs random weights' {100 * ran:.1f}% (masks: {100 * area:.1f}% of the picture)",
                 one_run_verdict(pre, ran)))
inside = "; ".join(f"{label}'s {100 * pre:.1f}% against {100 * ran:.1f}% (its clips' masks cover {100 * area:.1f}% of "
                   "the picture)" for label, (pre, ran, area) in in_masks.items())
display(Markdown(reproduction_table(rows) + "\n\nWith pace pretraining, " + "; ".join(said) + ". A map blind to "
                 f"motion scores 10%. Inside the mover masks, pretrained against random weights: {inside}."))

# %% [markdown]
# ## Summary
#
# 1. Activation attention sums a stage's squared activations over channels (Zagoruyko and Komodakis); the paper draws conv5's on each clip's last frame (Fig. 5).
# 2. Grad-CAM weighs the channels by the gradient of one logit: the evidence for a chosen pace, or action.
# 3. The paper's claim -- attention on the motion -- can be measured: the share of a map on the most moving pixels, or inside the mover's masks, against random weights, for any network (section 4 reads the paper's R(2+1)D at conv4).
# 4. The input matters: a residual input already removes the static scene, so the baseline is not blind to motion.
# 5. Deep stages are coarse in space and time: choose the stage for the question, and say which one.
#
# ## Exercises
#
# Each answer cell checks what you write in it: replace `None` by your answer and run the cell.
#
# **1. Which frame does Fig. 5 draw on?** Every clip of section 1 starts at frame 0 of its video, and
# its maps are laid over the clip's last frame. With this run's clip length (`cfg.clip_len`) and paces
# (`paces`, both printed by the cell below), which source frame of the video (0-based) is that, for each
# pace? A list, one frame per pace, in the order of `paces`.
#
# <details><summary>Solution</summary>
#
# Clip frame $i$ shows source frame $\lfloor i p \rfloor$ from start 0 (notebook 01), and the last clip frame
# is $i = T - 1$, not $T$: source frame $\lfloor (T - 1) p \rfloor$. For the paper's 16-frame clips, this
# notebook's, at paces 1 to 4 that is 15, 30, 45 and 60, which is why the paper notes that
# the pace-4 map "computes the layer information spanning 64 frames". The maps of one row are drawn on
# frames far apart, so the mover is in a different place under each.
# </details>

# %%
answer_1 = None  # a list of frame indices, one per pace
if answer_1 is None:
    print(f"exercise 1: not answered yet (clip_len = {cfg.clip_len}, paces = {[str(p) for p in paces]})")
else:
    assert len(answer_1) == len(paces), f"one frame per pace: {len(paces)} numbers"
    first = videos[0]
    length = check_start(first, 0)  # the video's number of frames
    for p, frame, drawn in zip(paces, answer_1, clips[first][:, -1]):  # the frames row 1 of the figure is drawn on
        assert 0 <= frame < length, f"frame {frame} is not one of the video's {length} frames (0..{length - 1})"
        named = load_pace_clips(first, [1], 1, start=int(frame), frame_size=cfg.frame_size)[0, 0]  # frame `frame`
        assert torch.equal(named, drawn), f"not quite at p = {p}: the figure is not drawn on frame {frame}"
    print("exercise 1: right")

# %% [markdown]
# **2. How coarse is conv5 on longer, larger clips?** For R(2+1)D on a 32x160x160 clip (32 frames of
# 160 x 160 pixels), what is the shape (time, height, width) of the conv5 map? The stem keeps time and
# halves height and width; conv3, conv4 and conv5 each halve time, height and width.
#
# <details><summary>Solution</summary>
#
# Time: $32 \to 16 \to 8 \to 4$; height and width: $160 \to 80$ (stem) $\to 40 \to 20 \to 10$: (4, 10, 10).
# One map cell covers 16 x 16 pixels, as for Fig. 5's 16x112x112 clips, whose conv5 is (2, 7, 7).
# </details>

# %%
answer_2 = None  # (time, height, width)
if answer_2 is None:
    print("exercise 2: not answered yet")
else:
    with torch.no_grad():  # a quarter-width network has the same map shapes, and is quicker to run
        conv5 = build_backbone("r21d", width=0.25).eval().forward_stages(torch.zeros(1, 3, 32, 160, 160))["conv5"]
    assert tuple(answer_2) == tuple(conv5.shape[2:]), "not quite: count the stride-2 stages"
    print("exercise 2: right")

# %% [markdown]
# **More to try** (no check):
#
# - Use another stage (`"conv4"`, `"conv5"`): coarser maps. Does the share on motion change? And with
#   `share_on_motion(grid, top=0.25)`?
# - Explain the *wrong* pace: `grad_cam(model, x, 0, stage)` asks for the evidence for pace 1 in every
#   clip. Where is it in a pace-4 clip?
# - Redo section 3 with a model trained with `start_policy="any"` (notebook 03). If it learned the
#   jump-cut shortcut, where would you expect its attention on looping clips?
# - Fine-tune (notebook 05) and explain the *action* logit: `grad_cam(finetuned_model, x, class_index,
#   stage)`. Does the action evidence sit where the pace evidence did?
# - `pacekit.evaluation.attention.attention_grid` and `grad_cam_grid` (and `pacekit attention` on the command line)
#   draw the same figure in one call for networks fed RGB clips, such as the authors' checkpoints.
#
# ## Further reading
#
# - Selvaraju et al., *Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization*, ICCV 2017: the method of section 2.
# - Zagoruyko and Komodakis, *Paying More Attention to Attention*, ICLR 2017 (the paper's ref. [59]): activation-based attention, section 1.
# - Benaim et al., *SpeedNet: Learning the Speediness in Videos*, CVPR 2020: shows where a speed network looks, and uses it to find the moving parts of a video.
# - Xu et al., *Self-supervised Spatiotemporal Learning via Video Clip Order Prediction* (VCOP), CVPR 2019, Yao et al., *Video Playback Rate Perception for Self-supervised Spatio-Temporal Representation Learning* (PRP), CVPR 2020, and Chen et al., *RSPNet: Relative Speed Perception for Unsupervised Video Representation Learning*, AAAI 2021: the neighbouring pretext tasks, whose attention figures make the same claim.
# - Qian et al., *Spatiotemporal Contrastive Video Representation Learning* (CVRL), CVPR 2021: contrastive pretraining at scale, a baseline for where features should look.
