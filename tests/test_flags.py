"""Every numeric flag is checked before any work: a bad value exits 2 with a message that names the flag.

Each row runs ``pacekit.cli.main`` with one bad value. The commands' expensive steps (building a dataset,
loading a model, training) are replaced by functions that raise :class:`ReachedWork`, which ``main`` does not
catch, so a value that slips past the checks fails the test instead of running."""

from __future__ import annotations

import argparse

import pytest

from pacekit import cli
from pacekit.commands import flags
from tests.helpers import write_numbered_video


class ReachedWork(BaseException):
    """Raised where a command would start real work: the bad flag was not caught up front."""


def _reached(*args, **kwargs):
    raise ReachedWork("the command went past its flag checks")


@pytest.fixture
def no_work(monkeypatch):
    import pacekit.commands.attention as attention_cmd
    import pacekit.commands.data as data_cmd
    import pacekit.commands.evaluate as evaluate_cmd
    import pacekit.commands.probe as probe_cmd
    import pacekit.commands.quickstart as quickstart_cmd
    import pacekit.commands.retrieval as retrieval_cmd
    import pacekit.commands.train as train_cmd
    import pacekit.data.datasets as datasets

    for module, name in ((train_cmd, "pretrain"), (train_cmd, "finetune"), (probe_cmd, "linear_probe"),
                         (quickstart_cmd, "run_quickstart"), (evaluate_cmd, "load_model"),
                         (evaluate_cmd, "eval_split"), (retrieval_cmd, "load_model"), (retrieval_cmd, "eval_split"),
                         (attention_cmd, "load_model"), (datasets, "build_dataset"), (data_cmd, "build_synthetic"),
                         (data_cmd, "prepare_dataset")):
        monkeypatch.setattr(module, name, _reached)
    monkeypatch.delenv("PACEKIT_DEBUG", raising=False)


MODEL = ["--checkpoint", "missing.pt"]
DATA = ["--dataset", "synthetic", "--root", "data/synthetic"]

# (argv, fragment the error must hold): the fragment names the flag.
CASES = [
    # make-synthetic
    (["make-synthetic", "--out", "x", "--seed", "-1"], "argument --seed: expected an integer >= 0, got -1"),
    (["make-synthetic", "--out", "x", "--classes", "0"], "argument --classes: expected an integer >= 1"),
    (["make-synthetic", "--out", "x", "--videos-per-class", "-3"], "argument --videos-per-class"),
    (["make-synthetic", "--out", "x", "--width", "0"], "argument --width"),
    (["make-synthetic", "--out", "x", "--height", "abc"], "argument --height: expected an integer >= 1, got 'abc'"),
    # evaluate
    (["evaluate", "--checkpoint", "c.pt", *DATA, "--num-clips", "0"], "argument --num-clips"),
    (["evaluate", "--checkpoint", "c.pt", *DATA, "--max-videos", "-2"], "argument --max-videos"),
    (["evaluate", "--checkpoint", "c.pt", *DATA, "--split", "0"], "argument --split"),
    (["evaluate", "--checkpoint", "c.pt", *DATA, "--batch-size", "0"], "argument --batch-size"),
    (["evaluate", "--checkpoint", "c.pt", *DATA, "--num-workers", "-1"], "argument --num-workers"),
    # retrieve
    (["retrieve", *MODEL, *DATA, "--chunk-size", "0"], "argument --chunk-size: expected an integer >= 1, got 0"),
    (["retrieve", *MODEL, *DATA, "--num-clips", "-1"], "argument --num-clips"),
    (["retrieve", *MODEL, *DATA, "--max-videos", "0"], "argument --max-videos"),
    # attention
    (["attention", *MODEL, "--video", "v.avi", "--out", "a.png", "--start", "-1"], "argument --start"),
    (["attention", *MODEL, "--video", "v.avi", "--out", "a.png", "--clip-len", "0"], "argument --clip-len"),
    (["attention", *MODEL, *DATA, "--out", "a.png", "--num-videos", "0"], "argument --num-videos"),
    (["attention", *MODEL, *DATA, "--out", "a.png", "--split", "-1"], "argument --split"),
    # quickstart
    (["quickstart", "--finetune-seeds", "0"], "argument --finetune-seeds"),
    # Config-derived flags: validated by the Config before any dataset is built, named by their --flag
    (["pretrain", "--seed", "-1"], "--seed -1: expected an integer >= 0"),
    (["pretrain", "--momentum", "1.5"], "--momentum 1.5: expected a number in [0, 1)"),
    (["pretrain", "--weight-decay", "-0.1"], "--weight-decay -0.1: expected a number >= 0"),
    (["pretrain", "--epochs", "0"], "--epochs 0: expected an integer >= 1"),
    (["pretrain", "--lr", "0"], "--lr 0.0: expected a positive number"),
    (["pretrain", "--lr-gamma", "2"], "--lr-gamma 2.0: expected a number in (0, 1]"),
    (["pretrain", "--max-videos", "-2"], "--max-videos -2: expected none or an integer >= 1"),
    (["pretrain", "--epoch-repeat", "0"], "--epoch-repeat 0: expected an integer >= 1"),
    (["finetune", "--num-clips", "0", "--no-eval"], "--num-clips 0: expected an integer >= 1"),
    (["finetune", "--ft-lr", "-1", "--no-eval"], "--ft-lr -1.0: expected none or a positive number"),
    (["linear-probe", "--probe-lr", "0"], "--probe-lr 0.0: expected a positive number"),
    (["linear-probe", "--split", "0"], "--split 0: expected an integer >= 1"),
    (["quickstart", "--num-workers", "-1"], "--num-workers -1: expected an integer >= 0"),
    (["quickstart", "--lambda-ctr", "-1"], "--lambda-ctr -1.0: expected a number >= 0"),
]


@pytest.mark.parametrize("argv,fragment", CASES, ids=[" ".join(argv[:1] + argv[-2:]) for argv, _ in CASES])
def test_a_bad_number_exits_2_naming_its_flag_before_any_work(no_work, capsys, argv, fragment):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own error
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert fragment in err, err
    assert "Traceback" not in err


def test_attention_refuses_a_start_beyond_the_video_with_its_frame_count(no_work, capsys, tmp_path):
    video = write_numbered_video(tmp_path / "v.avi", num_frames=20)
    code = cli.main(["attention", *MODEL, "--video", str(video), "--out", str(tmp_path / "a.png"),
                     "--start", "100000"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "--start 100000" in err and "20 frames" in err


@pytest.mark.parametrize("helper,good,bad", [
    (flags.non_negative_int, {"0": 0, "7": 7}, ("-1", "1.5", "x")),
    (flags.positive_int, {"1": 1, "42": 42}, ("0", "-3", "2.0")),
])
def test_the_flag_types_accept_their_range_only(helper, good, bad):
    for text, value in good.items():
        assert helper(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            helper(text)
