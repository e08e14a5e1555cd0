"""The machine description recorded beside measured figures (ledger, benchmarks)."""

import platform

import torch

from pacekit.machine import cpu_name, describe_machine, usable_cores


def test_describe_machine_names_the_cpu_and_only_the_gpu_a_run_used():
    cpu = describe_machine("cpu")
    assert cpu["cpu"] == cpu_name() and cpu["cores"] == usable_cores() >= 1
    assert cpu["torch"] == torch.__version__ and cpu["python"] == platform.python_version()
    assert "gpu" not in cpu and "cuda" not in cpu            # a CPU run names no GPU, even on a GPU machine
    default = describe_machine()
    assert ("gpu" in default) == torch.cuda.is_available()
    if torch.cuda.is_available():
        assert describe_machine("cuda:0")["gpu"] == torch.cuda.get_device_name(0)
