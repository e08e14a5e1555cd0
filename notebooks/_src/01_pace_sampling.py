# %% [markdown]
# # 01 · Pace sampling: what a clip "at pace p" is
#
# Notebook 1 of 6 of the pacekit walkthrough of *Self-supervised Video Representation Learning by Pace
# Prediction* (Wang, Jiao, Liu, ECCV 2020). It needs no dataset and no GPU; everything below is a few
# integer formulas, drawn.
#
# **Why.** Pace prediction is a pretext task: take a video played at its natural speed, resample it so
# that it plays slower or faster, and ask a network which pace it sees. Labels cost nothing, and the
# paper's bet (Sec. 1) is that the network cannot tell paces apart unless it understands what moves and
# how. Everything the network learns therefore starts from one function, the sampler that turns a
# video and a pace into a clip. This notebook takes it apart.
#
# **Contents.** 1. `sample_indices` by hand · 2. the paper's Fig. 2 on a clip · 3. slow, fast and
# looping clips · 4. the jump-cut shortcut, measured · 5. colour jitter per frame against per clip ·
# exercises.

# %% [setup]
import math
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import torch

from pacekit.data.synthetic import SYNTHETIC_CLASSES, plan_synthetic, render_video
from pacekit.data.transforms import color_jitter_clips, to_float_clips
from pacekit.pace import (PaceSet, clip_span, interpolation_plan, jump_cut_probability, loop_points, pace_name,
                          sample_indices, sample_pace_clip)
from pacekit.plots import plot_pace_strip

# %% [markdown]
# ## 1. `sample_indices` worked by hand
#
# **How.** A clip of `clip_len` frames at pace $p$ starting at frame $s$ shows source frame
#
# $$\text{index}(i) = s + \lfloor i \cdot p \rfloor, \qquad i = 0, \dots, \text{clip\_len} - 1,$$
#
# wrapped around the end of the video. The paper's example (Sec. 3.1): a 25-frame video and 5-frame
# clips; *super fast*, $p = 3$, "contains frames 11, 14, 17, 20 and 23" (the paper counts from 1). For
# $p < 1$ each source frame is shown $1/p$ times: the paper fills the blank slots with the preceding
# frame, which is exactly what the floor does. Paces are exact fractions, so $p = 1/3$ never drifts.
#
# By hand first, for $p = 3$ from (0-based) frame 10:

# %%
# NBVAL_CHECK_OUTPUT
start, p = 10, Fraction(3)
print("by hand:       ", [start + math.floor(i * p) for i in range(5)])
print("sample_indices:", sample_indices(num_frames=25, clip_len=5, pace=3, start=10).tolist())

# %% [markdown]
# The five paces of the paper's Fig. 2, from the same start. This table is checked by the test suite
# (`# NBVAL_CHECK_OUTPUT`): if the sampler ever changes, the notebook fails.

# %%
# NBVAL_CHECK_OUTPUT
fig2 = PaceSet.from_spec("absolute")  # 1/3, 1/2, 1, 2, 3: super slow ... super fast
for pace in fig2:
    idx = sample_indices(num_frames=25, clip_len=5, pace=pace, start=10)
    print(f"{pace_name(pace):>10}  p = {str(pace):<3}  frames (1-based): {(idx + 1).tolist()}")

# %% [markdown]
# ## 2. The paper's Fig. 2, recreated
#
# Fig. 2 draws the 25 frames of a video as a row of boxes for each pace and darkens the ones a clip
# uses. Here each cell counts how often the clip shows that source frame: slow clips show a few frames
# two or three times, fast clips skip frames.

# %%
uses = np.zeros((len(fig2), 25), dtype=int)
for row, pace in enumerate(fig2):
    np.add.at(uses[row], sample_indices(25, 5, pace, start=10), 1)
fig, ax = plt.subplots(figsize=(10, 2.4))
ax.imshow(uses, cmap="Greys", vmin=0, vmax=3)
ax.set(xticks=range(25), xticklabels=range(1, 26), yticks=range(len(fig2)), xlabel="source frame (1-based)",
       yticklabels=[f"{pace_name(p)} (p = {p})" for p in fig2], title="frames used by a 5-frame clip from frame 11")
for (r, c), n in np.ndenumerate(uses):
    if n:
        ax.text(c, r, n, ha="center", va="center", color="white", fontsize=8)
plt.show()

# %% [markdown]
# Now on an actual video: pacekit's built-in synthetic set draws action classes as motions (this is a
# bouncing ball). `render_video` draws one in memory, no files needed. Each row is the same 8-frame
# clip length from the same start, sampled at one of the five paces.

