# %% [markdown]
# # 03 · Pace-prediction pretraining, on a GPU or a CPU
#
# Notebook 3 of 6. Here a network learns the pretext task: it sees clips at random paces and predicts
# which pace each one is (Sec. 3.1, Eq. 1). No action label is used. The result, a checkpoint, is what
# notebooks 04-06 fine-tune, probe and look inside.
#
# **Why.** The paper's claim is that the weights learned this way are a good starting point for action
# recognition (Sec. 4.3, Fig. 4). Before any transfer, the pretext task itself has to be learnable: the
# loss must fall and the pace accuracy on videos the network never saw must rise above chance.
#
# **Where it runs.**
#
# | where | preset | data | time |
# |---|---|---|---|
# | Colab / a GPU, with UCF101 in `data/ucf101` | `paper`: R(2+1)D, 16x112x112 clips, 18 epochs | UCF101 train split 1 | hours |
# | Colab / a GPU | `gpu-demo`: R(2+1)D, 16x112x112 clips, 12 epochs | synthetic (10 classes) | minutes |
# | a CPU | `cpu-tiny`: a 0.09M-parameter 3D ResNet, 8x56x56 clips | synthetic (10 classes) | a few minutes |
# | `PACEKIT_FAST=1` (tests) | `cpu-tiny`, 2 short epochs | synthetic (5 classes, 40 videos) | seconds |
#
# On Colab choose *Runtime > Change runtime type > GPU* first. UCF101 goes into `data/ucf101` with
# `python data_scripts/get_ucf101.py --out data/ucf101` (a clone of the repository; see the README).
#
# **Contents.** 1. the configuration · 2. training, with live curves · 3. the pretext accuracy · 4. the
# model at every pace · 5. the checkpoint · exercises.

# %% [setup]
import torch

from pacekit.attention import load_pace_clips
from pacekit.config import get_config
from pacekit.data import build_dataset
from pacekit.notebook import LiveCurves, load_or_train
from pacekit.pace import PaceSet
from pacekit.plots import plot_pace_strip, plot_training_curves
from pacekit.train import eval_transform, pace_accuracy

# %% [markdown]
# ## 1. The configuration
#
# One dataclass, `pacekit.config.Config`, holds every knob; its fields default to the paper's values
# (Sec. 4.1) and a preset changes a few. `nb.config(name)` starts from the preset the setup cell picked
# and points the run at `runs/<mode>/<name>`. UCF101 is used when it is there and a GPU is present.

# %%
ucf101 = nb.root / "data" / "ucf101"
if nb.device == "cuda" and not nb.fast and (ucf101 / "ucfTrainTestlist").is_dir():
    cfg = nb.config("pretrain", preset="paper", dataset="ucf101", root=ucf101.as_posix())
else:
    nb.ensure_data()
    cfg = nb.config("pretrain")
paper = get_config("paper")
print(f"run folder {cfg.run_dir}; dataset {cfg.dataset} at {cfg.root}")
print(f"{'field':<14} {'this run':>16} {'paper':>16}")
for field in ("backbone", "clip_len", "crop", "frame_size", "pace_set", "start_policy", "jitter", "input_mode",
              "epochs", "epoch_repeat", "batch_size", "optimizer", "lr", "lr_step", "weight_decay"):
    print(f"{field:<14} {str(getattr(cfg, field, '-')):>16} {str(getattr(paper, field, '-')):>16}")

