# %% [markdown]
# # 01 · Pace sampling: what a clip "at pace p" is
#
# Notebook 1 of 6 of the pacekit walkthrough of *Self-supervised Video Representation Learning by Pace
# Prediction* (Wang, Jiao, Liu, ECCV 2020). It needs no dataset and no GPU; everything below is a few
# integer formulas, drawn.
#
# > **You will learn** how a clip at pace $p$ is cut from a video (`sample_indices`); what slow, fast
# > and looping clips look like as stills, as motion and as x-t slices; why a jump cut is a shortcut and
# > how often the fastest clips contain one; what colour jitter per frame changes against per clip.
# >
# > **Before this:** nothing; start here.
# >
# > **Run time:** {run_time}
# >
# > **Training:** none; no dataset and no GPU needed.
#
# **Why.** Pace prediction is a pretext task: take a video played at its natural speed, resample it so
# that it plays slower or faster, and ask a network which pace it sees. Labels cost nothing, and the
# paper's bet (Sec. 1) is that the network cannot tell paces apart unless it understands what moves and
# how. Everything the network learns therefore starts from one function, the sampler that turns a
# video and a pace into a clip. This notebook takes it apart.
#
# **Contents.** 1. `sample_indices` by hand · 2. the paper's Fig. 2 on a clip, as stills, as motion and
# as x-t slices · 3. slow, fast and looping clips · 4. the jump-cut shortcut, measured · 5. colour
# jitter per frame against per clip · does it reproduce here? · summary, exercises, further reading.

# %% [setup]
import math
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML, Markdown, display

from pacekit.data.synthetic import (
    MASK_SCALE,
    draw_figure_video,
    figure_trajectory,
    plan_synthetic,
    sample_figure_spec,
    synthetic_classes,
)
from pacekit.data.transforms import color_jitter_clips, to_float_clips
from pacekit.pace import (
    PaceSet,
    clip_span,
    interpolation_plan,
    jump_cut_probability,
    loop_points,
    pace_name,
    sample_indices,
    sample_pace_clip,
)
from pacekit.study.plots import clips_html, kymograph, kymograph_speed, plot_kymographs, plot_pace_strip
from pacekit.teaching.notebook import one_run_verdict, reproduction_table

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
# Now on an actual video. pacekit's built-in synthetic set (format version 6, the default) has ten
# action classes, each its own mover (a jumping jack, a caterpillar, a hammer, a spoked wheel, ...) in its
# own colours, with its own motion and natural speed, over a low-contrast background crowded with static
# distractors cut from the same parts and textures; every frame also gets its own small brightness change.
# `sample_figure_spec` describes one video and `draw_figure_video` draws it in memory, with the mover's
# ground-truth masks (at half the frame size). The fastest class, *Roll*, is a wheel rolling back and
# forth: the easiest motion to see. The clips below start just after the wheel turns at its left end, so
# they show it rolling right.

# %%
spec = sample_figure_spec(synthetic_classes().index("Roll"), 3, width=160, height=120, num_frames=200)
video, masks = draw_figure_video(spec)  # (T, H, W, 3) uint8 and (T, H/2, W/2) bool
path = figure_trajectory(spec)  # the mover's centre in every frame
start = int(np.argmin(path["x"][:int(spec.period)])) + 5  # 5 frames after the left turn
row = int(round(path["y"].mean()))  # the pixel row through the wheel's centre (it rolls level)
print(f"video: {video.shape} {video.dtype}, masks {masks.shape}; Roll at {spec.speed:.2f} px/frame, "
      f"one back-and-forth every {spec.period:.0f} frames; clips start at frame {start}")
clips = {pace: video[sample_indices(len(video), 16, pace, start=start)] for pace in fig2}
fig = plot_pace_strip(clips, max_frames=8, title="one video at the five paces of Fig. 2 (first 8 of 16 frames)")
x_start = path["x"][start]
for r, pace in enumerate(fig2):  # a dashed line where the wheel's centre was in the clip's first frame
    for ax, i in zip(fig.axes[r * 8:(r + 1) * 8], sample_indices(len(video), 8, pace, start=start)):
        ax.axvline(x_start, color="white", ls="--", lw=0.8)
        ax.plot(path["x"][i], path["y"][i], "w+", ms=6)
plt.show()

