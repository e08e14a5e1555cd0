"""The linear probe on cached features (pacekit.recipes.linear_probe): the classifier, the 10-clip rule, and the
probe's model checked against the full evaluation path (decode, transform, backbone, fc) on real files."""

import math
import shutil
from pathlib import Path

import pytest
import torch

from pacekit.config import get_config
from pacekit.data.synthetic import ensure_synthetic
from pacekit.evaluation.recognition import evaluate_videos
from pacekit.recipes.linear_probe import fit_linear_classifier, probe_evaluation, run_linear_probe
from pacekit.recipes.train import pretrain
from pacekit.training.checkpoint import load_checkpoint, save_checkpoint
from pacekit.training.data import eval_dataset
from pacekit.training.loading import eval_transform, model_from_checkpoint
from pacekit.training.loop import RunFolderError

TINY = dict(synthetic_classes=3, synthetic_videos=6, frame_size=(32, 43), clip_len=4, crop=32, epoch_repeat=2,
            epochs=1, batch_size=4, ft_epoch_repeat=3, labels_per_class=2, num_clips=3, num_workers=0,
            threads=1, progress=False)


def blobs(n_per_class=40, dims=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[4.0, 0, 0, 0, 0, 0], [0, 4.0, 0, 0, 0, 0], [0, 0, 4.0, 0, 0, 0]])[:, :dims]
    x = torch.cat([c + torch.randn(n_per_class, dims, generator=g) for c in centres])
    y = torch.arange(3).repeat_interleave(n_per_class)
    return x, y


def test_the_classifier_separates_separable_classes_on_held_out_points():
    x, y = blobs(seed=0)
    fit = fit_linear_classifier(x, y, 3, lr=0.05, steps=300, seed=0)
    held_x, held_y = blobs(seed=1)
    assert fit.train_accuracy > 0.97
    assert (fit.fc(held_x).argmax(1) == held_y).float().mean() > 0.95


def test_the_classifier_does_not_depend_on_the_scale_of_a_feature():
    # The features are standardised before the fit and the scaling is folded into the fc: multiplying one
    # feature by 1000 (and shifting another) gives the same predictions on the same points.
    x, y = blobs(seed=0)
    scaled = x.clone()
    scaled[:, 0] *= 1000
    scaled[:, 1] += 50
    a = fit_linear_classifier(x, y, 3, lr=0.05, steps=300, seed=3).fc(x)
    b = fit_linear_classifier(scaled, y, 3, lr=0.05, steps=300, seed=3).fc(scaled)
    assert torch.allclose(a.softmax(1), b.softmax(1), atol=1e-4)


def test_the_classifier_refuses_mismatched_inputs():
    with pytest.raises(ValueError, match="features"):
        fit_linear_classifier(torch.zeros(4, 3), torch.zeros(5), 2, lr=0.1, steps=10)


def test_probe_evaluation_averages_each_videos_clip_softmax():
    # Two videos, three clips each, two classes. Written out: P(y | video) = mean over clips of softmax.
    fc = torch.nn.Linear(2, 2)
    with torch.no_grad():
        fc.weight.copy_(torch.eye(2))
        fc.bias.zero_()
    from pacekit.recipes.linear_probe import ClipFeatures
    x = torch.tensor([[[3.0, 0.0], [0.0, 0.5], [0.0, 0.5]],      # one confident clip of class 0, two weak of 1
                      [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]])
    result = probe_evaluation(fc, ClipFeatures(x, torch.tensor([0, 1]), torch.tensor([0, 1]), ["a", "b"], 2))

    def softmax0(a, b):
        return math.exp(a) / (math.exp(a) + math.exp(b))

    p0 = (softmax0(3, 0) + 2 * softmax0(0, 0.5)) / 3
    assert result.probs[0, 0] == pytest.approx(p0, abs=1e-6)
    assert p0 > 0.5 and result.predictions.tolist() == [0, 1] and result.top1 == 1.0


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    base = tmp_path_factory.mktemp("frozen_probe")
    root = ensure_synthetic(base / "synthetic", num_classes=3, videos_per_class=6, seed=0, width=160, height=120)
    cfg = get_config("cpu-tiny", dataset="synthetic", root=str(root), out_dir=str(base / "runs"), **TINY)
    pre = pretrain(cfg.replace(name="pretrain"))
    probe_cfg = cfg.replace(name="probe", pretrained=str(pre.checkpoint), seed=5)
    before = {k: v.clone() for k, v in pre.model.backbone.state_dict().items()}
    run, evaluation, test = run_linear_probe(probe_cfg)
    return cfg, probe_cfg, pre, before, run, evaluation, test


def test_the_probe_leaves_the_backbone_as_it_was(probed):
    _, _, pre, before, run, _, _ = probed
    after = run.model.backbone.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():   # weights and BatchNorm running statistics alike
        assert torch.equal(value, after[key]), key


def test_the_probes_checkpoint_scores_what_the_full_evaluation_path_scores(probed):
    # Ground truth: the saved model (backbone + fitted fc), loaded with weights_only, run by the 10-clip
    # evaluation on the decoded test videos -- not the cached features.
    cfg, probe_cfg, _, _, run, evaluation, test = probed
    state = load_checkpoint(run.checkpoint)
    assert state["stage"] == "finetune" and state["probe"]["train_clips"] == 3 * 2 * 3
    model, _ = model_from_checkpoint(run.checkpoint)
    full = evaluate_videos(model, eval_dataset(probe_cfg), batch_size=4, transform=eval_transform(probe_cfg))
    assert full.num_evaluated == evaluation.num_evaluated == len(test.labels)
    assert torch.allclose(torch.as_tensor(full.probs), torch.as_tensor(evaluation.probs), atol=1e-5)
    assert full.top1 == evaluation.top1


def test_a_finished_probe_is_reused_and_one_of_other_settings_refused(probed):
    _, probe_cfg, _, _, run, evaluation, _ = probed
    stamp = run.checkpoint.stat().st_mtime_ns
    again, again_eval, _ = run_linear_probe(probe_cfg.replace(resume=True))
    assert run.checkpoint.stat().st_mtime_ns == stamp
    assert again_eval.top1 == evaluation.top1
    with pytest.raises(RunFolderError, match="probe_lr"):
        run_linear_probe(probe_cfg.replace(resume=True, probe_lr=0.5))
    with pytest.raises(RunFolderError, match="probe_steps"):
        run_linear_probe(probe_cfg.replace(resume=True, probe_steps=probe_cfg.probe_steps + 1))
    with pytest.raises(RunFolderError, match="already holds a run"):
        run_linear_probe(probe_cfg)


def test_a_probe_recorded_before_probe_steps_existed_is_reused_only_at_its_steps(probed, tmp_path):
    # Such a checkpoint's config has no probe_steps; its `probe` entry says how many steps it ran (300 then).
    _, probe_cfg, _, _, run, _, _ = probed
    old = probe_cfg.replace(out_dir=str(tmp_path))
    Path(old.run_dir).mkdir()
    for name in ("last.pt", "metrics.jsonl", "pacekit.json"):
        shutil.copy(run.run_dir / name, Path(old.run_dir) / name)
    state = load_checkpoint(Path(old.run_dir) / "last.pt")
    del state["config"]["probe_steps"]
    state["probe"]["steps"] = 300
    save_checkpoint(Path(old.run_dir) / "last.pt", state)
    with pytest.raises(RunFolderError, match="probe_steps"):
        run_linear_probe(old.replace(resume=True))
    assert run_linear_probe(old.replace(resume=True, probe_steps=300))[0].checkpoint == Path(old.run_dir) / "last.pt"
