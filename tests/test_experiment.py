"""The one experiment pipeline (pacekit.study.experiment) at a tiny size: every cell, JSON, histograms, reuse."""

import json

import pytest

from pacekit.config import get_config
from pacekit.data.synthetic import ensure_synthetic
from pacekit.owned import ForeignFolderError
from pacekit.study.experiment import (
    INITS,
    PROTOCOLS,
    ExperimentPlan,
    ExperimentResult,
    TransferOutcome,
    retrieval_chance,
    run_experiment,
)

#: The sizes of tests/test_quickstart.py's TINY flags.
TINY = dict(synthetic_classes=3, synthetic_videos=6, frame_size=(32, 43), clip_len=4, crop=32, epoch_repeat=2,
            epochs=1, batch_size=4, ft_epochs=1, ft_epoch_repeat=2, ft_batch_size=3, labels_per_class=1,
            num_clips=2, num_workers=0, threads=1, progress=False)
SEEDS = (0, 1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("experiment")
    root = ensure_synthetic(base / "synthetic", num_classes=3, videos_per_class=6, seed=0, width=160, height=120)
    # `tiny`, not the preset's tiny-fine: its conv5 is 1x1 at these crops, so the VCOP feature is skipped, and said
    cfg = get_config("cpu-tiny", dataset="synthetic", root=str(root), backbone="tiny", **TINY)
    out = base / "runs"
    return cfg, out, run_experiment(cfg, ExperimentPlan(seeds=SEEDS, retrieval=True), out)


def test_every_cell_is_there_with_its_numbers(tiny):
    cfg, out, result = tiny
    assert [o.key for o in result.outcomes] == [(i, p, s) for s in SEEDS for i in INITS for p in PROTOCOLS]
    for o in result.outcomes:
        assert 0.0 <= o.top1 <= o.top5 <= 1.0 and 0.0 <= o.train_accuracy <= 1.0
        assert len(o.predicted_counts) == len(o.label_counts) == 3
        # The histogram counts every evaluated video once, so a constant predictor shows as one full bin.
        assert sum(o.predicted_counts) == sum(o.label_counts) == o.num_evaluated > 0
        assert o.coverage == f"{o.num_evaluated} of {o.num_listed}"
        assert (out / o.run_dir.split("/")[-1] / "last.pt").is_file()
    assert result.outcome("random", "linear probe", 1).run_dir.endswith("linear_probe_random_s1")
    assert result.top1("pretrained", "fine-tuned") == [result.outcome("pretrained", "fine-tuned", s).top1
                                                       for s in SEEDS]
    assert 0.0 <= result.pretext_accuracy <= 1.0 and result.pretrained.endswith("last.pt")
    assert set(result.retrieval) == set(INITS)
    # VCOP's feature max-pools conv5 over 2x2: the tiny network's conv5 is 1x1 on these 32-pixel crops
    assert list(result.retrieval_skipped) == ["vcop"] and "conv5 is 1x1" in result.retrieval_skipped["vcop"]
    for rows in result.retrieval.values():
        assert [r.feature for r in rows] == ["p5", "p4"] and all(r.description for r in rows)
        for r in rows:
            assert set(r.topk) == set(r.chance) and all(0.0 <= v <= 1.0 for v in r.topk.values())
    assert {"pretrain", "pretext", "transfer", "evaluate", "retrieval", "total"} <= set(result.seconds)


def test_json_round_trips_every_number(tiny, tmp_path):
    _, _, result = tiny
    path = tmp_path / "experiment.json"
    text = result.to_json(path)
    assert json.loads(path.read_text()) == json.loads(text)
    again = ExperimentResult.from_json(path)
    assert again == result  # compares every field but the in-memory models and evaluations
    assert ExperimentResult.from_json(text).to_dict() == result.to_dict()
    cell = json.loads(text)["outcomes"][0]
    assert {"top1", "top5", "train_accuracy", "predicted_counts", "coverage", "num_evaluated"} <= set(cell)


def test_a_reused_run_is_not_retrained(tiny):
    cfg, out, first = tiny
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("last.pt")}
    assert len(stamps) == 1 + len(INITS) * len(PROTOCOLS) * len(SEEDS)
    again = run_experiment(cfg, ExperimentPlan(seeds=SEEDS, retrieval=False), out, reuse=True)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("last.pt")} == stamps
    for a, b in zip(first.outcomes, again.outcomes):
        assert a.key == b.key and a.train_accuracy == b.train_accuracy and a.top1 == pytest.approx(b.top1)
    assert again.pretext_accuracy == pytest.approx(first.pretext_accuracy)


def test_a_constant_predictor_is_visible_and_chance_is_exact():
    o = TransferOutcome("random", "linear probe", 0, 1 / 3, 1.0, 0.5, [0, 9, 0], [3, 3, 3], 9, 10, "r")
    assert o.constant and o.coverage == "9 of 10"
    assert retrieval_chance([0, 1], [0, 0, 1, 1], [1, 3, 5]) == {1: 0.5, 3: 1.0}
    with pytest.raises(ValueError, match="protocol"):
        ExperimentPlan(protocols=("frozen",))
    with pytest.raises(ValueError, match="init"):
        ExperimentPlan(inits=("imagenet",))
    with pytest.raises(ValueError, match="seed"):
        ExperimentPlan(seeds=())