# %%
video = render_video(SYNTHETIC_CLASSES.index("Bounce"), 3, width=160, height=120, num_frames=60)  # (T, H, W, 3)
print(f"video: {video.shape} {video.dtype} -- {len(video)} frames at 25 fps")
clips = {pace: video[sample_indices(len(video), 8, pace, start=0)] for pace in fig2}
fig = plot_pace_strip(clips, max_frames=8, title="one video at the five paces of Fig. 2 (8 frames each)")

# %% [markdown]
# ## 3. Slow, fast and looping clips
#
# **Slow clips** repeat frames. The paper fills the gaps with the preceding frame; it mentions
# interpolation as the alternative. `interpolation_plan` gives, for every clip frame, the two source
# frames around its exact position $s + i p$ and the blend weight (`slow_fill="interpolate"` in the
# datasets uses it).

# %%
# NBVAL_CHECK_OUTPUT
lo, hi, w = interpolation_plan(num_frames=60, clip_len=6, pace="1/3", start=0)
print("repeat (the paper):", sample_indices(60, 6, "1/3").tolist())
print("interpolate: lo    ", lo.tolist())
print("             hi    ", hi.tolist())
print("             weight", [round(float(v), 3) for v in w])

# %%
blended = ((1 - w[:, None, None, None]) * video[lo] + w[:, None, None, None] * video[hi]).round().astype(np.uint8)
fig = plot_pace_strip({"repeat": video[sample_indices(60, 6, "1/3")], "interpolate": blended}, max_frames=6,
                      title="p = 1/3: repeating the preceding frame against linear interpolation")

# %% [markdown]
# **Fast clips** cover more of the video: 16 frames at pace $p$ span
# $\lfloor 15p \rfloor + 1$ source frames (`clip_span`), 61 at $p = 4$.
#
# **Looping clips.** When the span is longer than what is left of the video, the paper loops over the
# video. Two ways to loop: `wrap="modulo"` continues as if the video repeated (the paper's words),
# `wrap="restart"` starts the clip again from frame 0 at the same pace (the authors' code). Either way
# the clip has a **jump cut**: a frame whose index is smaller than the previous one (`loop_points`).

# %%
# NBVAL_CHECK_OUTPUT
print("span of 16 frames:", {str(p): clip_span(16, p) for p in (1, 2, 3, 4)})
for wrap in ("modulo", "restart"):
    idx = sample_indices(num_frames=50, clip_len=16, pace=4, start=0, wrap=wrap)
    print(f"{wrap:>7}: {idx.tolist()}  jump cut before clip frame {loop_points(idx).tolist()}")

# %% [markdown]
# ## 4. The jump-cut shortcut of the `any` start policy, measured
#
# Where may a clip start? The authors' code draws the start uniformly over **any** frame and loops. Then
# a start $s$ gives a jump cut whenever $s + \text{span} - 1 \ge N$ for an $N$-frame video, which
# happens for a fraction $(\text{span} - 1)/N$ of the starts -- and the span grows with the pace. So
# *"the clip has a jump cut"* becomes evidence for *"the clip is fast"*: a network can learn to spot
# cuts (a low-level cue) instead of motion, exactly the kind of shortcut Sec. 3.1 warns about.
# pacekit's default policy **`fit`** draws only starts whose span fits, so a clip loops only when the
# whole video is shorter than its span.
#
# The exact probabilities (`jump_cut_probability`) for 16-frame clips, on a 7 s UCF101-like video and on
# the lengths of the synthetic set's videos:

# %%
plan = plan_synthetic(**nb.synthetic_size())  # the synthetic set's description; draws nothing
lengths = np.array([v["num_frames"] for v in plan["videos"]])
print(f"synthetic videos: {len(lengths)}, {lengths.min()}-{lengths.max()} frames")
print("pace  span  any, 175 frames  any, synthetic  fit, synthetic")
for pace in (1, 2, 3, 4):
    on_synth = {pol: np.mean([jump_cut_probability(n, 16, pace, pol) for n in lengths]) for pol in ("any", "fit")}
    print(f"{pace:>4}  {clip_span(16, pace):>4}  {jump_cut_probability(175, 16, pace, 'any'):>15.3f}  "
          f"{on_synth['any']:>14.3f}  {on_synth['fit']:>14.3f}")

# %% [markdown]
# And measured: draw clips the way the pretraining dataset does (`sample_pace_clip`, a random video, a
# random pace, a random start under each policy) and count the clips with a jump cut.

