"""The GPU paths, tested on the CPU by forcing them: precision (bf16, fp16 + GradScaler, fp32), the loader
worker cap, torch.compile off unless asked, and a CUDA out-of-memory error turned into a PacekitError."""

import logging
import warnings

import numpy as np
import pytest
import torch
from helpers import tiny_config

from pacekit import machine
from pacekit.config import PRESETS, config_default, get_config
from pacekit.errors import PacekitError
from pacekit.recipes.train import finetune, pretrain
from pacekit.training import DistContext, loop, read_metrics
from pacekit.training import data as tdata
from pacekit.training.loop import FastPath, apply_update, make_grad_scaler, resolve_precision

CUDA = torch.device("cuda:0")
CPU = torch.device("cpu")


# ------------------------------------------------------------------------------------ precision


@pytest.mark.parametrize("bf16, expected", [(True, "bf16"), (False, "fp16")])
def test_auto_precision_on_cuda_follows_bf16_support(monkeypatch, bf16, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert resolve_precision("auto", CUDA) == expected
    fast = FastPath.from_config(get_config("paper"), CUDA)
    assert fast.autocast_dtype == {"bf16": torch.bfloat16, "fp16": torch.float16}[expected]
    assert fast.channels_last and not fast.compile
    assert fast.needs_scaler == (expected == "fp16")


def test_auto_precision_is_fp32_on_the_cpu_and_an_explicit_value_is_honoured(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", CPU) == "fp32"
    assert FastPath.from_config(get_config("paper"), CPU).autocast_dtype is None
    for value, dtype in [("bf16", torch.bfloat16), ("fp16", torch.float16), ("fp32", None)]:
        assert resolve_precision(value, CUDA) == value and resolve_precision(value, CPU) == value
        assert FastPath.from_config(get_config("paper", precision=value), CUDA).autocast_dtype == dtype
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("fp8", CUDA)


def test_a_scaler_is_made_for_fp16_only():
    for precision in ("bf16", "fp32"):
        assert FastPath.from_config(get_config("paper", precision=precision), CPU).make_scaler(CPU) is None
    scaler = FastPath.from_config(get_config("paper", precision="fp16"), CPU).make_scaler(CPU)
    assert isinstance(scaler, torch.amp.GradScaler)


def test_on_torch_2_2_the_scaler_is_cudas_and_fp16_elsewhere_is_refused(monkeypatch):
    # torch 2.2 (pyproject's lower bound) has torch.cuda.amp.GradScaler but no torch.amp.GradScaler
    monkeypatch.delattr(torch.amp, "GradScaler")
    fp16 = FastPath.from_config(get_config("paper", precision="fp16"), CPU)
    with pytest.raises(PacekitError, match="torch >= 2.3.*'bf16' or 'fp32'"):
        fp16.make_scaler(CPU)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # newer torch deprecates the CUDA-only class; no CUDA here disables it
        assert isinstance(make_grad_scaler(CUDA), torch.cuda.amp.GradScaler)


class FakeScaler:
    """Records the calls apply_update makes; scales the loss by 8 and divides the gradients back."""

    def __init__(self):
        self.calls = []

    def scale(self, loss):
        self.calls.append("scale")
        return loss * 8

    def unscale_(self, optimizer):
        self.calls.append("unscale_")
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.grad /= 8

    def step(self, optimizer):
        self.calls.append("step")
        optimizer.step()

    def update(self):
        self.calls.append("update")


def _problem():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.ones(3))
    return w, torch.optim.SGD([w], lr=0.1), (w * torch.tensor([1.0, 2.0, 3.0])).sum()


def test_apply_update_with_and_without_a_scaler_gives_the_same_step():
    w, opt, loss = _problem()
    checks = []
    apply_update(loss, opt, None, checks.append)
    plain = w.detach().clone()
    w, opt, loss = _problem()
    scaler = FakeScaler()
    apply_update(loss, opt, scaler, checks.append)
    assert scaler.calls == ["scale", "unscale_", "step", "update"]
    assert torch.allclose(w.detach(), plain) and torch.allclose(plain, torch.tensor([0.9, 0.8, 0.7]))
    # gradients are checked without a scaler; with one, only the loss (an fp16 inf gradient is the scaler's)
    assert checks == [True, False]


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")  # skipped inf steps
def test_a_real_fp16_training_step_with_a_grad_scaler_on_the_cpu(ucf_root, tmp_path):
    cfg = tiny_config(ucf_root, tmp_path, precision="fp16")
    made = []
    original = FastPath.make_scaler

    def spy(self, device):
        made.append(original(self, device))
        return made[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FastPath, "make_scaler", spy)
        result = pretrain(cfg)
    assert len(made) == 1 and isinstance(made[0], torch.amp.GradScaler)
    assert 0 < made[0].get_scale() <= 2.0 ** 16  # steps with inf gradients were skipped and the scale lowered
    rows = [r for r in read_metrics(tmp_path / "run") if r["kind"] == "step"]
    assert rows and all(np.isfinite(r["loss"]) for r in rows)
    assert all(torch.isfinite(v).all() for v in result.model.state_dict().values() if v.is_floating_point())


# ------------------------------------------------------------------------------------ workers


def test_workers_are_capped_by_the_cpus_with_a_log_line(caplog):
    one = DistContext()
    with caplog.at_level(logging.INFO, logger="pacekit.training"):
        assert tdata.cap_workers(8, one, cpus=2) == 2  # a Colab VM
        assert "num_workers 8 capped to 2" in caplog.text
        caplog.clear()
        assert tdata.cap_workers(2, one, cpus=2) == 2 and tdata.cap_workers(0, one, cpus=2) == 0
        assert tdata.cap_workers(16, one, cpus=16) == 16
        assert not caplog.text
        assert tdata.cap_workers(16, DistContext(rank=0, world_size=4), cpus=16) == 4  # a share per process
        assert tdata.cap_workers(4, one, cpus=1) == 1


def test_usable_cores_uses_the_affinity_mask_else_the_cpu_count(monkeypatch):
    monkeypatch.setattr(machine.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert machine.usable_cores() == 2
    monkeypatch.delattr(machine.os, "sched_getaffinity")
    monkeypatch.setattr(machine.os, "cpu_count", lambda: 6)
    assert machine.usable_cores() == 6


def test_fit_loads_with_the_capped_number_of_workers(ucf_root, tmp_path, monkeypatch):
    seen = {}
    original = loop.make_train_loader

    def spy(dataset, batch_size, ctx, seed, num_workers, pin_memory):
        seen["workers"] = num_workers
        return original(dataset, batch_size, ctx, seed, 0, pin_memory)

    monkeypatch.setattr(loop, "make_train_loader", spy)
    monkeypatch.setattr(tdata, "usable_cores", lambda: 2)
    pretrain(tiny_config(ucf_root, tmp_path, num_workers=8, epoch_repeat=1, backend="pyav"))
    assert seen["workers"] == 2


def test_the_memory_backend_loads_in_the_training_process_and_trains_as_a_worker_would(ucf_root, tmp_path,
                                                                                        monkeypatch):
    seen = []
    original = loop.make_train_loader

    def spy(dataset, batch_size, ctx, seed, num_workers, pin_memory):
        seen.append(num_workers)
        return original(dataset, batch_size, ctx, seed, num_workers, pin_memory)

    monkeypatch.setattr(loop, "make_train_loader", spy)
    in_process = pretrain(tiny_config(ucf_root, tmp_path / "memory", num_workers=1, backend="memory"))
    in_worker = pretrain(tiny_config(ucf_root, tmp_path / "pyav", num_workers=1, backend="pyav"))
    assert seen == [0, 1]
    # Same clips in the same order (the memory backend decodes with PyAV, exactly), one thread each: same weights
    a, b = in_process.model.state_dict(), in_worker.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------------------------ compile


def test_compile_is_off_unless_asked():
    assert config_default("compile") is False
    assert all("compile" not in values for values in PRESETS.values())
    for preset in PRESETS:
        assert FastPath.from_config(get_config(preset), CPU).compile is False
    assert FastPath.from_config(get_config("paper", compile=True), CPU).compile is True


# ------------------------------------------------------------------------------------ out of memory


@pytest.mark.parametrize("stage, flag", [("pretrain", "--batch-size"), ("finetune", "--ft-batch-size")])
def test_cuda_out_of_memory_becomes_a_pacekit_error_naming_the_batch_flag(ucf_root, tmp_path, monkeypatch, stage,
                                                                         flag):
    def boom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(loop, "apply_update", boom)
    cfg = tiny_config(ucf_root, tmp_path, epoch_repeat=1)
    if stage == "finetune":
        cfg = cfg.replace(name="ft")
        batch = cfg.ft_batch_size
        with pytest.raises(PacekitError) as info:
            finetune(cfg)
    else:
        batch = cfg.batch_size
        with pytest.raises(PacekitError) as info:
            pretrain(cfg)
    message = str(info.value)
    assert f"batch size {batch}" in message and flag in message and "out of memory" in message
    assert info.value.__cause__ is None and isinstance(info.value, RuntimeError)
