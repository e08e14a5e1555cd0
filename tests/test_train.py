"""Pretraining and fine-tuning on the CPU at tiny sizes: steps, checkpoints, exact resume, transfer, CLI."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import tiny_config

from pacekit.cli import main as cli_main
from pacekit.config import get_config
from pacekit.data import ClipEval
from pacekit.data.splits import VideoRecord
from pacekit.data.transforms import temporal_residual
from pacekit.losses import same_context_loss, same_pace_loss
from pacekit.models import ClipModel, build_backbone
from pacekit.recipes.train import PaceStep, finetune, pretrain
from pacekit.study.plots import plot_pace_strip, plot_training_curves
from pacekit.training import DeviceMeter, DistContext, EpochIndexed, EpochSampler, read_metrics, select_per_class
from pacekit.training.checkpoint import load_checkpoint
from pacekit.training.loading import build_action_model, model_from_checkpoint
from pacekit.training.loop import step_seed

# ------------------------------------------------------------------------------------- pieces


def test_select_per_class_spreads_evenly_and_is_deterministic():
    records = [VideoRecord(f"c{c}/v{i}", c, f"c{c}_v{i}") for c in range(3) for i in range(7)]
    chosen = select_per_class(records, 3)
    assert [r.name for r in chosen if r.label == 0] == ["c0_v0", "c0_v3", "c0_v6"]
    assert len(chosen) == 9 and select_per_class(records, 3) == chosen
    assert len(select_per_class(records, 10)) == 21  # a class with fewer videos keeps them all


def test_epoch_sampler_pairs_indices_with_the_epoch_and_reshuffles_per_epoch():
    class Items(torch.utils.data.Dataset):
        epoch = None

        def __len__(self):
            return 10

        def set_epoch(self, e):
            self.epoch = e

        def __getitem__(self, i):
            return (self.epoch, i)

    sampler = EpochSampler(Items(), DistContext(), seed=3)
    sampler.set_epoch(0)
    first = list(sampler)
    sampler.set_epoch(1)
    second = list(sampler)
    assert {e for e, _ in first} == {0} and {e for e, _ in second} == {1}
    assert sorted(i for _, i in first) == list(range(10)) and [i for _, i in first] != [i for _, i in second]
    sampler.set_epoch(0)
    assert list(sampler) == first  # seeded: the same order again
    wrapped = EpochIndexed(Items())
    assert wrapped[(5, 2)] == (5, 2)  # the item is read under the sampler's epoch


def test_two_ranks_split_an_epoch_without_overlap():
    data = list(range(10))
    ranks = []
    for rank in range(2):
        sampler = EpochSampler(data, DistContext(rank=rank, world_size=2), seed=0)
        sampler.set_epoch(4)
        ranks.append({i for _, i in sampler})
    assert ranks[0] | ranks[1] == set(range(10)) and not ranks[0] & ranks[1]


def test_device_meter_reads_clip_weighted_means():
    meter = DeviceMeter(torch.device("cpu"))
    meter.add(torch.tensor(2.0), torch.tensor(3), 4)
    meter.add(torch.tensor(1.0), torch.tensor(1), 2)
    loss, acc, n = meter.read(DistContext())
    assert (loss, acc, n) == (pytest.approx((2 * 4 + 1 * 2) / 6), pytest.approx(4 / 6), 6)
    meter.reset()
    assert meter.read(DistContext())[2] == 0


def test_step_seed_depends_on_every_coordinate():
    seeds = {step_seed(0, e, s, r) for e in range(3) for s in range(3) for r in range(2)}
    assert len(seeds) == 18 and step_seed(0, 1, 2, 0) == step_seed(0, 1, 2, 0)


def test_temporal_residual_removes_the_static_scene_and_keeps_motion():
    scene = torch.rand(2, 3, 1, 5, 6).expand(2, 3, 4, 5, 6)  # (B, C, T, H, W), nothing moves
    assert torch.allclose(temporal_residual(scene), torch.zeros(()), atol=1e-6)
    moving = scene.clone()
    moving[:, :, 3, 2, 2] += 1.0  # one pixel changes in the last frame
    residual = temporal_residual(moving)
    assert residual[0, 0, 3, 2, 2].item() == pytest.approx(0.75)
    assert residual[0, 0, 0, 2, 2].item() == pytest.approx(-0.25)
    assert torch.allclose(residual.sum(dim=2), torch.zeros(()), atol=1e-6)  # zero mean over time
    # Ten eval clips per video, (B, n, T, H, W, C) uint8 in: the mean is taken over each clip's time axis.
    clips = torch.randint(0, 256, (2, 10, 4, 8, 8, 3), dtype=torch.uint8)
    rgb = ClipEval(size=None, crop=8)(clips)  # (B, n, C, T, h, w)
    residual = ClipEval(size=None, crop=8, input_mode="residual")(clips)
    assert torch.allclose(residual, rgb - rgb.mean(3, keepdim=True), atol=1e-6)


@pytest.mark.parametrize("contrastive,projection", [("context", "mlp"), ("pace", "linear"), ("context", None)])
def test_pace_step_computes_eq4_in_the_losses_clip_major_order(contrastive, projection):
    torch.manual_seed(0)
    cfg = get_config("cpu-tiny", contrastive=contrastive, projection=projection, jitter=None, crop=32,
                     frame_size=(32, 32), lambda_ctr=0.5)
    model = ClipModel(build_backbone("tiny"), 4, projection=projection).eval()
    n = cfg.clips_per_video
    video = torch.randint(0, 256, (3, n, 4, 32, 32, 3), dtype=torch.uint8)
    labels = torch.tensor([[0, 3], [1, 2], [3, 0]])[:, :n]
    batch = {"video": video if n == 2 else video[:, 0], "pace_label": labels if n == 2 else labels[:, 0]}
    identity = lambda v, generator=None: v.permute(0, 4, 1, 2, 3).float() / 255  # noqa: E731
    loss, correct, clips = PaceStep(cfg, identity)(model, batch, None)

    # Reference: clip k of video i is row k * N + i (pacekit.losses' order).
    x = torch.cat([identity(video[:, k]) for k in range(n)])
    flat_labels = torch.cat([labels[:, k] for k in range(n)])
    logits, embedding, z = model(x, return_all=True)
    feats = z if z is not None else embedding
    ctr = (same_context_loss(feats, 0.5, True, clips_per_video=2) if contrastive == "context"
           else same_pace_loss(feats, flat_labels, 0.5, True))
    expected = F.cross_entropy(logits, flat_labels) + 0.5 * ctr
    assert clips == 3 * n
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert correct.item() == (logits.argmax(1) == flat_labels).sum().item()


# ------------------------------------------------------------------------------------- stages


def test_pretraining_writes_loadable_checkpoints_and_metrics(ucf_root, tmp_path):
    cfg = tiny_config(ucf_root, tmp_path, contrastive="context", projection="mlp")
    result = pretrain(cfg)
    state = load_checkpoint(result.checkpoint)  # weights_only=True
    assert result.checkpoint.name == "last.pt" and (tmp_path / "run" / "epoch_1.pt").is_file()
    assert {"model", "optimizer", "scheduler", "rng", "config", "epoch", "step", "metrics"} <= set(state)
    assert state["stage"] == "pretrain" and state["epoch"] == 1 and state["config"]["contrastive"] == "context"
    assert any(k.startswith("projector.") for k in state["model"])
    rows = read_metrics(tmp_path / "run")
    epoch_rows = [r for r in rows if r["kind"] == "epoch"]
    # 6 train videos x2 (epoch_repeat) = 12 videos per epoch, batch 4, two clips per video.
    assert len(epoch_rows) == 1 and epoch_rows[0]["clips"] == 24 and epoch_rows[0]["step"] == 3
    assert [r["step"] for r in rows if r["kind"] == "step"] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) and 0 <= r["acc"] <= 1 for r in rows)
    assert epoch_rows[0]["substituted"] == 0
    model, loaded_cfg = model_from_checkpoint(result.checkpoint)
    assert loaded_cfg == cfg and model.head.out_features == 4


def test_resume_after_an_interruption_matches_an_uninterrupted_run(ucf_root, tmp_path):
    full = pretrain(tiny_config(ucf_root, tmp_path, name="full", epochs=2, lr_step=1))

    class Interrupt(Exception):
        pass

    def stop_after_first_epoch(row):
        if row["epoch"] == 1:
            raise Interrupt

    cfg = tiny_config(ucf_root, tmp_path, name="cut", epochs=2, lr_step=1)
    with pytest.raises(Interrupt):
        pretrain(cfg, on_epoch_end=stop_after_first_epoch)
    assert not (tmp_path / "cut" / "last.pt").exists()
    resumed = pretrain(cfg.replace(resume=True))
    assert load_checkpoint(resumed.checkpoint)["epoch"] == 2
    full_state, resumed_state = full.model.state_dict(), resumed.model.state_dict()
    assert full_state.keys() == resumed_state.keys()
    for key in full_state:
        assert torch.equal(full_state[key], resumed_state[key]), key
    # The resumed run's log continues the interrupted one: no duplicated or missing rows.
    strip = lambda rows: [(r["kind"], r["step"], round(r["loss"], 6)) for r in rows]  # noqa: E731
    assert strip(read_metrics(tmp_path / "cut")) == strip(read_metrics(tmp_path / "full"))


def test_finetuning_transfers_the_backbone_and_reinitialises_the_fc(ucf_root, tmp_path):
    pre = pretrain(tiny_config(ucf_root, tmp_path, name="pre"))
    ft = finetune(tiny_config(ucf_root, tmp_path, name="ft", pretrained=str(pre.checkpoint), ft_epochs=0 + 1,
                              ft_lr=1e-9, weight_decay=0.0))
    backbone_keys = [k for k in ft.model.state_dict() if k.startswith("backbone.")]
    assert sorted(ft.transfer.loaded) == sorted(backbone_keys) and not ft.transfer.missing
    assert set(ft.transfer.skipped) == {"head.weight", "head.bias"}
    assert ft.model.head.out_features == 3  # action classes, not the 4 paces
    pre_weights = pre.model.state_dict()
    conv = "backbone.conv1.temporal_spatial_conv.weight"
    assert torch.allclose(ft.model.state_dict()[conv], pre_weights[conv], atol=1e-6)  # lr ~ 0: kept
    state = load_checkpoint(ft.checkpoint)
    assert state["stage"] == "finetune" and state["classes"] == ["ApplyEyeMakeup", "HandstandPushups", "Basketball"]


def test_linear_probe_trains_only_the_fc_and_keeps_batchnorm_statistics(ucf_root, tmp_path):
    pre = pretrain(tiny_config(ucf_root, tmp_path, name="pre"))
    ft = finetune(tiny_config(ucf_root, tmp_path, name="probe", pretrained=str(pre.checkpoint),
                              freeze_backbone=True, ft_lr=0.5))
    before, after = pre.model.state_dict(), ft.model.state_dict()
    for key in before:
        if key.startswith("backbone."):
            assert torch.equal(before[key], after[key]), key  # weights and running stats untouched
    # The fc trained: it moved away from the very init finetune() drew (seeded with the run's seed
    # right before building the model), not merely from some other random init.
    torch.manual_seed(ft.config.seed)
    init = build_action_model(ft.config, 3).state_dict()
    for key in ("head.weight", "head.bias"):
        assert not torch.allclose(after[key], init[key]), key


def test_labels_per_class_limits_the_finetuning_set(ucf_root, tmp_path):
    ft = finetune(tiny_config(ucf_root, tmp_path, name="few", labels_per_class=1, ft_epoch_repeat=2,
                              ft_batch_size=2))
    epoch = [r for r in ft.metrics if r["kind"] == "epoch"][0]
    assert epoch["clips"] == 6  # 3 classes x 1 video x2 repeat, in batches of 2


def test_finetuning_refuses_a_checkpoint_of_another_backbone(ucf_root, tmp_path):
    pre = pretrain(tiny_config(ucf_root, tmp_path, name="pre"))
    with pytest.raises(ValueError, match="backbone='tiny'.*--backbone tiny"):
        finetune(tiny_config(ucf_root, tmp_path, name="ft", pretrained=str(pre.checkpoint), backbone="r3d",
                             width=0.125))


def test_cli_pretrain_and_finetune_with_evaluation(ucf_root, tmp_path, capsys):
    common = ["--preset", "cpu-tiny", "--dataset", "ucf101", "--root", str(ucf_root), "--out-dir", str(tmp_path),
              "--frame-size", "32,48", "--clip-len", "4", "--crop", "32", "--epoch-repeat", "1", "--epochs", "1",
              "--batch-size", "3", "--num-workers", "0", "--no-progress", "--num-clips", "2", "--threads", "1"]
    assert cli_main(["pretrain", *common, "--name", "pre"]) == 0
    assert cli_main(["finetune", *common, "--name", "ft", "--pretrained", str(tmp_path / "pre" / "last.pt"),
                     "--ft-epochs", "1", "--ft-epoch-repeat", "1", "--ft-batch-size", "3"]) == 0
    out = capsys.readouterr().out
    assert "loaded 72 backbone tensors" in out and "test split, 2-clip evaluation: 6 videos" in out
    evaluation = json.loads((tmp_path / "ft" / "eval.json").read_text())
    assert evaluation["num_videos"] == 6 and 0 <= evaluation["top1"] <= 1
    assert cli_main(["finetune", *common, "--pretrained", str(tmp_path / "missing.pt")]) == 2
    assert "no such checkpoint file" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- plots


def test_training_curve_and_pace_strip_figures():
    rows = [dict(stage="pretrain", kind="step", step=s, loss=1.0 / s, acc=0.1 * s) for s in (1, 2, 3)]
    rows.append(dict(stage="pretrain", kind="epoch", step=3, loss=0.5, acc=0.2))
    fig = plot_training_curves({"a": rows, "b": rows[:2]})
    loss_ax, acc_ax = fig.axes
    assert list(loss_ax.lines[0].get_ydata()) == [1.0, 0.5, pytest.approx(1 / 3)]
    assert list(acc_ax.lines[1].get_ydata()) == [20.0]  # the epoch mean, in %
    assert len(loss_ax.lines) == 3  # a: steps + epochs, b: steps only
    frames = {1: np.zeros((4, 8, 10, 3), np.uint8), "1/2": np.full((4, 8, 10, 3), 255, np.uint8)}
    strip = plot_pace_strip(frames, max_frames=3)
    assert len(strip.axes) == 6 and strip.axes[3].get_ylabel() == "slow\np = 1/2"  # both named paces
    relative = plot_pace_strip({p: np.zeros((2, 8, 10, 3), np.uint8) for p in (1, 4)})
    assert [ax.get_ylabel() for ax in relative.axes[::2]] == ["p = 1", "p = 4"]
    with pytest.raises(ValueError, match="expected \\(T, H, W, C\\)"):
        plot_pace_strip({1: np.zeros((8, 10), np.uint8)})
