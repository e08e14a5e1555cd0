# %% [markdown]
# # 02 · Guess the pace: the paper's Fig. 1 as a game
#
# Notebook 2 of 6. The paper opens with a question (Fig. 1): three clips of one video, sampled at
# normal, slow and fast pace -- *can you ascribe the corresponding pace label to each clip?* Here you
# answer it, round after round, and a network trained on the pace-prediction task answers the same
# clips, seeing exactly what you see.
#
# > **You will learn** to tell paces apart yourself (the paper's Fig. 1); what a pace-prediction network
# > sees; where you and a trained network agree and where you both err (a confusion matrix each).
# >
# > **Before this:** notebook 01.
# >
# > **Run time:** {run_time}
# >
# > **Shipped weights:** on a CPU the notebook loads the pace game's network that ships with pacekit instead of
# > pretraining it, and says so. To pretrain it here, set `PACEKIT_PRETRAINED=0` before starting
# > Jupyter (or write `nb = setup(shipped=False)` in the setup cell); with a GPU it pretrains. A network trained
# > here is loaded from `runs/` on a rerun.
# >
# > **On Colab:** set `PACEKIT_RUNS=/content/drive/MyDrive/pacekit-runs` (Drive mounted) before the setup
# > cell to keep runs between sessions; an interrupted training resumes where it stopped.
#
# **Why.** The paper's premise (Sec. 1) is that "the human visual system is sensitive to motion pace and
# can easily distinguish different paces once understanding the covered content". Playing makes the
# premise concrete: you judge pace *by knowing the motion* -- how fast a ball falls, how a pendulum
# slows at its ends. That knowledge is what the pretext task should force a network to learn.
#
# **Contents.** 1. the clips the model sees · 2. the model · 3. play · 4. you against the model ·
# does it reproduce here? · summary · exercises · further reading.

# %% [setup]
from fractions import Fraction

from IPython.display import Markdown, display

from pacekit.data import build_dataset
from pacekit.evaluation.recognition import pace_accuracy
from pacekit.pace import PaceSet, sample_indices
from pacekit.recipes.train import eval_transform
from pacekit.teaching.game import GAME_MODEL, PaceGame, make_rounds
from pacekit.teaching.notebook import load_or_train, one_run_verdict, reproduction_table
from pacekit.teaching.widgets import GameView, model_player, plot_rounds, read_videos

# %% [markdown]
# ## 1. The clips the model sees
#
# The game uses the test videos of pacekit's synthetic action set (written once into `data/`, then
# reused) and the five paces of Fig. 2, from *super slow* ($p = 1/3$) to *super fast* ($p = 3$). Every
# clip is what the model is given: the videos are decoded at the model's frame size, each clip has the
# model's `clip_len` frames read with `pacekit.pace.sample_indices`, and every frame is centre-cropped to
# the model's crop (its test-time transform, paper Sec. 4.1). The game only enlarges them on screen.
#
# Two kinds of round alternate, in the spirit of Fig. 1:
#
# - **pick**: three clips of *one* video, at natural pace, a slower and a faster one, side by side in a
#   shuffled order. Which one plays at natural pace?
# - **reference**: one clip at any of the five paces, beside a *reference*: another video of the same
#   motion at natural pace. Name the clip's pace.

# %%
root = nb.ensure_data()
cfg = nb.config("game", **GAME_MODEL)  # five paces, 8-frame clips: the model below is trained on the same
records = build_dataset("synthetic", root, "test", mode="eval").records
videos = read_videos([r.path for r in records], frame_size=cfg.frame_size)  # [(name, frames (N, H, W, 3))]
rounds = make_rounds(videos, cfg.pace_set, num_rounds=10, clip_len=cfg.clip_len, crop=cfg.crop, seed=nb.seed)
clip = rounds[0].clips[0].frames
print(f"{len(videos)} test videos decoded at {cfg.frame_size[0]}x{cfg.frame_size[1]}; "
      f"{len(rounds)} rounds ({', '.join(r.kind for r in rounds[:2])}, ...); "
      f"every clip {clip.shape[0]} frames of {clip.shape[1]}x{clip.shape[2]}, as the model gets them")

# %% [markdown]
# ## 2. The model that plays
#
# The player is a small 3D CNN pretrained on the pace-prediction task (Eq. 1) with the same five
# paces, on the synthetic training videos: the checkpoint in `runs/` is loaded if an earlier run left
# one with the same settings, otherwise it is trained now. `model_player` turns it into a player: it
# gives the softmax of the pace logits for each clip. In a *reference* round the model answers the pace
# it scores highest (it does not use the reference); in a *pick* round it picks the clip it gives the
# highest probability of natural pace.