# %%
relative = PaceSet.from_spec("relative")  # the paper's pretraining paces 1, 2, 3, 4
rng = np.random.default_rng(nb.seed)
draws = 2000 if nb.fast else 20000
cut = {pol: np.zeros(len(relative)) for pol in ("any", "fit")}
seen = np.zeros(len(relative))
for _ in range(draws):
    n = int(lengths[rng.integers(len(lengths))])
    label = int(rng.integers(len(relative)))
    seen[label] += 1
    for pol in cut:
        cut[pol][label] += len(loop_points(sample_pace_clip(n, 16, relative, rng, policy=pol, label=label).indices)) > 0
for pol, counts in cut.items():
    print(f"{pol}: share of clips with a jump cut per pace", np.round(counts / seen, 3).tolist())

# %% [markdown]
# With `any`, a clip with a cut is almost four times more likely to be at pace 4 than at pace 1 here:
# the cut alone predicts the label well above chance. With `fit`, a clip loops only when its whole
# video is shorter than the span (here: pace 4 on the videos shorter than 61 frames), so the cue shrinks
# to those clips; longer videos, or shorter clips, remove it. Notebook 03's exercises train with both policies.
#
# ## 5. Colour jitter per frame against per clip
#
# The paper's second guard against shortcuts (Sec. 3.1, "Avoid Shortcuts"): colour jitter, and *per
# frame* works much better than *per clip* -- a finding the paper states in its text, without a table.
# Table 1 only compares jitter on and off (72.0 against 73.9 on UCF101 with $p \in \{1, 2, 3, 4\}$). With per-clip jitter every frame of a clip gets the
# same brightness, contrast, saturation and hue change, so frame-to-frame differences are untouched;
# with per-frame jitter each frame gets its own, so the clip flickers and only the *shape* of the
# motion survives from frame to frame -- a plausible reason why it helps. `color_jitter_clips` does both
# on a float batch `(B, C, T, H, W)`; the generator makes the draw repeatable.

# %%
clip = torch.from_numpy(video[sample_indices(len(video), 8, 1, start=0)])[None]  # (1, T, H, W, C) uint8
x = to_float_clips(clip)  # (1, C, T, H, W) in [0, 1]
jittered = {}
for per_frame, label in ((False, "per clip"), (True, "per frame")):
    out = color_jitter_clips(x, per_frame=per_frame, generator=torch.Generator().manual_seed(1))
    jittered[label] = (out[0].permute(1, 2, 3, 0) * 255).round().to(torch.uint8).numpy()  # (T, H, W, C)
    brightness = out[0].mean(dim=(0, 2, 3))  # (T,) mean of each frame
    print(f"{label:>9}: frame-to-frame std of the mean brightness {brightness.std():.3f}")
print(f" original: frame-to-frame std of the mean brightness {x[0].mean(dim=(0, 2, 3)).std():.3f}")
fig = plot_pace_strip({"original": clip[0].numpy(), **jittered}, max_frames=8,
                      title="colour jitter (the authors' strengths): once per clip against once per frame")

# %% [markdown]
# ## Exercises
#
# 1. Print `sample_indices(25, 5, p, start=22)` for the five paces of Fig. 2. Which clips loop, and
#    where is the jump cut? Check with `loop_points`.
# 2. With `clip_len=16`, what is the shortest video in which a pace-4 clip never loops under the `fit`
#    policy? Check your answer with `jump_cut_probability(N, 16, 4, "fit")`.
# 3. UCF101 videos last about 7 s on average, but many last 2-3 s. Redo the `any` column of section 4
#    for a 60-frame video. How much better than chance (25%) could a "cut detector" guess pace 4?
# 4. Change `per_frame` and the jitter strength (`pacekit.data.JitterStrength(brightness=0.2, ...)`) in
#    section 5. Which of the four adjustments changes the frame-to-frame brightness most?
# 5. Add $p = 1/4$ and $p = 5$ to the Fig. 2 table (`PaceSet.from_spec("1/4,1/3,1/2,1,2,3,5")`). The
#    paper's relative pace set $\{1, 2, 3, 4\}$ has no slow pace, yet in Table 1 it scores the same as the
#    absolute set $\{1/3, 1/2, 1, 2, 3\}$ (73.9 on UCF101, both with colour jitter); the paper keeps it
#    for needing fewer classes, not to avoid a shortcut. Still: what does a slow clip contain that a
#    natural-pace clip never does, and could a network use that as a cue?
