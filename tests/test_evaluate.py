"""10-clip video evaluation (paper 4.1): softmax averaging, top-k, confusion, per-class accuracy, plots."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from helpers import BROKEN_TEST, TINY_FLAGS

from pacekit.evaluation.recognition import (
    EvalResult,
    confusion_matrix,
    per_class_accuracy,
    plot_confusion,
    plot_per_class_accuracy,
    results_from_probs,
    topk_correct,
    video_probabilities,
)


class FixedLogits(torch.nn.Module):
    """Logits read from the clip's first pixel: channel c of pixel (0, 0, 0) is logit c."""

    def forward(self, x):  # (B, C, T, H, W)
        return x[:, :, 0, 0, 0]


def test_video_probabilities_average_softmax_not_logits():
    clips = torch.zeros(1, 2, 3, 1, 1, 1)  # one video, two clips, 3 classes
    clips[0, 0, :, 0, 0, 0] = torch.tensor([10.0, 0.0, 0.0])  # clip 0: sure of class 0
    clips[0, 1, :, 0, 0, 0] = torch.tensor([0.0, 1.0, 1.0])  # clip 1: unsure between 1 and 2
    probs = video_probabilities(FixedLogits(), clips)
    expected = (torch.softmax(torch.tensor([10.0, 0, 0]), 0) + torch.softmax(torch.tensor([0.0, 1, 1]), 0)) / 2
    assert torch.allclose(probs[0], expected)
    assert probs[0].argmax().item() == 0  # averaging logits would also say 0; the values pin the softmax
    assert probs.sum().item() == pytest.approx(1.0)


def test_topk_correct_and_ties():
    probs = torch.tensor([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]])
    labels = torch.tensor([2, 2, 0])
    assert topk_correct(probs, labels, 1).tolist() == [False, False, False]
    # Video 1 ties classes 1 and 2 at rank 2: the lower index (1) ranks first, so class 2 is rank 3.
    assert topk_correct(probs, labels, 2).tolist() == [True, False, True]
    assert topk_correct(probs, labels, 5).tolist() == [True, True, True]  # k > classes: always right


