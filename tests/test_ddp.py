"""`pacekit pretrain` under torchrun: two CPU processes (gloo), DistributedSampler, rank-0-only outputs."""

import os
import subprocess
import sys

import pytest
import torch

from pacekit.training import read_metrics
from pacekit.training.checkpoint import load_checkpoint


@pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                    reason="this torch build has no gloo backend")
def test_pretrain_runs_under_torchrun_with_two_cpu_processes(ucf_root, tmp_path):
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
        "-m", "pacekit.cli", "pretrain", "--preset", "cpu-tiny", "--dataset", "ucf101", "--root", str(ucf_root),
        "--out-dir", str(tmp_path), "--name", "ddp", "--frame-size", "32,48", "--clip-len", "4", "--crop", "32",
        "--epoch-repeat", "2", "--epochs", "2", "--batch-size", "3", "--num-workers", "0", "--log-every", "1",
        "--no-progress", "--device", "cpu",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert done.stdout.count("pretrain: tiny") == 1  # only rank 0 talks
    assert "x2; run folder" in done.stdout

    run = tmp_path / "ddp"
    assert sorted(p.name for p in run.iterdir()) == ["epoch_1.pt", "epoch_2.pt", "last.pt", "metrics.jsonl",
                                                     "pacekit.json"]
    rows = read_metrics(run)
    epochs = [r for r in rows if r["kind"] == "epoch"]
    # 6 train videos x2 = 12 clips per epoch, split over 2 ranks: 6 each = 2 steps of 3 per rank,
    # and the epoch row sums the clips of both ranks.
    assert [r["clips"] for r in epochs] == [12, 12] and [r["step"] for r in epochs] == [2, 4]
    assert len([r for r in rows if r["kind"] == "step"]) == 4
    state = load_checkpoint(run / "last.pt")
    assert state["epoch"] == 2 and state["step"] == 4
    assert not any(k.startswith("module.") for k in state["model"])  # the unwrapped model is saved
