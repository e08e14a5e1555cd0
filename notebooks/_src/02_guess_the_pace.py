# %% [markdown]
# # 02 · Guess the pace: the paper's Fig. 1 as a game
#
# Notebook 2 of 6. The paper opens with a question (Fig. 1): three clips of one video, sampled at
# normal, slow and fast pace -- *can you ascribe the corresponding pace label to each clip?* Here you
# answer it, clip after clip, and then a network trained on the pace-prediction task answers the same
# clips.
#
# **Why.** The paper's premise (Sec. 1) is that "the human visual system is sensitive to motion pace and
# can easily distinguish different paces once understanding the covered content". Playing makes the
# premise concrete: you will notice that you judge pace *by knowing the motion* -- how fast a ball falls,
# how a pendulum slows at its ends. That knowledge is what the pretext task should force a network to
# learn.
#
# **Contents.** 1. the clips · 2. play · 3. a pretrained model plays the same clips · 4. you against the
# model · exercises.

# %% [setup]
from pacekit.data import build_dataset
from pacekit.notebook import load_or_train
from pacekit.train import eval_transform, pace_accuracy
from pacekit.widgets import PaceGame, make_game_clips, model_player, plot_rounds, read_videos

# %% [markdown]
# ## 1. The clips
#
# The game uses the test videos of pacekit's synthetic action set (written once into `data/`, then
# reused) and the five paces of Fig. 2, from *super slow* ($p = 1/3$) to *super fast* ($p = 3$). Each
# round is a 24-frame clip (about one second at 25 fps) drawn with `pacekit.pace.sample_indices`; every
# pace appears equally often. The frames keep the videos' own size (160x120); the model gets them
# resized to the size it was trained at.

# %%
root = nb.ensure_data()
cfg = nb.config("game", pace_set="absolute")  # the model that plays later is trained on the same five paces
test_videos = build_dataset("synthetic", root, "test", mode="eval").records
picked = test_videos[:: max(1, len(test_videos) // 10)][:10]
videos = read_videos([r.path for r in picked])  # [(name, frames (N, H, W, 3) uint8)]
print(f"{len(videos)} test videos, frames {videos[0][1].shape[1:]}: {', '.join(name for name, _ in videos)}")

# %% [markdown]
# ## 2. Play
#
# Press ▶ to watch the clip (it loops), pick a pace and press **Guess**. The reveal tells you the answer;
# **Next clip** moves on. Score and streak are at the top. Two hints: every motion has its own natural
# speed (a bounce is fast, a zoom is slow), and a slow clip shows each frame two or three times, so it
# moves in small steps.

# %%
clips = make_game_clips(videos, cfg.pace_set, num_rounds=10, clip_len=24, seed=nb.seed)
game = PaceGame(clips, cfg.pace_set, zoom=2)
game

# %% [markdown]
# The game is plain Python underneath (`pacekit.widgets.PaceGame`): `game.guess(label)`,
# `game.next_round()`, `game.score`, `game.streak`. The widget above only calls these; the test suite
# plays it by setting `game.choice.value` and calling `game.guess_button.click()`.
#
# ## 3. A pretrained model plays the same clips
#
# The player is a small 3D CNN pretrained on the pace-prediction task (Eq. 1) with the same five
# paces, on the synthetic training videos: the checkpoint in `runs/` is loaded if an earlier run left
# one with the same settings, otherwise it is trained now. It sees the first frames of each game clip
# (its own clip length), resized and centre-cropped like its test clips (`pacekit.train.eval_transform`):
# the clips it was trained on, since frame $i$ of both is $s + \lfloor i p \rfloor$.

# %%
trained = load_or_train(cfg, "pretrain")
model = trained.model
print(f"pace accuracy on held-out test videos (one clip each): {100 * pace_accuracy(model, cfg, 'test'):.0f}% "
      f"(chance {100 / len(game.pace_set):.0f}%)")
game.set_player(model_player(model, cfg.clip_len, eval_transform(cfg), frame_size=cfg.frame_size, device=nb.device))

# %% [markdown]
# In fast mode (`PACEKIT_FAST=1`, the test suite) this model trains for a few seconds and plays near
# chance. Without it, the `cpu-tiny` preset trains for a few minutes on CPU (the `gpu-demo` preset,
# the paper's R(2+1)D, on a GPU) and plays far better.
#
# ## 4. You against the model
#
# **Let the model play** in the game does the same as the next cell: the model answers every round, and
# the table sets its answers beside yours. Only the rounds you have already answered show the truth and
# the model's answer; the others show `?` (and `-` in your column), so running this cell gives nothing
# away. Rerun the cell after playing.

# %%
game.let_model_play()
print(game.comparison_text())

# %% [markdown]
# The rounds as stills, with the truth and the model's answer for the rounds you have played (`?` for the
# others; `plot_rounds(game, show_all=True)` gives every answer away):

# %%
fig = plot_rounds(game)

# %% [markdown]
# **The answer to Fig. 1** in the paper: Clip I is slow, Clip II normal, Clip III fast. Were you right?
#
# What to look for in the table: which paces get confused. Neighbouring paces are the hard pairs, for
# people and for a trained network alike: the two slow paces differ only in how often a frame repeats
# (three times or twice), the two fast ones in how far the object jumps between frames.
#
# ## Exercises
#
# 1. Play all ten rounds. Which paces did you confuse? Compare with the model's confusions in the table.
# 2. Make the game harder: `make_game_clips(videos, "1,2,3,4", ...)`, the paper's relative paces (Table
#    1), which has no slow pace. Which rounds get harder for you, and why? (The model above was trained
#    on the five absolute paces, so train one on `pace_set="relative"` first: `nb.config("game-relative",
#    pace_set="relative")`.)
# 3. Use 8-frame clips (`clip_len=8`). Does the pace get harder to tell? The model only ever sees
#    `cfg.clip_len` frames.
# 4. Give the model the clips with a different start policy: draw the clips yourself with
#    `pacekit.pace.sample_indices` from frame `len(frames) - 10`, so that every fast clip loops. Does the
#    model's accuracy change? (Notebook 01, section 4: the jump-cut shortcut.)
