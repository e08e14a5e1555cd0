"""Tests for pacekit.training.checkpoint: atomic save, safe load, RNG round trip, backbone transfer."""

from __future__ import annotations

import os
import pickle
import random
import time
from collections import Counter, OrderedDict, defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import pacekit.training.checkpoint as ckpt
from pacekit.training.checkpoint import (
    CheckpointError,
    TransferReport,
    capture_rng_state,
    latest_checkpoint,
    load_backbone_weights,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)


class TinyBackbone(nn.Module):
    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv3d(3, width, 3)
        self.bn = nn.BatchNorm3d(width)
        self.fc = nn.Linear(width, 8)


class StandIn(nn.Module):
    """Names like a ClipModel: backbone.*, head.*, projector.*."""

    def __init__(self, num_classes: int = 4, width: int = 4, projection: bool = True) -> None:
        super().__init__()
        self.backbone = TinyBackbone(width)
        self.head = nn.Linear(8, num_classes)
        self.projector = nn.Linear(8, 3) if projection else None


def _full_state(model: nn.Module) -> dict:
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = sum(p.sum() for p in model.parameters())
    loss.backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=6, gamma=0.1)
    return {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng": capture_rng_state(),
        "config": {"backbone": "tiny", "paces": [1, 2, 3, 4], "lr": 1e-3, "contrastive": None, "amp": True},
        "epoch": 3,
        "step": 120,
        "metrics": {"loss": [2.1, 1.7], "acc": 0.41},
    }


# ---------------------------------------------------------------- save / load


def test_round_trip_keeps_every_value(tmp_path):
    torch.manual_seed(0)
    state = _full_state(StandIn())
    path = save_checkpoint(tmp_path / "run" / "nested" / "last.pt", state)  # parents created
    assert path == tmp_path / "run" / "nested" / "last.pt"
    loaded = load_checkpoint(path)
    assert set(loaded) == set(state)
    for key, tensor in state["model"].items():
        assert torch.equal(loaded["model"][key], tensor)
    momentum = state["optimizer"]["state"][0]["momentum_buffer"]
    assert torch.equal(loaded["optimizer"]["state"][0]["momentum_buffer"], momentum)
    assert loaded["optimizer"]["param_groups"] == state["optimizer"]["param_groups"]
    assert loaded["scheduler"] == state["scheduler"]
    assert loaded["config"] == state["config"]
    assert (loaded["epoch"], loaded["step"], loaded["metrics"]) == (3, 120, {"loss": [2.1, 1.7], "acc": 0.41})
    assert os.listdir(path.parent) == ["last.pt"]


def test_crash_mid_write_leaves_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"epoch": 1, "model": {"w": torch.ones(3)}})

    def crashing_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half a zip")  # some bytes reach the temp file, then the process "dies"
        raise OSError("disk full")

    monkeypatch.setattr(ckpt.torch, "save", crashing_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"epoch": 2, "model": {"w": torch.zeros(3)}})
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["last.pt"]
    old = load_checkpoint(path)
    assert old["epoch"] == 1 and torch.equal(old["model"]["w"], torch.ones(3))


def test_save_refuses_values_a_weights_only_load_would_reject(tmp_path):
    path = tmp_path / "bad.pt"
    with pytest.raises(TypeError, match=r"state\['config'\]\['root'\] is a .*Path.*str\(path\)"):
        save_checkpoint(path, {"config": {"root": Path("data")}})
    with pytest.raises(TypeError, match=r"state\['metrics'\]\['acc'\] is a numpy.float64.*x.item\(\)"):
        save_checkpoint(path, {"metrics": {"acc": np.float64(0.5)}})
    with pytest.raises(TypeError, match=r"state\['x'\]\[1\] is a numpy.ndarray"):
        save_checkpoint(path, {"x": [1, np.zeros(2)]})
    assert not path.exists() and os.listdir(tmp_path) == []


def test_every_value_save_accepts_loads_with_weights_only(tmp_path):
    plain = {
        "tensor": torch.arange(3),
        "param": nn.Parameter(torch.ones(2)),
        "leaves": ["s", b"b", bytearray(b"ba"), 1, 2.5, True, None, 1 + 2j],
        "torch_values": (torch.float16, torch.device("cpu"), torch.Size([2, 3])),
        "containers": [{1, 2}, OrderedDict(a=1), Counter("aab"), (1, [2, {"k": 3}])],
    }
    loaded = load_checkpoint(save_checkpoint(tmp_path / "plain.pt", plain))
    assert loaded["leaves"] == plain["leaves"]
    assert loaded["torch_values"] == plain["torch_values"]
    assert loaded["containers"] == plain["containers"]
    assert torch.equal(loaded["param"], plain["param"])


def test_save_refuses_a_container_subclass_that_load_would_refuse(tmp_path):
    state = {"counts": defaultdict(int, a=1)}
    with pytest.raises(TypeError, match=r"state\['counts'\] is a collections.defaultdict"):
        save_checkpoint(tmp_path / "x.pt", state)
    torch.save(state, tmp_path / "raw.pt")  # and torch's own weights_only load does refuse it
    with pytest.raises(CheckpointError, match="collections.defaultdict"):
        load_checkpoint(tmp_path / "raw.pt")


class Arbitrary:
    def __init__(self):
        self.payload = "anything"