# %%
trained = load_or_train(cfg, "pretrain")
held_out, chance = pace_accuracy(trained.model, cfg, "test"), 1 / len(PaceSet.from_spec(cfg.pace_set))
print(f"pace accuracy on held-out test videos (one clip each): {100 * held_out:.0f}% (chance {100 * chance:.0f}%)")
player = model_player(trained.model, cfg.clip_len, eval_transform(cfg), device=nb.device)

# %% [markdown]
# In fast mode (`PACEKIT_FAST=1`, the test suite) this model trains for a few seconds, and the accuracy
# above is what that buys; without fast mode the `cpu-tiny` preset trains for a few minutes on a CPU
# (the `gpu-demo` preset, the paper's R(2+1)D, on a GPU).
#
# ## 3. Play
#
# The clips play by themselves, looping, at the videos' frame rate (25 frames per second): each is an
# animated image your browser plays, so what you see does not depend on how busy the kernel is. Press a
# numbered button to answer; the reveal tells you the truth (and, once the model has played, its
# answer); **Next round** moves on. Score and streak are at the top. A hint: every motion has its own
# natural speed, and the reference shows it. A clip is only `clip_len` frames (printed in section 1),
# looping: at 25 frames per second that is a fraction of a second of motion, and it is all the model
# gets too.

# %%
game = PaceGame(rounds, cfg.pace_set, player=player)
view = GameView(game, fps=25, width=224)
view

# %% [markdown]
# The game is plain Python underneath: `pacekit.teaching.game.PaceGame` holds the rules (`game.guess(choice)`,
# `game.next_round()`, `game.score`, `game.confusion()`), and `pacekit.teaching.widgets.GameView` only shows what
# they allow. The test suite plays it headless by clicking the view's buttons.
#
# ## 4. You against the model
#
# The next cell lets the model answer every round (the same as **Let the model play**). Its answers stay
# hidden: the reveal and the table show the model's answer to a round only after you have answered it,
# so running it gives nothing away. When you have played every round the game ends with your scores and
# the model's, what guessing at random would score, and two confusion matrices side by side: rows are
# the true pace of the clip an answer named, columns the pace the player answered (a *pick* answer calls its
# clip natural).

# %%
view.let_model_play()
print(f"you have answered {game.played} of {len(game.rounds)} rounds; the model has answered all "
      f"{len(game.model_answers)}, shown for the rounds you have played")

# %% [markdown]
# Round 1 as stills, every frame the model sees (`?` until you have answered it;
# `plot_rounds(game, show_all=True)` gives every answer away):

# %%
fig = plot_rounds(game, rounds=[0])

# %% [markdown]
# ## Does it reproduce here?
#
# Written from this notebook's numbers when the cell runs (your own score is yours: it is not in the table).

# %%
rows = [("a network trained on the pretext task tells paces apart on videos it never saw (Sec. 1, Fig. 1)",
         "no pace accuracy reported", f"{100 * held_out:.0f}% of held-out clips, chance {100 * chance:.0f}%",
         one_run_verdict(held_out, chance, digits=0))]
display(Markdown(reproduction_table(rows) + f"\n\nThe game's network names the pace of {100 * held_out:.0f}% of the "
                 f"clips of unseen videos among {len(PaceSet.from_spec(cfg.pace_set))} paces: the task can be learned from "
                 "the clips alone, the premise of the paper's Fig. 1."))

# %% [markdown]
# **The answer to Fig. 1** in the paper: Clip I is slow, Clip II normal, Clip III fast. Were you right?
#
# After a game, read the two matrices: the off-diagonal cells are the confusions. Neighbouring paces are
# the pairs to watch: the two slow paces differ only in how often a frame repeats (three times or twice),
# the two fast ones in how far the object jumps between frames.
#
# ## Summary
#
# 1. Pace prediction asks which pace a clip was sampled at (Fig. 1, Fig. 2); a person answers it by
#    knowing how the motion should look.
# 2. The game shows you exactly what the model gets: `clip_len` frames, centre-cropped, played at the
#    video's frame rate.
# 3. A *pick* round is Fig. 1 itself; a *reference* round gives you the natural speed of the motion.
# 4. No answer is on screen before you commit, not even after the model has played.
# 5. The end of the game compares your confusion matrix with the model's on the same clips.
#
# ## Exercises
#
# Each exercise has a check: put your answer in place of `None` and run the cell. Solutions are hidden
# below each one.
#
# **1. Which frames does a clip show?** An 8-frame clip at super slow pace ($p = 1/3$) starts at frame 10
# of a 100-frame video. List the source frames it shows (Sec. 3.1: a slow clip repeats frames).