def test_the_notebook_helper_is_one_cell_of_the_pipeline_and_reloads(tiny, tmp_path, capsys):
    from pacekit.teaching.notebook import NotebookSetup, format_runs, pretrain_and_finetune

    cfg, _, _ = tiny
    nb = NotebookSetup(fast=False, device="cpu", gpu=None, preset="cpu-tiny", seed=0, root=tmp_path,
                       data_dir=cfg.root, runs_dir=tmp_path / "runs")
    overrides = {k: v for k, v in TINY.items() if k != "progress"}
    runs = [pretrain_and_finetune(nb, "pace-pretrained", "pretrain", overrides, overrides),
            pretrain_and_finetune(nb, "random init", None, finetune_overrides=overrides)]
    pretrained, random_init = runs
    assert pretrained.pretrain.checkpoint == tmp_path / "runs" / "pretrain" / "last.pt"
    assert pretrained.finetune.run_dir == tmp_path / "runs" / "finetune-from-pretrain"
    assert random_init.pretrain is None and random_init.pretext_accuracy is None
    assert random_init.finetune.run_dir == tmp_path / "runs" / "finetune-random"
    for run in runs:
        cell = run.experiment.outcomes[0]
        assert cell.protocol == "fine-tuned" and cell.top1 == run.evaluation.top1
        assert sum(cell.predicted_counts) == run.evaluation.num_evaluated
    assert "pace-pretrained" in format_runs(runs)
    capsys.readouterr()
    again = pretrain_and_finetune(nb, "pace-pretrained", "pretrain", overrides, overrides)
    assert capsys.readouterr().out.count("loaded ") == 2  # both stages reloaded, none retrained
    assert again.pretext_accuracy == pytest.approx(pretrained.pretext_accuracy)


def test_attention_figures_of_each_initialisation(tiny, tmp_path):
    cfg, _, _ = tiny
    plan = ExperimentPlan(protocols=("linear probe",), retrieval=False, attention_figures=1)
    result = run_experiment(cfg, plan, tmp_path / "runs")
    assert set(result.attention) == set(INITS)
    for name in result.attention.values():
        assert (tmp_path / "runs" / name).read_bytes().startswith(b"\x89PNG")
    assert ExperimentResult.from_json(result.to_json()).attention == result.attention
    # on these 32-pixel crops the tiny network's conv3 is 4x4 and conv2 8x8: the first as fine as Fig. 5's 7x7
    assert result.attention_stage == "conv2"
    assert ExperimentResult.from_json(result.to_json()).attention_stage == "conv2"
    assert run_experiment(cfg, plan, tmp_path / "runs", reuse=True).attention == result.attention  # its own folder


def test_random_attention_share_is_the_mean_over_the_transfer_seeds_random_networks(tiny, tmp_path):
    """Random initialisation's attention share is the mean over the networks its transfer runs start from (each seed
    its own, as its probe's and fine-tuning's are); the pretrained arm is the one pretrained network."""
    import numpy as np
    import torch

    from pacekit.evaluation.attention import attention_scores
    from pacekit.study.experiment import init_model

    cfg, _, _ = tiny
    plan = ExperimentPlan(protocols=("linear probe",), seeds=(3, 4), retrieval=False, attention_score=True)
    result = run_experiment(cfg, plan, tmp_path / "runs")
    draws = result.attention_draws
    assert set(draws) == set(INITS) and [len(draws[i]["attention"]) for i in ("random", "pretrained")] == [2, 1]
    for k, seed in enumerate((3, 4)):
        network = init_model("random", None, None, cfg.replace(seed=seed))
        # the very network the seed's random probe froze: its backbone leaves the probe as it entered
        probed = result.outcome("random", "linear probe", seed).run.model.backbone.state_dict()
        assert all(torch.equal(v, probed[name]) for name, v in network.backbone.state_dict().items())
        alone = attention_scores(network, cfg, with_grad_cam=True, stage=result.attention_stage)
        assert draws["random"]["attention"][k] == alone["attention"][0]
        assert draws["random"]["grad-cam"][k] == alone["grad-cam"][0]
    assert draws["random"]["attention"][0] != draws["random"]["attention"][1]
    share, chance = result.attention_scores["random"]["attention"]
    assert share == pytest.approx(float(np.mean(draws["random"]["attention"])), abs=1e-12) and 0 < chance < 1
    assert result.attention_scores["pretrained"]["attention"][0] == draws["pretrained"]["attention"][0]
    assert ExperimentResult.from_json(result.to_json()).attention_draws == draws
    # a result written before the draws were recorded still reads, with none
    old = json.loads(result.to_json())
    del old["attention_draws"]
    assert ExperimentResult.from_dict(old).attention_draws == {}


def test_attention_figures_never_go_into_a_users_folder(tiny, tmp_path):
    # The figures are written into out itself: a folder holding someone else's files is refused before any work.
    cfg, _, _ = tiny
    users = tmp_path / "notes"
    users.mkdir()
    (users / "thesis.tex").write_text("mine")
    plan = ExperimentPlan(protocols=("linear probe",), retrieval=False, attention_figures=1)
    with pytest.raises(ForeignFolderError, match="thesis.tex"):
        run_experiment(cfg, plan, users)
    assert sorted(p.name for p in users.iterdir()) == ["thesis.tex"]