def test_confusion_and_per_class_accuracy():
    labels = [0, 0, 0, 1, 1, 2]
    preds = [0, 1, 0, 1, 0, 2]
    cm = confusion_matrix(labels, preds, num_classes=4)
    assert cm.tolist() == [[2, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    acc = per_class_accuracy(cm)
    assert acc[:3].tolist() == pytest.approx([2 / 3, 0.5, 1.0])
    assert np.isnan(acc[3])  # no test video of class 3
    with pytest.raises(ValueError, match="outside 0..3"):
        confusion_matrix([4], [0], 4)


def test_results_from_probs_fill_every_field():
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    labels = np.array([0, 2, 1, 2])
    r = results_from_probs(probs, labels, classes=["a", "b", "c"])
    assert isinstance(r, EvalResult)
    assert r.top1 == pytest.approx(0.5) and r.top5 == pytest.approx(1.0)
    assert r.predictions.tolist() == [0, 1, 0, 2]
    assert r.confusion.tolist() == [[1, 0, 0], [1, 0, 0], [0, 1, 1]]
    assert r.per_class_accuracy.tolist() == pytest.approx([1.0, 0.0, 0.5])
    assert r.mean_class_accuracy == pytest.approx(0.5)
    assert r.num_videos == 4 and r.probs.shape == (4, 3)
    assert "top-1 50.00%" in r.summary()


def test_plots_return_figures_with_the_matrix():
    import matplotlib.figure

    r = results_from_probs(np.eye(3)[[0, 1, 1]], np.array([0, 1, 2]), classes=["a", "b", "c"])
    fig = plot_confusion(r)
    assert isinstance(fig, matplotlib.figure.Figure)
    shown = fig.axes[0].images[0].get_array()
    assert np.allclose(shown, [[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    fig2 = plot_per_class_accuracy(r)
    assert [round(b.get_width()) for b in fig2.axes[0].patches] == [0, 100, 100]


# ---------------------------------------------------------------------------------------------
# End to end on a tiny synthetic set: real pretraining and fine-tuning checkpoints of `tiny`
# ---------------------------------------------------------------------------------------------

# `flow` (conftest): the synthetic set with pretraining and fine-tuning checkpoints, built once a session.


def test_evaluate_videos_is_the_10_clip_softmax_mean_and_deterministic(flow):
    from pacekit.evaluation.recognition import evaluate_videos
    from pacekit.training.loading import eval_split, load_model

    loaded = load_model(flow["ft"])
    test = eval_split(loaded, "synthetic", flow["root"], "test")
    assert loaded.stage == "finetune" and loaded.classes == test.classes and len(test.classes) == 3
    first = evaluate_videos(loaded.model, test, batch_size=5, transform=loaded.transform())
    again = evaluate_videos(loaded.model, test, batch_size=3, transform=loaded.transform())
    assert first.num_videos == len(test) == 12
    assert np.array_equal(first.predictions, again.predictions)
    assert np.allclose(first.probs, again.probs, atol=1e-6)
    assert np.allclose(first.probs.sum(1), 1.0, atol=1e-5)
    assert first.indices.tolist() == list(range(12))
    assert first.labels.tolist() == [r.label for r in test.records]
    assert first.top1 == pytest.approx(float(np.mean(first.predictions == first.labels)))
    assert first.confusion.sum() == 12 and first.confusion.shape == (3, 3)
    # Video 5 by hand: its 10 clips through the model one by one, softmax, mean.
    item = test[5]
    assert item["video"].shape[:2] == (10, 8)
    with torch.no_grad():
        clips = loaded.transform()(item["video"][None])[0]  # (10, C, T, h, w)
        manual = torch.softmax(loaded.model(clips), 1).mean(0)
    assert np.allclose(first.probs[5], manual.numpy(), atol=1e-5)


def test_evaluate_command_writes_json_and_figures(flow, tmp_path, capsys):
    import json

    from pacekit.cli import main

    out = tmp_path / "eval"
    rc = main(["evaluate", "--checkpoint", str(flow["ft"]), "--dataset", "synthetic", "--root", str(flow["root"]),
               "--out", str(out), "--device", "cpu", "--num-workers", "0"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "12 videos, 10 clips each" in printed
    saved = json.loads((out / "eval.json").read_text())
    assert saved["num_videos"] == 12 and len(saved["confusion"]) == 3
    assert f"top-1 {100 * saved['top1']:.2f}%" in printed
    assert (out / "confusion.png").stat().st_size > 0 and (out / "per_class_accuracy.png").stat().st_size > 0


def test_evaluate_command_refuses_a_pretraining_checkpoint(flow, capsys):
    from pacekit.cli import main

    rc = main(["evaluate", "--checkpoint", str(flow["pre"]), "--dataset", "synthetic", "--root", str(flow["root"]),
               "--device", "cpu"])
    assert rc == 2
    assert "pretraining checkpoint" in capsys.readouterr().err


def test_linear_probe_keeps_the_backbone_frozen_and_trains_the_fc(flow, tmp_path, capsys):
    import json

    from pacekit.cli import main
    from pacekit.training.checkpoint import load_checkpoint
    from pacekit.training.loading import build_action_model, model_from_checkpoint

    run_dir = tmp_path / "probe"
    rc = main(["linear-probe", "--preset", "cpu-tiny", "--dataset", "synthetic", "--root", str(flow["root"]),
               "--out-dir", str(tmp_path), "--name", "probe", "--pretrained", str(flow["pre"]),
               "--finetuned", str(flow["ft"]), *TINY_FLAGS])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "linear probe" in printed and "fine-tuned" in printed
    probe, pre = load_checkpoint(run_dir / "last.pt"), load_checkpoint(flow["pre"])
    assert probe["config"]["freeze_backbone"] is True
    backbone = [k for k in pre["model"] if k.startswith("backbone.")]
    # Frozen weights and frozen BatchNorm statistics: the backbone is exactly the pretrained one.
    assert backbone and all(torch.equal(probe["model"][k], pre["model"][k]) for k in backbone)
    # The fc did train: it moved away from the init fine-tuning draws (seeded with the run's seed).
    _, cfg = model_from_checkpoint(run_dir / "last.pt")
    torch.manual_seed(cfg.seed)
    init = build_action_model(cfg, 3).state_dict()
    for key in ("head.weight", "head.bias"):
        assert probe["model"][key].shape == init[key].shape
        assert not torch.allclose(probe["model"][key], init[key]), key
    saved = json.loads((run_dir / "linear_probe.json").read_text())
    assert saved["schema_version"] == 1 and set(saved["results"]) == {"linear probe", "fine-tuned"}
    assert saved["results"]["fine-tuned"]["num_videos"] == 12


def test_authors_checkpoints_get_the_authors_input_bgr_0_to_255():
    import torch

    from pacekit.training.loading import AuthorsClipEval

    clips = torch.zeros(1, 2, 4, 4, 3, dtype=torch.uint8)
    clips[..., 0] = 200  # red
    x = AuthorsClipEval(crop=4)(clips)  # (B, C, T, h, w)
    assert x.shape == (1, 3, 2, 4, 4)
    assert torch.allclose(x[:, 2], torch.full_like(x[:, 2], 200.0))  # red sits last (BGR), unnormalised
    assert torch.allclose(x[:, :2], torch.zeros_like(x[:, :2]))


# ---------------------------------------------------------------------------------------------
# Unreadable and missing videos are left out and named, never replaced by other videos
# ---------------------------------------------------------------------------------------------


class MeanColour(torch.nn.Module):
    """Three logits per clip: its mean red, green and blue (a model with no weights to train)."""

    def forward(self, x):  # (B, C, T, H, W)
        return x.mean(dim=(2, 3, 4))


def broken_test_split(root, **kwargs):
    from pacekit.data import build_dataset

    return build_dataset("ucf101", root, "test", mode="eval", clip_len=4, num_clips=3, frame_size=(32, 48), **kwargs)


def test_evaluation_scores_exactly_the_readable_videos_and_names_the_one_left_out(broken_ucf_root, tmp_path):
    import json

    from pacekit.data import ClipEval
    from pacekit.evaluation.recognition import evaluate_videos, save_result

    test = broken_test_split(broken_ucf_root)
    transform = ClipEval(size=None, crop=32)
    result = evaluate_videos(MeanColour(), test, batch_size=2, transform=transform)
    assert result.indices.tolist() == [0, 1, 3, 4, 5]  # record 2 is the broken one; nothing stands in for it
    assert result.labels.tolist() == [test.records[i].label for i in (0, 1, 3, 4, 5)]
    assert (result.num_evaluated, result.num_listed, result.num_videos) == (5, 6, 5)
    assert result.confusion.sum() == 5 and result.probs.shape == (5, 3)
    [(name, reason)] = result.left_out
    assert name == BROKEN_TEST and reason.startswith("undecodable: ") and result.left_out[0].kind == "undecodable"
    for row, index in enumerate(result.indices):  # each row is the probability of its own video
        with torch.no_grad():
            alone = torch.softmax(MeanColour()(transform(test[int(index)]["video"][None])[0]), 1).mean(0)
        assert np.allclose(result.probs[row], alone.numpy(), atol=1e-6)
    assert "5 videos of 6 listed" in result.summary()
    assert f"(1 left out: 1 undecodable ({BROKEN_TEST}))" in result.summary()
    assert result.summary(listed_in="eval.json").endswith("(1 left out: 1 undecodable; listed in eval.json)")
    save_result(result, tmp_path / "eval")
    saved = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert (saved["num_listed"], saved["num_evaluated"], saved["num_videos"]) == (6, 5, 5)
    assert saved["left_out"] == [{"name": BROKEN_TEST, "reason": reason}] and "substituted" not in saved


def test_evaluation_counts_videos_missing_on_disk_among_the_listed(ucf_root):
    from pacekit.data import ClipEval, VideoDataset, build_dataset
    from pacekit.evaluation.recognition import evaluate_videos, format_comparison

    present = build_dataset("ucf101", ucf_root, "test", mode="eval", clip_len=4, num_clips=2, frame_size=(32, 48))
    test = VideoDataset(present.records, present.classes, mode="eval", clip_len=4, num_clips=2, frame_size=(32, 48),
                        missing=["abseiling/gone_000000_000010.mp4"])
    assert test.num_listed == 7 and len(test) == 6
    result = evaluate_videos(MeanColour(), test, batch_size=4, transform=ClipEval(size=None, crop=32))
    assert result.indices.tolist() == list(range(6)) and (result.num_evaluated, result.num_listed) == (6, 7)
    assert [(v.name, v.kind) for v in result.left_out] == [("abseiling/gone_000000_000010.mp4", "missing on disk")]
    assert "6 videos of 7 listed" in result.summary() and "1 left out: 1 missing on disk" in result.summary()
    table = format_comparison({"model": result})
    assert "6 of 7" in table and "model: 1 left out: 1 missing on disk (abseiling/gone_000000_000010.mp4)" in table


def test_evaluation_with_no_readable_video_is_an_error_that_says_so(tmp_path):
    from pacekit.data import VideoDataset, VideoRecord
    from pacekit.evaluation.recognition import NoUsableVideosError, evaluate_videos

    records = []
    for name in ("a.avi", "b.avi"):
        (tmp_path / name).write_bytes(b"garbage" * 50)
        records.append(VideoRecord(tmp_path / name, 0, name))
    test = VideoDataset(records, ["x"], mode="eval", clip_len=4, num_clips=2, frame_size=(32, 48))
    with pytest.raises(NoUsableVideosError, match=r"none of the 2 videos .*2 left out: 2 undecodable.*pacekit info"):
        evaluate_videos(MeanColour(), test, transform=torch.nn.Identity())


def test_finetune_and_evaluate_commands_list_the_left_out_video(broken_ucf_root, tmp_path, capsys):
    import json

    from pacekit.cli import main

    common = ["--preset", "cpu-tiny", "--dataset", "ucf101", "--root", str(broken_ucf_root), "--out-dir", str(tmp_path),
              "--frame-size", "32,48", "--clip-len", "4", "--crop", "32", "--num-workers", "0", "--no-progress",
              "--num-clips", "2", "--threads", "1", "--ft-epochs", "1", "--ft-epoch-repeat", "1",
              "--ft-batch-size", "3", "--eval-batch-size", "4"]
    with pytest.warns(UserWarning, match="another video is used"):  # the broken train video, in training
        assert main(["finetune", *common, "--name", "ft"]) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "undecodable videos were replaced by others" in captured.err  # training substitutes, and warns
    eval_json = tmp_path / "ft" / "eval.json"
    assert "5 videos of 6 listed" in printed and f"(1 left out: 1 undecodable; listed in {eval_json})" in printed
    saved = json.loads(eval_json.read_text())
    assert (saved["num_listed"], saved["num_evaluated"]) == (6, 5)
    assert [v["name"] for v in saved["left_out"]] == [BROKEN_TEST]
    assert saved["left_out"][0]["reason"].startswith("undecodable: ")

    out = tmp_path / "evaluated"
    assert main(["evaluate", "--checkpoint", str(tmp_path / "ft" / "last.pt"), "--dataset", "ucf101", "--root",
                 str(broken_ucf_root), "--out", str(out), "--device", "cpu", "--num-workers", "0",
                 "--num-clips", "2"]) == 0
    printed = capsys.readouterr().out
    assert "5 videos of 6 listed" in printed and f"listed in {out / 'eval.json'}" in printed
    saved = json.loads((out / "eval.json").read_text())
    assert (saved["num_listed"], saved["num_evaluated"]) == (6, 5) and saved["left_out"][0]["name"] == BROKEN_TEST