# %% [markdown]
# Stills show how far the wheel got (the cross, against the dashed start), but pace is motion. Here are
# the same five clips, 32 frames each, played side by side at the video's own 25 frames per second --
# what the network is given. Every clip plays at the same frame rate; they differ only in how far the
# content moves from one frame to the next. The slow clips stutter (each frame is held two or three
# times), the fast ones hurry.

# %%
band = slice(row - 24, row + 24)  # 48 rows around the wheel keep the animation small
moving = {pace: video[sample_indices(len(video), 32, pace, start=start)][:, band] for pace in fig2}
display(HTML(clips_html(moving, fps=25, zoom=2, caption="32 frames of each clip at 25 fps, looping; the band "
                                                      "of rows around the wheel")))

# %% [markdown]
# **Pace as a slope.** Cut every frame of a clip along the pixel row through the wheel and stack the
# rows in time, first frame on top: an *x-t slice* or kymograph (`pacekit.study.plots.kymograph`). A mover at
# constant speed draws a straight line, and its slope -- pixels moved per clip frame -- is its speed. A
# clip at pace $p$ shows source frames $s + \lfloor i p \rfloor$, so the same motion draws a line $p$
# times steeper: the pace *is* the slope. The fast clips span 31 and 46 source frames, about one and
# one and a half back-and-forths of this wheel, so their lines turn. The speeds under each panel are measured on the masks' slices
# (`kymograph_speed`: the mean step of the mask's centre from one clip frame to the next).