# %% [markdown]
# Two departures of the CPU preset from the paper matter. It feeds the network **residual clips**
# (`input_mode="residual"`: each clip minus its mean frame, `pacekit.train.temporal_residual`) and turns
# colour jitter off: on the synthetic set the static scene varies far more than the small moving object
# changes a frame, and a network this small fed RGB clips stays at chance on pace prediction. The
# `gpu-demo` preset makes the same two departures at the paper's network and clip size (residual clips,
# no jitter). Only the `paper` preset keeps RGB clips and per-frame jitter.
#
# ## 2. Training, with live curves
#
# **How.** Each step (`pacekit.train.PaceStep`): a batch of clips, each at a pace drawn uniformly from
# the pace set (paper: $p \in \{1, 2, 3, 4\}$, Table 1); per-clip random crop and flip, and per-frame
# colour jitter when `jitter="frame"` (the paper's setting, notebook 01); the network's pace logits $h$;
# the cross-entropy of Eq. 1,
#
# $$\mathcal{L}_{cls} = -\sum_{i=1}^{M} y_i \log \frac{\exp(h_i)}{\sum_{j=1}^{M} \exp(h_j)},$$
#
# with $M$ the number of paces; the preset's optimiser (`cfg.optimizer`, printed above): AdamW in the
# `cpu-tiny` and `gpu-demo` presets that run here; SGD with momentum in the `paper` preset, as in the
# paper; the learning rate divided by 10 every `lr_step` epochs. The figure below is redrawn after every epoch: lines are windows of `log_every` steps, dots
# epoch means.
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
print(f"final training pace accuracy {100 * result.final('acc'):.1f}% (chance {100 / len(PaceSet.from_spec(cfg.pace_set)):.0f}%)")

# %% [markdown]
# ## 3. The pretext accuracy on held-out videos
#
# Training accuracy can come from memorising videos. The test split's videos were never seen: one clip
# per video at a random (seeded) pace, centre-cropped, no jitter.

# %%
accuracy = pace_accuracy(model, cfg, "test", device=device, batch_size=cfg.eval_batch_size)
paces = list(PaceSet.from_spec(cfg.pace_set))
print(f"pace accuracy on the test videos: {100 * accuracy:.1f}% (chance {100 / len(paces):.0f}%)")

# %% [markdown]
# ## 4. See it: one test video at every pace
#
# The same start frame, every pace of the set, and what the network says about each clip.

# %%
video = build_dataset(cfg.dataset, cfg.root, "test", mode="eval").records[0]
clips = load_pace_clips(video.path, paces, cfg.clip_len, start=0, frame_size=cfg.frame_size)  # (P, T, H, W, C)
model.eval()
with torch.inference_mode():
    predicted = model(eval_transform(cfg)(clips.to(device))).argmax(1).tolist()  # centre crop, input mode
rows = {f"p = {p}\nmodel: p = {paces[k]}": c.numpy() for p, c, k in zip(paces, clips, predicted)}
fig = plot_pace_strip(rows, max_frames=cfg.clip_len, title=f"{video.path.name}: one clip per pace and the model's answer")

# %% [markdown]
# ## 5. The checkpoint
#
# `last.pt` holds the model, the optimiser, the scheduler, the random states, the config (a plain dict)
# and the metrics; it loads with `torch.load(..., weights_only=True)`. Notebooks 04-06 call
# `load_or_train(nb.config("pretrain"), "pretrain")` and get this run back in a second. The command line
# does the same training: `pacekit pretrain --preset cpu-tiny --dataset synthetic --root data/synthetic`.

# %%
print(f"checkpoint: {result.checkpoint.as_posix()}")
print(f"stored metrics: {len(result.metrics)} rows, last epoch {[r for r in result.metrics if r['kind'] == 'epoch'][-1]['epoch']}")

# %% [markdown]
# ## Exercises
#
# 1. **The shortcut of notebook 01.** Train with `nb.config("pretrain-any", start_policy="any")`. Is the
#    pretext accuracy higher? On the test videos, clips are drawn with the same policy: a cut detector
#    would score there too. Then fine-tune both checkpoints (notebook 05): which transfers better?
# 2. **Per clip colour jitter** (Sec. 3.1, "Avoid Shortcuts": per frame works much better, a finding the
#    paper states in its text; Table 1 only compares jitter on and off): train with `jitter="clip"` and
#    with `jitter="frame"` (the presets used here turn jitter off). Compare the pretext accuracy and, in
#    notebook 05, the fine-tuned accuracy.
# 3. **Pace sets** (Table 1): train with `pace_set="absolute"` (1/3 ... 3) and with `"1,2,3,4,5"`.
#    Which paces does the model confuse? (Build the confusion with `pacekit.evaluate.confusion_matrix`.)
# 4. **Longer training.** Double `epochs`. Does the held-out accuracy follow the training accuracy?
# 5. **On a GPU**, compare `precision="bf16"` with `"fp32"`: the curves should overlap; the time per
#    epoch should not.
