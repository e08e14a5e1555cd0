"""`pacekit quickstart` end to end at a tiny size: synthetic data, pretraining, two fine-tunes, report."""

import json
import re

import numpy as np
import pytest

from pacekit.cli import main as cli_main
from pacekit.config import get_config
from pacekit.data.synthetic import FORMAT_VERSION
from pacekit.study.experiment import PRETEXT_CLIPS_PER_VIDEO
from pacekit.study.quickstart_report import format_report
from pacekit.study.quickstart_result import FinetuneOutcome, QuickstartResult

TINY = ["--synthetic-classes", "3", "--synthetic-videos", "6", "--frame-size", "32,43", "--clip-len", "4",
        "--crop", "32", "--epoch-repeat", "2", "--epochs", "1", "--batch-size", "4", "--ft-epochs", "1",
        "--ft-epoch-repeat", "2", "--ft-batch-size", "3", "--labels-per-class", "1", "--num-clips", "2",
        "--num-workers", "0", "--threads", "1", "--no-progress", "--finetune-seeds", "1"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_quickstart_writes_a_report_with_numbers_and_figures(tmp_path, capsys):
    out = tmp_path / "runs" / "quickstart"
    assert cli_main(["quickstart", "--data", str(tmp_path / "synthetic"), "--out", str(out), *TINY]) == 0

    report = (out / "report.md").read_text()
    number = r"(\d+\.\d)"
    random_row = re.search(rf"\| random init \| - \| {number} \| {number} \| {number} \| {number} \|", report)
    pretrained_row = re.search(rf"\| pace-pretrained \| {number} \| {number} \| {number} \| {number} \| {number} \|",
                               report)
    assert random_row and pretrained_row, report
    values = [float(v) for v in random_row.groups() + pretrained_row.groups()]
    assert all(0.0 <= v <= 100.0 for v in values)
    # 3 classes: top-5 covers every class, so it is 100% for both models.
    assert float(random_row.group(4)) == 100.0 and float(pretrained_row.group(5)) == 100.0
    for protocol in ("fine-tuned", "linear probe", "linear probe, all labels"):
        assert re.search(rf"{protocol}: pace pretraining (beats|does \*\*not\*\* beat) random initialisation, "
                         r"[+-]\d+\.\d top-1 points", report), protocol
    for figure in ("pace_strip.png", "training_curves.png", "pace_error_by_class.png"):
        data = (out / figure).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000, figure
        assert f"]({figure})" in report
    for run in ("pretrain", "fine-tuned_random", "fine-tuned_pretrained", "linear_probe_random",
                "linear_probe_pretrained", "all_labels_linear_probe_random", "all_labels_linear_probe_pretrained"):
        assert (out / run / "last.pt").is_file() and (out / run / "metrics.jsonl").is_file()
    check_result_json_matches_report(json.loads((out / "result.json").read_text()), report)
    # The synthetic set was written in UCF101's layout where --data points.
    assert (tmp_path / "synthetic" / "ucfTrainTestlist" / "classInd.txt").is_file()
    printed = capsys.readouterr().out
    assert "| pace-pretrained |" in printed and str(out / "report.md") in printed

    # Running it again into the same folder neither mixes two runs nor loses the first silently:
    # refused with both ways out named, then --overwrite starts again.
    args = ["quickstart", "--data", str(tmp_path / "synthetic"), "--out", str(out), *TINY]
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err
    assert cli_main([*args, "--overwrite"]) == 0


def tables(report: str) -> list[list[list[str]]]:
    """Every Markdown table of ``report``: its rows (header first, the rule row left out) as stripped cells."""
    found, current = [], []
    for line in report.splitlines() + [""]:
        if line.startswith("|") and line.rstrip().endswith("|"):
            cells = [cell.strip() for cell in line.strip()[1:-1].split("|")]
            if not all(set(c) <= {"-"} for c in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def row(report: str, header: tuple, *first: str) -> list[str]:
    """The cells after ``first`` of the one row starting with ``first`` in the table whose header starts with
    ``header``."""
    (table,) = [t for t in tables(report) if tuple(t[0][:len(header)]) == header]
    found = [r[len(first):] for r in table[1:] if r[:len(first)] == list(first)]
    assert len(found) == 1, (header, first, found)
    return found[0]


RESULTS, TIMES, RETRIEVAL = ("model", "pretext: pace accuracy, test (%)"), ("step", "seconds"), ("model", "feature")
ATTENTION, PREDICTED = ("model", "attention in the masks (%)"), ("random init",)


def shows(cell: str, fraction: float) -> bool:
    """``cell`` (a percentage rounded to one decimal, maybe ``mean ± sd``) shows ``fraction``."""
    return abs(float(cell.split("±")[0].split("(")[0]) - 100 * fraction) <= 0.05 + 1e-9


def check_result_json_matches_report(result: dict, report: str) -> None:
    """Every figure result.json holds is the one the report shows (to the report's rounding), read back from
    the report's tables by position, not rebuilt with the report's own format strings."""
    top1, top5 = result["top1"], result["top5"]
    protocols = ("fine-tuned", "linear probe", "linear probe, all labels")
    for init, name in (("random", "random init"), ("pretrained", "pace-pretrained")):
        pretext, *cells = row(report, RESULTS, name)
        assert len(cells) == 4
        for cell, protocol in zip(cells, protocols):
            assert shows(cell, np.mean(top1[init][protocol])), (name, protocol, cell)
        assert shows(cells[3], np.mean(top5[init]["fine-tuned"]))
        if init == "random":
            assert pretext == "-"
        elif result["pretrain_speed_spread"] is not None:   # pretrained on a companion set: both pace accuracies
            companion, labelled = pretext.split(" / ")
            assert shows(companion, result["pretext_accuracy"]) and shows(labelled, result["labelled_pretext_accuracy"])
        else:
            assert shows(pretext, result["pretext_accuracy"])
        for protocol in protocols:
            assert len(top1[init][protocol]) == len(result["seeds"]) == 1
    for protocol, gain in result["gain"].items():
        said = re.search(rf"- {re.escape(protocol)}: pace pretraining .*?([+-]\d+\.\d) top-1 points", report)
        assert said and abs(float(said.group(1)) - 100 * gain) <= 0.05 + 1e-9, protocol
    assert f"- input: {result['input_mode']} clips" in report and f"{result['optimizer']} lr" in report
    trained = re.search(r"training accuracy was (\d+\.\d)%", report)
    assert trained and shows(trained.group(1), result["pretext_train_accuracy"])
    chance = re.search(r"Chance is (\d+\.\d)% for the actions and (\d+\.\d)%", report)
    assert chance and shows(chance.group(1), result["action_chance"]) and shows(chance.group(2), result["pace_chance"])
    for step, sec in result["seconds"].items():
        assert abs(float(row(report, TIMES, step)[0]) - sec) <= 0.5 + 1e-9, step
    # The random baseline's predicted classes: one row per protocol, summing to the evaluated test videos.
    assert [int(c) for c in row(report, PREDICTED, "true labels")] == result["test_label_counts"]
    for protocol, per_seed in result["random_prediction_histogram"].items():
        (counts,) = per_seed
        assert sum(counts) == sum(result["test_label_counts"])
        assert [int(c) for c in row(report, PREDICTED, protocol)] == counts
    names = {"random": "random init", "pretrained": "pace-pretrained"}
    for init, features in result["retrieval"].items():
        assert features, init
        for feature, values in features.items():
            ks = sorted(values["topk"], key=int)
            cells = row(report, RETRIEVAL, names[init], feature)
            assert all(shows(c, values["topk"][k]) for c, k in zip(cells, ks)) and len(cells) == len(ks)
            assert all(shows(c, values["chance"][k]) for c, k in zip(row(report, RETRIEVAL, "chance", "any"), ks))
    # the paper's p5 (VCOP's feature) needs a conv5 map of 2x2: tiny-fine's is 4x4 at these 32-pixel crops
    assert result["retrieval_skipped"] == {} and all("vcop" in features for features in result["retrieval"].values())
    # The attention score of both initialisations, beside the masks' share of the frame (its chance).
    for init, scores in result["attention"].items():
        att, cam = scores["attention"], scores["grad-cam"]
        assert 0.0 <= att["share"] <= 1.0 and 0.0 < att["chance"] < 1.0 and cam["chance"] == att["chance"]
        shown_att, shown_cam, shown_chance = row(report, ATTENTION, names[init])
        for cell, value in ((shown_att, att["share"]), (shown_cam, cam["share"])):
            assert cell == "n/a" if value is None else shows(cell, value)
        assert shows(shown_chance, att["chance"])
        # each scored network's share: the pretrained one, and the random network of every transfer seed
        assert len(att["networks"]) == (len(result["seeds"]) if init == "random" else 1)
        assert att["share"] == pytest.approx(float(np.mean(att["networks"])), abs=1e-12)
    assert set(result["attention"]) == {"random", "pretrained"}
    # scored where the network's map is as fine as Fig. 5's 7x7 conv5: on these 32-pixel crops tiny-fine's conv2
    assert result["attention_stage"] == "conv2" and "Share of the conv2 activation attention" in report
    # the set the numbers come from: its format version and generation parameters
    version = result["synthetic_version"]
    assert version["format"] == "pacekit-synthetic" and version["version"] == FORMAT_VERSION
    assert version["params"]["num_classes"] == len(result["test_label_counts"])
    experiment = result["experiment"]
    assert experiment["pretext_accuracy"] == result["pretext_accuracy"] and len(experiment["outcomes"]) == 4
    # The pretext clips by action class: the same clips (their diagonal is the pretext accuracy), every row shown;
    # after a companion pretraining, the labelled set's clips (their diagonal is the pace accuracy on that set).
    counts = np.asarray(experiment["pretext_by_class"]["counts"])
    assert np.trace(counts.sum(0)) / counts.sum() == pytest.approx(result["pretext_accuracy"])
    shown, accuracy = experiment["pretext_by_class"], result["pretext_accuracy"]
    if result["pretrain_speed_spread"] is not None:
        shown, accuracy = experiment["labelled_pretext_by_class"], result["labelled_pretext_accuracy"]
        counts = np.asarray(shown["counts"])
        assert np.trace(counts.sum(0)) / counts.sum() == pytest.approx(accuracy)
    else:
        assert experiment["labelled_pretext_by_class"] is None and result["labelled_pretext_accuracy"] is None
    by_class = result["pretext_by_class"]
    assert by_class["classes"] == shown["classes"] and len(by_class["natural_speed"]) == len(counts)
    for name, speed, n, acc, err in zip(by_class["classes"], by_class["natural_speed"], counts.sum(axis=(1, 2)),
                                       by_class["accuracy"], by_class["mean_error"]):
        shown_speed, shown_n, shown_acc, shown_err = row(report, ("action", "natural speed (px/frame)"), name)
        assert abs(float(shown_speed) - speed) <= 0.005 + 1e-9 and int(shown_n) == n and shows(shown_acc, acc)
        assert abs(float(shown_err) - err) <= 0.005 + 1e-9


def test_quickstart_can_pretrain_on_a_one_speed_companion_and_transfer_to_the_set(tmp_path, capsys):
    import torch

    from pacekit.data.synthetic import natural_speeds, read_synthetic_metadata

    data, out = tmp_path / "synthetic", tmp_path / "runs" / "quickstart"
    assert cli_main(["quickstart", "--data", str(data), "--out", str(out), *TINY, "--pretrain-speed-spread", "1"]) == 0
    companion = tmp_path / "synthetic_spread1"
    labelled, pretraining = read_synthetic_metadata(data), read_synthetic_metadata(companion)
    assert "speed_spread" not in labelled["params"] and pretraining["params"]["speed_spread"] == 1.0
    classes = [c["name"] for c in labelled["classes"]]
    assert len(set(np.round(natural_speeds(companion, classes), 9))) == 1          # one speed
    assert len(set(np.round(natural_speeds(data, classes), 9))) == len(classes)    # the set keeps its own
    # the pretraining read the companion; every labelled run read the set itself
    def root_of(run):
        return torch.load(out / run / "last.pt", weights_only=True, map_location="cpu")["config"]["root"]
    assert root_of("pretrain") == str(companion)
    for run in ("fine-tuned_random", "fine-tuned_pretrained", "linear_probe_random", "linear_probe_pretrained"):
        assert root_of(run) == str(data)
    report = (out / "report.md").read_text()
    result = json.loads((out / "result.json").read_text())
    assert result["pretrain_data"] == str(companion) and result["pretrain_speed_spread"] == 1.0
    check_result_json_matches_report(result, report)
    # the same pace clips per test video of each set: the same test videos, drawn at other speeds
    experiment = result["experiment"]
    n_test = sum(1 for v in labelled["videos"] if v["split"] == "test") * PRETEXT_CLIPS_PER_VIDEO
    assert np.sum(experiment["pretext_by_class"]["counts"]) == np.sum(experiment["labelled_pretext_by_class"]["counts"]) == n_test
    assert "## The pretraining set" in report and f"`{companion}`" in report and "a spread of 1x" in report and "read from its speed alone" in report
    assert f"pretraining data `{companion}` (speed spread 1x)" in report
    capsys.readouterr()
    assert cli_main(["quickstart", "--data", str(data), "--out", str(out), *TINY, "--pretrain-speed-spread", "0.5",
                     "--overwrite"]) == 2
    assert "speed_spread=0.5" in capsys.readouterr().err


def test_report_states_a_loss_honestly_with_the_gap():
    cfg = get_config("cpu-tiny")
    outcomes = {
        ("random", "fine-tuned"): FinetuneOutcome("a", top1=[0.40, 0.50], top5=[0.9, 0.9]),
        ("pretrained", "fine-tuned"): FinetuneOutcome("b", top1=[0.30, 0.40], top5=[0.8, 0.9]),
        ("random", "linear probe"): FinetuneOutcome("c", top1=[0.10, 0.10], top5=[0.5, 0.5]),
        ("pretrained", "linear probe"): FinetuneOutcome("d", top1=[0.20, 0.30], top5=[0.6, 0.6]),
    }
    result = QuickstartResult(out=None, report=None, pretext_accuracy=0.5, pretext_train_accuracy=0.6,
                              outcomes=outcomes, seconds={"total": 12.0}, config=cfg)
    text = format_report(result)
    assert "fine-tuned: pace pretraining does **not** beat random initialisation, -10.0 top-1 points" in text
    assert "linear probe: pace pretraining beats random initialisation, +15.0 top-1 points" in text
    assert "| random init | - | 45.0 ± 5.0 | 10.0 ± 0.0 | - | 90.0 ± 0.0 |" in text
    assert "| pace-pretrained | 50.0 | 35.0 ± 5.0 | 25.0 ± 5.0 | - | 85.0 ± 5.0 |" in text
    assert "mean ± std over 2 seeds" in text and "standardized clips (RGB, each frame scaled to mean 0, std 1" in text
    assert result.gain("linear probe") == pytest.approx(0.15)


def test_the_by_class_section_orders_by_natural_speed_and_states_the_correlation(tmp_path):
    from pacekit.evaluation.recognition import PaceConfusionByClass
    from pacekit.study.experiment import ExperimentResult
    from pacekit.study.quickstart_report import pace_by_class_section

    root = tmp_path / "synthetic"
    root.mkdir()
    classes = [{"name": n, "speed_range": r} for n, r in (("Fast", [4.0, 4.0]), ("Slow", [1.0, 1.0]), ("Mid", [2.0, 2.0]))]
    (root / "synthetic.json").write_text(json.dumps({"format": "pacekit-synthetic", "version": FORMAT_VERSION, "params": {}, "videos": [], "classes": classes}))
    counts = np.zeros((3, 4, 4), dtype=np.int64)
    counts[0, 1, 3] = 2  # Fast: pace 2 read as 4 (+2)
    counts[1, 2, 0] = 1  # Slow: pace 3 read as 1 (-2)
    counts[2, 1, 1] = 3  # Mid: right
    by_class = PaceConfusionByClass(counts, ["Fast", "Slow", "Mid"])
    experiment = ExperimentResult("x", {}, [], [], [0], [],
                                  pretext_by_class={"classes": by_class.classes, "counts": counts.tolist()})
    cfg = get_config("cpu-tiny", root=str(root))
    result = QuickstartResult(out=None, report=None, pretext_accuracy=0.5, pretext_train_accuracy=0.6, outcomes={},
                              seconds={}, config=cfg, experiment=experiment)
    lines = pace_by_class_section(result)
    rows = [line for line in lines if line.startswith("| ") and line[2:6] in ("Slow", "Mid ", "Fast")]
    assert rows == ["| Slow | 1.00 | 1 | 0.0 | -2.00 |", "| Mid | 2.00 | 3 | 100.0 | +0.00 |",
                    "| Fast | 4.00 | 2 | 0.0 | +2.00 |"]
    r = np.corrcoef([4.0, 1.0, 2.0], [2.0, -2.0, 0.0])[0, 1]
    assert any(f"r = {r:+.2f}" in line for line in lines) and r > 0.9
    # not the synthetic set: no speeds, the classes in their own order, no correlation
    other = QuickstartResult(out=None, report=None, pretext_accuracy=0.5, pretext_train_accuracy=0.6, outcomes={},
                             seconds={}, config=get_config("cpu-tiny", dataset="ucf101"), experiment=experiment)
    lines = pace_by_class_section(other)
    assert "| Fast | 2 | 0.0 | +2.00 |" in lines and not any("r = " in line for line in lines)


def test_the_report_opens_with_the_reproduction_table_and_its_verdicts_follow_the_ledgers_rule():
    cfg = get_config("cpu-tiny")
    pre_ft, ran_ft = [0.50, 0.60, 0.55, 0.52, 0.58], [0.20, 0.25, 0.22, 0.30, 0.21]
    pre_lp, ran_lp = [0.30, 0.40, 0.20, 0.50, 0.30], [0.35, 0.30, 0.25, 0.40, 0.32]
    outcomes = {
        ("pretrained", "fine-tuned"): FinetuneOutcome("a", top1=pre_ft, top5=[1.0] * 5),
        ("random", "fine-tuned"): FinetuneOutcome("b", top1=ran_ft, top5=[1.0] * 5),
        ("pretrained", "linear probe"): FinetuneOutcome("c", top1=pre_lp, top5=[1.0] * 5),
        ("random", "linear probe"): FinetuneOutcome("d", top1=ran_lp, top5=[1.0] * 5),
    }
    text = format_report(QuickstartResult(out=None, report=None, pretext_accuracy=0.7, pretext_train_accuracy=0.8,
                                          outcomes=outcomes, seconds={"total": 1.0}, config=cfg))
    assert text.index("## Does it reproduce here?") < text.index("## Results") < text.index("## Settings")

    def interval(a, b):  # the paired 95% t-interval, t(0.975, 4) = 2.776 from the t table
        d = np.subtract(a, b)
        half = 2.776 * d.std(ddof=1) / np.sqrt(len(d))
        return d.mean(), d.mean() - half, d.mean() + half

    mean, lo, hi = interval(pre_ft, ran_ft)
    assert lo > 0
    assert (f"| pace pretraining helps fine-tuning (Fig. 4) | 72.0 (73.9 with colour jitter) vs 56.0 (Table 1, R(2+1)D) | 55.0 vs 23.6, "
            f"{100 * mean:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] | reproduced |") in text
    mean, lo, hi = interval(pre_lp, ran_lp)
    assert lo < 0 < hi
    assert f"{100 * mean:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] | inconclusive |" in text
    assert ("Pace pretraining reached 70.0% pace accuracy on unseen videos (chance 25.0%). Fine-tuned on 4 labelled "
            "videos per class, the pretrained network beat random initialisation by +31.4 top-1 points (reproduced, "
            "by the paired 95% interval over its 5 transfer seeds (one pretraining)).") in text


def test_the_report_gives_random_initialisations_attention_as_the_mean_of_its_networks():
    from pacekit.study.experiment import ExperimentResult, TransferOutcome

    cfg = get_config("cpu-tiny")
    random_shares = [0.40, 0.50, 0.45]
    cells = [TransferOutcome(init, protocol, seed, 0.5, 0.9, 0.5, [1, 1], [1, 1], 2, 2, "run")
             for seed in (7, 8, 9) for init in ("random", "pretrained") for protocol in ("fine-tuned", "linear probe")]
    experiment = ExperimentResult(
        "x", {}, ["random", "pretrained"], [], [7, 8, 9], cells, attention_stage="conv5",
        attention_scores={"random": {"attention": [float(np.mean(random_shares)), 0.45]},
                          "pretrained": {"attention": [0.72, 0.45]}},
        attention_draws={"random": {"attention": random_shares}, "pretrained": {"attention": [0.72]}})
    outcomes = {(init, protocol): FinetuneOutcome(init, top1=[0.5] * 3, top5=[0.9] * 3)
                for init in ("random", "pretrained") for protocol in ("fine-tuned", "linear probe")}
    result = QuickstartResult(out=None, report=None, pretext_accuracy=0.9, pretext_train_accuracy=0.9,
                              outcomes=outcomes, seconds={"total": 1.0}, config=cfg, experiment=experiment)
    text = format_report(result)
    assert "| random init, mean of 3 networks | 45.0 | n/a | 45.0 |" in text
    assert "| pace-pretrained | 72.0 | n/a | 45.0 |" in text
    assert "72.0% vs 45.0% (mean of 3 random networks) in the mover masks (their area 45.0%)" in text
    assert ("random network of each transfer seed (7, 8, 9), as its fine-tuning and probe are, and its share is their "
            "mean: one network alone put 40.0% to 50.0%") in text
    assert "Pretrained / random init: 1.60x" in text


def test_quickstart_runs_on_another_format_version_and_records_it(tmp_path):
    from pacekit.study.quickstart import run_quickstart

    data, out = tmp_path / "synthetic", tmp_path / "q"
    with pytest.raises(ValueError, match=r"synthetic_version=1: .*versions 3, 4, 5, 6"):
        run_quickstart(data=data, out=out, synthetic_version=1)        # no masks: refused before any work
    assert not data.exists() and not out.exists()
    assert cli_main(["quickstart", "--data", str(data), "--out", str(out), *TINY, "--synthetic-version", "4",
                     "--backbone", "tiny"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["synthetic_version"]["version"] == 4 == json.loads((data / "synthetic.json").read_text())["version"]
    assert result["backbone"] == "tiny"
    # the paper's p5 (VCOP's feature) needs a conv5 map of 2x2; tiny's is 1x1 at these crops: said, not hidden
    assert list(result["retrieval_skipped"]) == ["vcop"]
    assert f"- `vcop`: not measured: {result['retrieval_skipped']['vcop']}" in (out / "report.md").read_text()