# %%
speeds = {p: MASK_SCALE * kymograph_speed(kymograph(masks[sample_indices(len(masks), 16, p, start=start)],
                                                    row // MASK_SCALE)) for p in fig2}
fig = plot_kymographs(clips, row, speeds=speeds, title="x-t slices through the wheel: one per pace (16 frames)")
plt.show()
normal = speeds[Fraction(1)]
print("measured speed / speed at pace 1:", {str(p): round(v / normal, 2) for p, v in speeds.items()})

# %% [markdown]
# The ratios come out near the paces, not on them, because the wheel does not roll at one speed: it
# slows down into each turn, and every clip catches a different part of the motion. The normal clip's 16
# frames include the slow-down into the right-hand turn, which lowers the pace-1 speed every ratio is
# divided by, so the slow clips (8 and 6 source frames right after the left turn, at full speed) measure
# a little over 1/2 and 1/3; the fast ones turn once or twice and measure near 2 and 3. Pace
# multiplies the speed *the motion has at that moment*. A network sees exactly this: the slope depends on
# the pace *and* on
# how fast this motion naturally is, which is why telling paces apart takes knowing the motion
# (notebook 02 lets you try).

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

# %% [markdown]
# On the video, at $p = 1/3$: side by side, single frames of the two fills are hard to tell apart (the
# wheel moves about 4.6 pixels between source frames; a blend of two positions looks like a slightly
# blurred wheel), so look where they differ. The x-t slice of the repeated
# clip is a staircase -- the wheel holds still for three frames, then jumps -- and the interpolated one
# is a ramp whose edges are blends of two positions. The difference is zero on every third frame (the
# weight is 0: both show a source frame) and sits only on the mover's edges otherwise.

# %%
lo, hi, w = interpolation_plan(len(video), 24, "1/3", start=start)
repeat = video[sample_indices(len(video), 24, "1/3", start=start)]
blended = ((1 - w[:, None, None, None]) * video[lo] + w[:, None, None, None] * video[hi]).round().astype(np.uint8)
difference = np.abs(repeat.astype(int) - blended.astype(int)).sum(-1)  # (T, H, W), summed over colours
cols = slice(int(x_start) - 30, int(x_start) + 40)  # the columns around the wheel
fig, axes = plt.subplots(1, 4, figsize=(11, 3.2), constrained_layout=True)
for ax, (title, image) in zip(axes[:3], (("repeat (the paper)", kymograph(repeat, row)[:, cols]),
                                         ("interpolate", kymograph(blended, row)[:, cols]),
                                         ("|repeat - interpolate|", kymograph(difference, row)[:, cols]))):
    ax.imshow(image, aspect="auto", interpolation="nearest", cmap="magma")
    ax.set(title=title, xlabel="x (pixels)", ylabel="clip frame")
frame = int(np.argmax(w > 0.5))  # a frame two thirds of the way between two source frames
axes[3].imshow(difference[frame], cmap="magma")
axes[3].set(title=f"clip frame {frame}, w = {w[frame]:.2f}", xticks=[], yticks=[])
fig.suptitle("p = 1/3: x-t slices through the wheel, and where the two fills differ", fontsize=10)
plt.show()

# %% [markdown]
# **Fast clips** cover more of the video: 16 frames at pace $p$ span
# $\lfloor 15p \rfloor + 1$ source frames (`clip_span`), 61 at $p = 4$.
#
# **Looping clips.** When the span is longer than what is left of the video, the paper loops over the
# video. Two ways to loop: `wrap="modulo"` continues as if the video repeated (the paper's words),
# `wrap="restart"` starts the clip again from frame 0 at the same pace (the authors' code). Either way
# the clip has a **jump cut** where it runs past the end. `loop_points(indices, num_frames, pace, wrap)`
# finds them from the clip's sampling (a step backwards in the indices is not enough: a video no longer
# than one step of the pace wraps without one).

# %%
# NBVAL_CHECK_OUTPUT
print("span of 16 frames:", {str(p): clip_span(16, p) for p in (1, 2, 3, 4)})
for wrap in ("modulo", "restart"):
    idx = sample_indices(num_frames=50, clip_len=16, pace=4, start=0, wrap=wrap)
    print(f"{wrap:>7}: {idx.tolist()}  jump cut before clip frame {loop_points(idx, 50, 4, wrap).tolist()}")

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
        cut[pol][label] += len(sample_pace_clip(n, 16, relative, rng, policy=pol, label=label).loops) > 0
for pol, counts in cut.items():
    print(f"{pol}: share of clips with a jump cut per pace", np.round(counts / seen, 3).tolist())

# %% [markdown]
# With `any`, the faster the clip, the more often it has a cut (the shares above): the cut alone predicts
# the label above chance. With `fit`, a clip loops only when its whole
# video is shorter than the span (here: pace 4 on the videos shorter than 61 frames), so the cue shrinks
# to those clips; longer videos, or shorter clips, remove it. Notebook 03 suggests training with both policies.
#
# ## 5. Colour jitter per frame against per clip
#
# The paper's second guard against shortcuts (Sec. 3.1, "Avoid Shortcuts"): colour jitter, and *per
# frame* works much better than *per clip* -- a finding the paper states in its text, without a table.
# Table 1 only compares jitter on and off (72.0 against 73.9 on UCF101 with $p \in \{1, 2, 3, 4\}$). With per-clip jitter every frame of a clip gets the
# same brightness, contrast, saturation and hue change, so frame-to-frame differences barely change;
# with per-frame jitter each frame gets its own, so the clip flickers and only the *shape* of the
# motion survives from frame to frame -- a plausible reason why it helps. `color_jitter_clips` does both
# on a float batch `(B, C, T, H, W)`; the generator makes the draw repeatable. (The synthetic videos
# already change brightness a little from frame to frame, the "original" row's flicker.)

# %%
clip = torch.from_numpy(video[sample_indices(len(video), 8, 1, start=start)])[None]  # (1, T, H, W, C) uint8
x = to_float_clips(clip)  # (1, C, T, H, W) in [0, 1]
jittered, flicker = {}, {}
for per_frame, label in ((False, "per clip"), (True, "per frame")):
    out = color_jitter_clips(x, per_frame=per_frame, generator=torch.Generator().manual_seed(1))
    jittered[label] = (out[0].permute(1, 2, 3, 0) * 255).round().to(torch.uint8).numpy()  # (T, H, W, C)
    brightness = out[0].mean(dim=(0, 2, 3))  # (T,) mean of each frame
    flicker[label] = float(brightness.std())
    print(f"{label:>9}: frame-to-frame std of the mean brightness {brightness.std():.3f}")
print(f" original: frame-to-frame std of the mean brightness {x[0].mean(dim=(0, 2, 3)).std():.3f}")
fig = plot_pace_strip({"original": clip[0].numpy(), **jittered}, max_frames=8,
                      title="colour jitter (the authors' strengths): once per clip against once per frame")

# %% [markdown]
# ## Does it reproduce here?
#
# Written from this notebook's numbers when the cell runs.

# %%
share = {pol: counts / seen for pol, counts in cut.items()}  # share of clips with a jump cut, per pace
paces = list(relative)
rows = [("starting anywhere and looping makes a jump cut a cue for fast paces (Sec. 3.1)", "argued, not measured",
         f"`any`: cuts in {100 * share['any'][-1]:.1f}% of pace-{paces[-1]} clips, {100 * share['any'][0]:.1f}% of "
         f"pace-{paces[0]}; `fit`: {100 * share['fit'][-1]:.1f}% and {100 * share['fit'][0]:.1f}%",
         one_run_verdict(share["any"][-1], share["any"][0])),
        ("colour jitter per frame changes each frame, per clip the whole clip (Sec. 3.1)", "per frame works much better",
         f"frame-to-frame std of the brightness {flicker['per frame']:.3f} per frame, {flicker['per clip']:.3f} per clip",
         one_run_verdict(flicker["per frame"], flicker["per clip"], digits=1))]
display(Markdown(reproduction_table(rows) + f"\n\nUnder the authors' start policy a pace-{paces[-1]} clip has a jump "
                 f"cut {share['any'][-1] / max(share['any'][0], 1e-9):.1f} times as often as a pace-{paces[0]} clip, "
                 "so a network can tell fast from slow by spotting cuts; the paper's fitting start leaves "
                 f"{100 * share['fit'][-1]:.1f}% of the fastest clips with one."))

# %% [markdown]
# ## Summary
#
# 1. A clip at pace $p$ shows source frames $s + \lfloor i p \rfloor$: every $p$-th frame when fast, each frame $1/p$ times when slow (Sec. 3.1, Fig. 2).
# 2. Pace is motion: the same content moves $p$ times as far per clip frame, a line $p$ times steeper in an x-t slice.
# 3. Slow clips repeat the preceding frame (the paper) or interpolate; the two differ only on the mover's edges.
# 4. Starting anywhere and looping makes jump cuts more likely the faster the clip: a shortcut that `start_policy="fit"` shrinks to the videos shorter than a clip's span.
# 5. Colour jitter per frame, which the paper found much better than per clip (Sec. 3.1), breaks frame-to-frame colour cues.
#
# ## Exercises
#
# Each answer cell checks what you write in it: replace `None` by your answer and run the cell.
#
# **1. Loops by hand.** For a 25-frame video, 5-frame clips from frame 22 (0-based), predict for each
# pace of Fig. 2 the clip positions where a jump cut happens (a list, `[]` for none), before printing
# `sample_indices(25, 5, p, start=22)`.
#
# <details><summary>Solution</summary>
#
# The clip covers frames $22 + \lfloor ip \rfloor$ for $i = 0..4$ and loops where that passes 24.
# $p = 1/3$: 22, 22, 22, 23, 23, no loop. $p = 1/2$: 22, 22, 23, 23, 24, no loop. $p = 1$: 22, 23, 24,
# then 0, 1: a cut before position 3. $p = 2$: 22, 24, then 1, 3, 5: before position 2. $p = 3$: 22,
# then 0, 3, 6, 9: before position 1. So `{"1/3": [], "1/2": [], "1": [3], "2": [2], "3": [1]}`.
# </details>

# %%
answer_1 = None  # e.g. {"1/3": [...], "1/2": [...], "1": [...], "2": [...], "3": [...]}
if answer_1 is None:
    print("exercise 1: not answered yet")
else:
    truth = {str(p): loop_points(sample_indices(25, 5, p, start=22), 25, p).tolist() for p in fig2}
    assert answer_1 == truth, "not quite: print the indices and look for where they pass frame 24"
    print("exercise 1: right")

# %% [markdown]
# **2. The shortest video without a loop.** With `clip_len=12` and the `fit` policy, what is the
# smallest number of frames a video needs so that a pace-5 clip never loops?
#
# <details><summary>Solution</summary>
#
# The clip's span, $\lfloor 11 \cdot 5 \rfloor + 1 = 56$ frames (`clip_span(12, 5)`): with 56 frames
# the start 0 fits; with 55 no start does, and the clip loops.
# </details>

# %%
answer_2 = None  # a number of frames
if answer_2 is None:
    print("exercise 2: not answered yet")
else:
    assert jump_cut_probability(answer_2, 12, 5, "fit") == 0, f"a pace-5 clip still loops in {answer_2} frames"
    assert jump_cut_probability(answer_2 - 1, 12, 5, "fit") > 0, f"{answer_2 - 1} frames are already enough"
    print("exercise 2: right")

# %% [markdown]
# **3. How strong is the shortcut?** Take a network that sees nothing of a clip but whether it has a
# jump cut. Its clips are drawn as in pretraining under the authors' `any` policy: 16 frames, one of the
# paces 1, 2, 3, 4 with equal probability (`relative`), and a start anywhere in a 120-frame video, every
# start equally likely. The best such a network can do is to answer one fixed pace whenever it sees a cut
# and one fixed pace whenever it sees none. Which two paces, and what share of the clips does it then
# label right? Give the share as a decimal rounded to three places (chance is 0.25).
#
# <details><summary>Solution</summary>
#
# A start $s$ loops when $s + \text{span} - 1 \ge N$: $(\text{span} - 1) / N$ of the $N$ starts. The spans
# 16, 31, 46 and 61 give 15, 30, 45 and 60 cut clips among the 120 starts of paces 1, 2, 3 and 4; the
# other 105, 90, 75 and 60 have no cut. Every pair of pace and start is equally likely, so on a cut the
# best answer is the pace with the most cut clips, 4, and without a cut the pace with the most clean
# ones, 1. Right: $(60 + 105) / 480 = 0.34375$, so 0.344 -- against 0.25 by chance, from one bit that a
# network can read off two consecutive frames, without looking at any motion.
# </details>

# %%
answer_3 = None  # (pace when it sees a cut, pace when it sees none, share right)
if answer_3 is None:
    print("exercise 3: not answered yet")
else:
    on_cut, no_cut, share = answer_3
    counts = {}  # (pace, has a cut) -> how many of the 120 starts give such a clip
    for pace in relative:
        for first in range(120):
            has_cut = len(loop_points(sample_indices(120, 16, pace, start=first), 120, pace)) > 0
            counts[pace, has_cut] = counts.get((pace, has_cut), 0) + 1
    most = {cut: max(counts.get((pace, cut), 0) for pace in relative) for cut in (True, False)}
    assert counts.get((on_cut, True), 0) == most[True], "not quite: when it sees a cut, which pace is likeliest?"
    assert counts.get((no_cut, False), 0) == most[False], "not quite: without a cut, which pace is likeliest?"
    right = (counts[on_cut, True] + counts[no_cut, False]) / (120 * len(relative))
    assert abs(share - right) <= 0.0005 + 1e-9, "the paces are right; now count the clips they label right"
    print("exercise 3: right")

# %% [markdown]
# **More to try** (no check): change `per_frame` and the jitter strength
# (`pacekit.data.JitterStrength(brightness=0.2, ...)`) in section 5 -- which adjustment changes the
# frame-to-frame brightness most? Draw the x-t slices of another class (`synthetic_classes()`), e.g. the
# slow *Crawl*, at paces 1 and 4: does its pace-4 slope look like Roll's pace 1? Add $p = 1/4$ and
# $p = 5$ to the Fig. 2 table (`PaceSet.from_spec("1/4,1/3,1/2,1,2,3,5")`). The paper's relative pace set
# $\{1, 2, 3, 4\}$ has no slow pace, yet in Table 1 it scores the same as the absolute set
# $\{1/3, 1/2, 1, 2, 3\}$ (73.9 on UCF101, both with colour jitter); the paper keeps it for needing fewer
# classes, not to avoid a shortcut. Still: what does a slow clip contain that a natural-pace clip never
# does (look at the staircase above), and could a network use that as a cue?
#
# ## Further reading
#
# - Xu et al., *Self-supervised Spatiotemporal Learning via Video Clip Order Prediction* (VCOP), CVPR 2019: the order of clips as the pretext task; its retrieval protocol is the one the paper follows.
# - Benaim et al., *SpeedNet: Learning the Speediness in Videos*, CVPR 2020: a network that tells whether a video is sped up (x1 or x2), and what that teaches it; written at the same time as this paper.
# - Yao et al., *Video Playback Rate Perception for Self-supervised Spatio-Temporal Representation Learning* (PRP), CVPR 2020: playback-rate classification plus a reconstruction branch, the closest sibling of pace prediction.
# - Chen et al., *RSPNet: Relative Speed Perception for Unsupervised Video Representation Learning*, AAAI 2021: compares the speeds of two clips instead of naming one, which sidesteps the ambiguity of a video's natural speed seen in section 2.
# - Qian et al., *Spatiotemporal Contrastive Video Representation Learning* (CVRL), CVPR 2021: temporally consistent augmentations -- the opposite choice to per-frame jitter, made for contrastive learning.