def test_load_refuses_arbitrary_pickled_objects_with_clear_error(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "config": Arbitrary()}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert str(path) in message and "Arbitrary" in message and "weights_only=False" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_load_reports_missing_file_folder_and_non_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"no checkpoint at {tmp_path / 'nope.pt'}"):
        load_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(FileNotFoundError, match="latest_checkpoint"):
        load_checkpoint(tmp_path)
    text = tmp_path / "notes.pt"
    text.write_text("hello, not a checkpoint\n")
    with pytest.raises(CheckpointError, match=f"{text} is not a readable torch checkpoint"):
        load_checkpoint(text)
    raw_pickle = tmp_path / "raw.pt"
    raw_pickle.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match=f"{raw_pickle} is not a readable torch checkpoint"):
        load_checkpoint(raw_pickle)
    tensor_file = tmp_path / "tensor.pt"
    torch.save(torch.ones(2), tensor_file)
    with pytest.raises(CheckpointError, match="holds a Tensor, not a checkpoint dict"):
        load_checkpoint(tensor_file)


def test_latest_checkpoint_picks_newest_by_time_then_epoch(tmp_path):
    assert latest_checkpoint(tmp_path / "absent") is None
    assert latest_checkpoint(tmp_path) is None
    base = time.time() - 100
    for i, name in enumerate(["epoch_9.pt", "epoch_10.pt", ".last.pt.abc.tmp", "notes.txt"]):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (base + i, base + i))
    assert latest_checkpoint(tmp_path) == tmp_path / "epoch_10.pt"
    (tmp_path / "last.pt").write_bytes(b"x")
    os.utime(tmp_path / "last.pt", (base + 10, base + 10))
    assert latest_checkpoint(tmp_path) == tmp_path / "last.pt"
    os.utime(tmp_path / "epoch_10.pt", (base + 10, base + 10))  # tie: last.pt wins
    assert latest_checkpoint(tmp_path) == tmp_path / "last.pt"
    os.utime(tmp_path / "epoch_9.pt", (base + 20, base + 20))
    assert latest_checkpoint(tmp_path) == tmp_path / "epoch_9.pt"


# ---------------------------------------------------------------- RNG


def _draws() -> tuple:
    return (
        [random.random() for _ in range(3)],
        random.gauss(0, 1),
        np.random.rand(3).tolist(),
        np.random.normal(),
        torch.rand(3).tolist(),
    )


def test_rng_round_trip_through_a_file_gives_identical_draws(tmp_path):
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    random.gauss(0, 1)  # leave a cached gaussian in both python and numpy state
    np.random.normal()
    path = save_checkpoint(tmp_path / "rng.pt", {"rng": capture_rng_state()})
    first = _draws()
    _draws()
    restore_rng_state(load_checkpoint(path)["rng"])
    assert _draws() == first


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_rng_round_trip_through_a_file(tmp_path):
    torch.cuda.manual_seed_all(7)
    path = save_checkpoint(tmp_path / "rng.pt", {"rng": capture_rng_state()})
    first = torch.rand(4, device="cuda").tolist()
    torch.rand(4, device="cuda")
    restore_rng_state(load_checkpoint(path)["rng"])
    assert torch.rand(4, device="cuda").tolist() == first


# ---------------------------------------------------------------- backbone transfer


def test_transfer_copies_backbone_and_reports_head_projector_and_shape_mismatch():
    torch.manual_seed(0)
    pretrained = StandIn(num_classes=4)  # 4 pace classes + projector
    with torch.no_grad():
        pretrained.backbone.bn.running_mean.fill_(0.5)
    state = {"model": {f"module.{k}": v for k, v in pretrained.state_dict().items()}, "epoch": 18}
    # Make one backbone tensor the wrong shape to see it skipped.
    state["model"]["module.backbone.fc.bias"] = torch.zeros(5)
    target = StandIn(num_classes=101, projection=False)
    head_before = target.head.weight.clone()
    fc_bias_before = target.backbone.fc.bias.clone()

    report = load_backbone_weights(target, state)

    assert isinstance(report, TransferReport)
    backbone_keys = [k for k in target.state_dict() if k.startswith("backbone.")]
    assert sorted(report.loaded) == sorted(k for k in backbone_keys if k != "backbone.fc.bias")
    assert report.skipped == {
        "backbone.fc.bias": "shape (5,) in checkpoint vs (8,) in model",
        "head.weight": "not under 'backbone.'",
        "head.bias": "not under 'backbone.'",
        "projector.weight": "not under 'backbone.'",
        "projector.bias": "not under 'backbone.'",
    }
    assert report.missing == ["backbone.fc.bias"]
    assert torch.equal(target.backbone.conv.weight, pretrained.backbone.conv.weight)
    assert torch.equal(target.backbone.bn.running_mean, torch.full((4,), 0.5))  # buffers too
    assert torch.equal(target.head.weight, head_before)
    assert torch.equal(target.backbone.fc.bias, fc_bias_before)
    text = str(report)
    assert text.splitlines()[0] == f"loaded {len(backbone_keys) - 1} backbone tensors, skipped 5, missing 1"
    assert "skipped (not under 'backbone.'): head.weight, head.bias, projector.weight, projector.bias" in text
    assert "missing (left at their initial values): backbone.fc.bias" in text


def test_transfer_from_file_into_bare_backbone(tmp_path):
    pretrained = StandIn()
    path = save_checkpoint(tmp_path / "last.pt", {"model": pretrained.state_dict()})
    bare = TinyBackbone()
    report = load_backbone_weights(bare, path)
    assert sorted(report.loaded) == sorted(bare.state_dict())
    assert report.missing == []
    assert torch.equal(bare.fc.weight, pretrained.backbone.fc.weight)


def test_transfer_with_wrong_prefix_fails_loudly():
    with pytest.raises(ValueError, match="prefix 'encoder.'.*start backbone.conv.weight"):
        load_backbone_weights(StandIn(), StandIn().state_dict(), prefix="encoder.")