# %%
ex1 = None  # your answer: a list of 8 frame indices
if ex1 is None:
    print("exercise 1: not answered yet")
else:
    assert list(ex1) == sample_indices(100, 8, Fraction(1, 3), 10).tolist(), "not quite: each frame shows 3 times"
    print("exercise 1: right")

# %% [markdown]
# <details><summary>Solution 1</summary>
#
# `[10, 10, 10, 11, 11, 11, 12, 12]`: frame $i$ of the clip is $10 + \lfloor i/3 \rfloor$, which is
# `sample_indices(100, 8, Fraction(1, 3), 10)`.
# </details>
#
# **2. What does chance score?** The end of the game above prints what guessing at random would score
# over the rounds you played. Predict it for another game: 7 rounds of this notebook's five paces whose
# kinds alternate, starting with *pick*, and four clips in every pick round (`make_rounds` with
# `num_rounds=7, pick_clips=4`). How many of the 7 rounds does a player who guesses at random get right,
# on average? Give a number rounded to two decimals.

# %%
ex2 = None  # your answer: a number
if ex2 is None:
    print("exercise 2: not answered yet")
else:
    deal = make_rounds(videos, cfg.pace_set, num_rounds=7, clip_len=cfg.clip_len, crop=cfg.crop, pick_clips=4)
    assert abs(ex2 - PaceGame(deal, cfg.pace_set).chance(range(len(deal)))) <= 0.005, \
        "not quite: how many rounds of each kind, and how many choices does each give?"
    print("exercise 2: right")

# %% [markdown]
# <details><summary>Solution 2</summary>
#
# Seven rounds alternating from *pick* are 4 pick rounds and 3 reference rounds. A random pick is right
# with probability 1/4 (four clips), a random pace with 1/5: $4 \cdot \frac14 + 3 \cdot \frac15 = 1.60$
# rounds. `PaceGame(rounds, cfg.pace_set).chance(range(7))` of such a deal computes the same.
# </details>
#
# **3. All five paces side by side.** Deal 4 *pick* rounds that each show every pace of the set once:
# read `help(make_rounds)` for the arguments that choose the kind of round and the number of clips. Then
# play your deal with `GameView(PaceGame(rounds5, cfg.pace_set))`. Is it easier with five clips than
# with three?

# %%
rounds5 = None  # your deal: a list of rounds from make_rounds
if rounds5 is None:
    print("exercise 3: not answered yet")
else:
    assert len(rounds5) == 4 and all(r.kind == "pick" for r in rounds5), "deal 4 rounds, all of the pick kind"
    every_pace = list(range(len(PaceSet.from_spec(cfg.pace_set))))  # the pace labels 0 .. M-1
    assert all(sorted(c.label for c in r.clips) == every_pace for r in rounds5), \
        "each pick round should hold one clip per pace"
    print("exercise 3: right; now play it")

# %% [markdown]
# <details><summary>Solution 3</summary>
#
# `rounds5 = make_rounds(videos, cfg.pace_set, num_rounds=4, clip_len=cfg.clip_len, crop=cfg.crop,
# kinds=("pick",), pick_clips=5)`: five clips, one per pace, in a shuffled order; play it with
# `GameView(PaceGame(rounds5, cfg.pace_set))`.
# </details>
#
# **4. In class.** `pacekit game` serves this game alone as a web page for a projector: big clips, no
# code, keys 1..n to answer and Enter or space for the next round. Play it with `--rounds 6`, and compare
# the class's confusion matrix with the model's.
#
# ## Further reading
#
# - J. Wang, J. Jiao, Y.-H. Liu. *Self-supervised Video Representation Learning by Pace Prediction.*
#   ECCV 2020 -- the paper of this kit (Fig. 1 is this game).
# - S. Benaim et al. *SpeedNet: Learning the Speediness in Videos.* CVPR 2020 -- is a video sped up or
#   at normal speed? The same idea, published at the same time, with uses for adaptive speed-up.
# - D. Xu et al. *Self-supervised Spatiotemporal Learning via Video Clip Order Prediction (VCOP).*
#   CVPR 2019 -- predict the order of shuffled clips; the paper compares with it and follows its
#   retrieval protocol.
# - Y. Yao et al. *Video Playback Rate Perception for Self-supervised Spatio-Temporal Representation
#   Learning (PRP).* CVPR 2020 -- playback rate as a pretext task, with a reconstruction branch.
# - P. Chen et al. *RSPNet: Relative Speed Perception for Unsupervised Video Representation Learning.*
#   AAAI 2021 -- compares the speeds of two clips instead of labelling one, with a contrastive term.
