"""`pacekit claims`: the verdict rule, the paired interval, the ledger files, the seeds fixed first, C1 end to end."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from test_quickstart import TINY

from pacekit.cli import main as cli_main
from pacekit.config import get_config
from pacekit.data.synthetic import FORMAT_VERSION
from pacekit.errors import PacekitError
from pacekit.evaluation.attention import attention_mass_in_masks, mask_area_fraction
from pacekit.study import claims as claims_mod
from pacekit.study.claims import (
    CLAIMS,
    VERDICT_RULE,
    claim_rows,
    format_ledger,
    get_claims,
    paired_ci,
    record_seeds,
    verdict,
    write_ledger,
)
from pacekit.study.claims import cells as claims_cells
from pacekit.study.claims import ledger as claims_ledger

# The quickstart's TINY sizes, without its own --finetune-seeds flag.
_at = TINY.index("--finetune-seeds")
CLAIMS_TINY = TINY[:_at] + TINY[_at + 2:]
# The paper's text, where a checkout has it (shared/ inside or beside the repository).
PAPERS = [Path(__file__).resolve().parents[k] / "shared" / "paper" / "pace_prediction_eccv2020.txt" for k in (1, 2)]
PAPER = next((p for p in PAPERS if p.is_file()), None)


def test_verdict_rule_gives_each_verdict():
    assert verdict(0.01, 0.2) == "reproduced"
    assert verdict(-0.2, -0.01) == "not reproduced"
    assert verdict(-0.1, 0.1) == "inconclusive"
    assert verdict(0.0, 0.1) == "inconclusive"  # touching zero is not "entirely on one side"
    assert verdict(float("nan"), float("nan")) == "inconclusive"
    # "comparable" within a margin of 5 points
    assert verdict(-0.02, 0.03, "≈", 0.05) == "reproduced"
    assert verdict(0.06, 0.2, "≈", 0.05) == "not reproduced"
    assert verdict(-0.3, -0.06, "≈", 0.05) == "not reproduced"
    assert verdict(-0.02, 0.08, "≈", 0.05) == "inconclusive"
    # two arms at chance are "equal" and say nothing
    assert verdict(-0.02, 0.03, "≈", 0.05, above_chance=False) == "inconclusive"
    with pytest.raises(ValueError):
        verdict(0, 1, "<")
    assert "reproduced" in VERDICT_RULE and "inconclusive" in VERDICT_RULE


def test_paired_ci_matches_a_hand_computation():
    a, b = [0.70, 0.72, 0.65, 0.80], [0.60, 0.66, 0.61, 0.70]
    # d = 0.10, 0.06, 0.04, 0.10: mean 0.075, sd = sqrt(sum((d - 0.075)^2) / 3) = sqrt(0.0027 / 3) = 0.03
    # t(0.975, 3) = 3.182, half-width = 3.182 * 0.03 / 2 = 0.04773
    s = paired_ci(a, b)
    assert s.mean == pytest.approx(0.075)
    assert s.sd == pytest.approx(0.03)
    assert s.lo == pytest.approx(0.075 - 0.04773, abs=1e-5) and s.hi == pytest.approx(0.075 + 0.04773, abs=1e-5)
    one = paired_ci([0.5], [0.4])
    assert math.isnan(one.lo) and verdict(one.lo, one.hi) == "inconclusive"
    assert claims_mod.t_critical_975(40) == pytest.approx(2.021, abs=2e-3)


def test_attention_mass_in_masks_on_a_hand_made_case():
    maps = np.zeros((2, 4, 4))
    maps[0, 0, 0], maps[0, 3, 3] = 3.0, 1.0  # 3 of 4 units inside the mask below
    maps[1] = 1.0  # uniform: the share is the mask's area
    masks = np.zeros((2, 4, 4), bool)
    masks[0, :2, :2] = True
    masks[1, :, :2] = True
    assert attention_mass_in_masks(maps[0], masks[0]) == pytest.approx(0.75)
    assert attention_mass_in_masks(maps, masks) == pytest.approx((0.75 + 0.5) / 2)
    assert mask_area_fraction(masks) == pytest.approx((4 / 16 + 8 / 16) / 2)
    assert math.isnan(attention_mass_in_masks(np.zeros((4, 4)), masks[0]))
    with pytest.raises(ValueError):
        attention_mass_in_masks(maps, masks[:1])


def test_claims_are_data_every_comparison_names_arms_and_quotes_are_the_papers():
    assert [c.id for c in CLAIMS] == [f"C{i}" for i in range(1, 10)]
    for claim in CLAIMS:
        for comp in claim.compare:
            assert comp.better in claim.arms and comp.worse in claim.arms and comp.metric in claim.metric
            assert comp.worse_metric in ("", *claim.metric) and comp.worse_metric != comp.metric
    assert [c.id for c in get_claims(["c6", "C1"])] == ["C1", "C6"]
    with pytest.raises(PacekitError):
        get_claims(["C10"])
    if PAPER is not None:
        text = re.sub(r"\s+", " ", PAPER.read_text().replace("*", ""))
        for claim in CLAIMS:
            if not claim.beyond_paper:
                quotes = re.findall(r'"([^"]+)"', claim.paper_says)
                assert quotes, claim.id
                for quote in quotes:
                    assert quote in text, (claim.id, quote)


def fake_cells(claim, seeds):
    rng = np.random.default_rng(0)
    cells = {}
    for k, arm in enumerate(claim.arms):
        cells[arm] = {s: {m: {"value": float(0.5 + 0.1 * k * (m != "pretext") + 0.01 * rng.random()),
                              "chance": 0.25} for m in claim.metric} for s in seeds}
    return cells


def test_ledger_files_hold_every_requested_row_and_chance_levels(tmp_path):
    seeds = [0, 1, 2]
    entries = [claim_rows(c, fake_cells(c, seeds), seeds) for c in get_claims(["C2", "C6"])]
    ledger = {"preset": "cpu-tiny", "seeds": seeds, "verdict_rule": VERDICT_RULE, "config": {}, "metrics": {},
              "status": "complete", "claims": entries, "seconds": {}}
    md_path, json_path = write_ledger(ledger, tmp_path)
    md, data = md_path.read_text(), json.loads(json_path.read_text())
    assert [c["id"] for c in data["claims"]] == ["C2", "C6"] and data["seeds"] == seeds
    for claim in get_claims(["C2", "C6"]):
        assert f"## {claim.id}:" in md
        for arm in claim.arms:
            assert f"| {arm} |" in md
        for comp in claim.compare:
            assert f"{comp.better} {comp.expect} {comp.worse}" in md
    assert md.count("(chance 25.0)") == 5 * 2 + 4 * 2  # C2: 5 arms x 2 metrics; C6: 4 arms x 2 metrics
    # C2's [1,4] arm scores 0.1 above [1,3] on every seed: reproduced; [1,4] vs [1,6] the other way.
    c2 = {(c["better"], c["worse"]): c for c in data["claims"][0]["comparisons"]}
    assert c2[("p=[1,4]", "p=[1,3]")]["verdict"] == "reproduced"
    assert c2[("p=[1,4]", "p=[1,6]")]["verdict"] == "not reproduced"
    assert len(c2[("p=[1,4]", "p=[1,3]")]["differences"]) == 3
    # [1,4] is 0.1 above [1,5]: beyond the 5-point margin of "comparable"
    assert c2[("p=[1,4]", "p=[1,5]")]["verdict"] == "not reproduced"
    assert "**Verdict rule.**" in md and format_ledger(ledger) == md


def test_a_comparison_of_two_metrics_pairs_them_within_each_seed():
    """C1's "p4 retrieves better than the paper's p5" compares two metrics of one arm: p4 - p5 per seed."""
    c1 = get_claims(["C1"])[0]
    seeds = [0, 1, 2]
    cells = fake_cells(c1, seeds)
    p5 = {0: 0.20, 1: 0.30, 2: 0.25}
    p4 = {0: 0.30, 1: 0.35, 2: 0.40}
    for s in seeds:
        cells["pace-pretrained"][s]["retrieval vcop"] = {"value": p5[s], "chance": 0.1,
                                                    "topk": {"1": p5[s], "5": 0.5}, "chance_topk": {"1": 0.1, "5": 0.4}}
        cells["pace-pretrained"][s]["retrieval p4"] = {"value": p4[s], "chance": 0.1}
    entry = claim_rows(c1, cells, seeds)
    comp = next(c for c in entry["comparisons"] if c["worse_metric"] and c["better"] == "pace-pretrained")
    assert (comp["metric"], comp["worse_metric"], comp["worse"]) == ("retrieval p4", "retrieval vcop",
                                                                    "pace-pretrained")
    assert comp["differences"] == pytest.approx([0.10, 0.05, 0.15])
    assert comp["mean_difference"] == pytest.approx(0.10)
    stats = paired_ci([p4[s] for s in seeds], [p5[s] for s in seeds])
    assert comp["ci95"] == pytest.approx([stats.lo, stats.hi]) and comp["verdict"] == verdict(stats.lo, stats.hi)
    # the seeds' top-k records are summarised per k; the ledger shows them as Tables 4/5 do
    topk = entry["arms"]["pace-pretrained"]["metrics"]["retrieval vcop"]["topk"]
    assert topk["1"]["mean"] == pytest.approx(0.25) and topk["5"]["mean"] == pytest.approx(0.5)
    assert topk["5"]["sd"] == pytest.approx(0.0) and topk["5"]["chance"] == pytest.approx(0.4)
    assert "topk" not in entry["arms"]["random init"]["metrics"]["retrieval vcop"]  # its cells kept no top-k
    ledger = {"preset": "claims", "seeds": seeds, "verdict_rule": VERDICT_RULE, "config": {}, "metrics": {},
              "status": "complete", "claims": [entry], "seconds": {}}
    md = format_ledger(ledger)
    assert "| pace-pretrained: retrieval p4 > retrieval vcop | retrieval p4 vs retrieval vcop |" in md
    assert "| arm | metric | top-1 | top-5 |" in md
    assert "| pace-pretrained | retrieval vcop | 25.0 ± 5.0 (10.0) | 50.0 ± 0.0 (40.0) |" in md


def test_seeds_are_recorded_before_any_result(tmp_path, monkeypatch):
    seen, ledger_before_first_cell = [], []

    def fake_cell(cfg, out, claim, arm, seed, attention_videos=8):
        if not seen:  # the seeds are on disk before the first result exists
            ledger_before_first_cell.append((Path(out) / "ledger.json").exists())
        seen.append(json.loads((Path(out) / "seeds.json").read_text())["seeds"])
        return {m: {"value": 0.5, "chance": 0.5} for m in claim.metric}

    monkeypatch.setattr(claims_ledger, "run_cell", fake_cell)
    from pacekit.config import get_config
    claims_mod.run_ledger(get_config("cpu-tiny"), tmp_path, ["C8"], seeds=[3, 4], figures=False)
    assert seen and all(s == [3, 4] for s in seen)
    assert ledger_before_first_cell == [False]
    with pytest.raises(PacekitError, match="seeds"):
        record_seeds(tmp_path, [0, 1], ["C8"])
    assert json.loads((tmp_path / "ledger.json").read_text())["status"] == "complete"


def test_claims_c1_c6_end_to_end_through_the_cli(tmp_path, capsys, monkeypatch):
    out = tmp_path / "ledger"
    # one cell at a time, in this process: the last run below checks that nothing is computed again; the `tiny`
    # network, whose conv5 is 1x1 at these crops, so the ledger's missing VCOP feature is checked too
    args = ["claims", "--claims", "C1,C6", "--seeds", "2", "--attention-videos", "2", "--data", str(tmp_path / "synthetic"), "--out", str(out),
            "--jobs", "1", "--backbone", "tiny", *CLAIMS_TINY]
    assert cli_main(args) == 0
    data = json.loads((out / "ledger.json").read_text())
    assert data["seeds"] == [0, 1] and json.loads((out / "seeds.json").read_text())["seeds"] == [0, 1]
    c1, c6 = data["claims"]
    # per network: probe, fine-tuned, retrieval (pacekit's p5, the paper's p5, p4) against random, p4 against p5
    assert c1["id"] == "C1" and len(c1["comparisons"]) == 12
    # C6 reuses C1's pretrainings of the tiny network and of R(2+1)D, which pretrains its own, and every stage
    # of its arms (pretraining, probe, fine-tuning, attention) runs that network
    r21d_key = claims_mod.pretrain_key(get_config("claims"), get_config("claims", **claims_mod.PAPER_BACKBONE_ARM))
    assert sorted(p.name for p in (out / "pretrain").iterdir()) == sorted(
        ["base_s0", "base_s1", f"{r21d_key}_s0", f"{r21d_key}_s1"])
    for claim in ("C1", "C6"):
        for arm in ("pace-pretrained, R(2+1)D x0.25", "random init, R(2+1)D x0.25"):
            cells = list((out / claim / claims_cells._slug(arm)).glob("s*/cell.json"))
            assert len(cells) == 2
            for cell in cells:
                transfer = json.loads(cell.read_text())["identity"]["transfer"]
                assert (transfer["backbone"], transfer["width"]) == ("r21d", 0.25)
    for arm in c6["arms"].values():
        for metric in ("attention", "grad-cam"):
            m = arm["metrics"][metric]
            # None: every map had no mass (a Grad-CAM without positive evidence is all zeros)
            assert all(v is None or 0 <= v <= 1 for v in m["values"]) and 0 < m["chance"] < 1
        assert all(0 <= v <= 1 for v in arm["metrics"]["attention"]["values"])
    for comp in c1["comparisons"]:
        if "R(2+1)D" not in comp["better"] and "retrieval vcop" in (comp["metric"], comp["worse_metric"]):
            # the tiny network has no VCOP feature at these crops: no number, so no verdict either way
            assert comp["differences"] == [] and comp["verdict"] == "inconclusive"
        else:
            assert comp["verdict"] in claims_mod.VERDICTS and len(comp["differences"]) == 2
    # every cell kept retrieval at each k of Sec. 4.4 for each feature, top-1 being the metric's value
    for arm in ("pace-pretrained", "random init, R(2+1)D x0.25"):
        for seed in (0, 1):
            saved = json.loads((out / "C1" / claims_cells._slug(arm) / f"s{seed}" / "cell.json").read_text())
            if arm == "pace-pretrained":  # the tiny network's conv5 is 1x1 on these 32-pixel crops
                skipped = saved["metrics"]["retrieval vcop"]
                assert skipped["value"] is None and "conv5 is 1x1 on 32x32 crops" in skipped["skipped"]
            for metric in ("retrieval", "retrieval p4") + (("retrieval vcop",) if "R(2+1)D" in arm else ()):
                m = saved["metrics"][metric]
                ks = list(m["topk"])  # the ks of Sec. 4.4 up to this tiny gallery's size
                assert ks == ["1", "5", "10", "20", "50"][:len(ks)] and len(ks) >= 2 and m["topk"]["1"] == m["value"]
                assert all(0 <= v <= 1 for v in m["topk"].values())
                values = [m["topk"][k] for k in ks]
                assert values == sorted(values)  # a hit in the top 1 is one in the top 5
                assert list(m["chance_topk"]) == ks and m["chance_topk"]["1"] == m["chance"]
    assert "Retrieval at every k (Sec. 4.4" in (out / "ledger.md").read_text()
    for arm in c1["arms"].values():
        assert arm["metrics"]["linear probe"]["chance"] == pytest.approx(1 / 3)
        assert all(0 <= v <= 1 for v in arm["metrics"]["fine-tuned"]["values"])
    md = (out / "ledger.md").read_text()
    assert "(chance 33.3)" in md and "## C1:" in md and "## C6:" in md
    # Where, when and by which command: the command exactly as typed, the machine as measured.
    assert f"by `pacekit {' '.join(args)}`" in md and data["command"] == f"pacekit {' '.join(args)}"
    assert data["machine"]["cores"] >= 1 and data["machine"]["cpu"] in md and data["date"] in md
    # ... and on which synthetic set: its format version and generation parameters
    assert data["synthetic_version"]["version"] == FORMAT_VERSION and data["synthetic_version"]["params"]["num_classes"] == 3
    for claim in ("C1", "C6"):
        assert (out / f"claim_{claim}.png").read_bytes().startswith(b"\x89PNG")
    assert "ledger:" in capsys.readouterr().out
    # Each cell and each distinct pretraining recorded its compute; the ledger sums exactly those.
    cell_seconds = [json.loads(f.read_text())["seconds"] for claim in ("C1", "C6") for f in (out / claim).glob("*/s*/cell.json")]
    pre_seconds = [json.loads((d / "experiment.json").read_text())["seconds"]["total"] for d in (out / "pretrain").iterdir()]
    assert len(cell_seconds) == (4 + 4) * 2 and all(s > 0 for s in cell_seconds + pre_seconds)
    compute = data["compute"]
    assert (compute["cells"], compute["cells_recorded"], compute["pretrainings"], compute["pretrainings_recorded"]) == (16, 16, 4, 4)
    assert compute["seconds"] == pytest.approx(sum(cell_seconds) + sum(pre_seconds))
    assert f"Compute its cells recorded when they were computed: {compute['seconds'] / 60:.1f} min (16 of 16 cells" in md
    # Run again: every cell is read back, the numbers are the same, and so is the compute they recorded.
    assert cli_main(args) == 0
    again = json.loads((out / "ledger.json").read_text())
    assert again["claims"] == data["claims"] and again["compute"] == compute
    # ... also with settings that change no result (progress bars on, another log interval): nothing is rerun
    def no_rerun(*a, **kw):
        raise AssertionError("a finished cell was computed again")

    monkeypatch.setattr(claims_cells, "_experiment", no_rerun)
    display = [a for a in args if a != "--no-progress"] + ["--progress", "--log-every", "7"]
    assert cli_main(display) == 0
    assert json.loads((out / "ledger.json").read_text())["claims"] == data["claims"]


def test_cells_side_by_side_give_the_numbers_of_cells_one_after_the_other(tmp_path, monkeypatch):
    """Two worker processes on one torch thread each against one cell at a time in this process on one
    thread: every number the same, every pretraining run once, into one ledger folder each."""
    ledgers = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        args = ["claims", "--claims", "C6,C8", "--seeds", "2", "--attention-videos", "2", "--data",
                str(tmp_path / "synthetic"), "--out", str(out), "--jobs", jobs, "--threads", "1", *CLAIMS_TINY]
        assert cli_main(args) == 0
        ledgers[jobs] = json.loads((out / "ledger.json").read_text())
        assert (ledgers[jobs]["jobs"], ledgers[jobs]["threads"]) == (int(jobs), 1)
        # C6's tiny arm and C8's "fit" arm share the base pretraining; C6's R(2+1)D arm and C8's authors' arm
        # pretrain their own: three pretraining configs x two seeds
        pretrainings = sorted(p.name for p in (out / "pretrain").iterdir())
        assert len(pretrainings) == 6 and sum(name.startswith("base_") for name in pretrainings) == 2
    assert [c["id"] for c in ledgers["2"]["claims"]] == ["C6", "C8"]
    assert ledgers["2"]["claims"] == ledgers["1"]["claims"]
    # run again side by side: every cell is read back in this process, no task is left to start
    started = []
    monkeypatch.setattr(claims_ledger, "run_tasks", lambda tasks, **kw: started.extend(tasks) or {})
    assert cli_main(args) == 0
    assert started == [] and json.loads((out / "ledger.json").read_text())["claims"] == ledgers["2"]["claims"]
    for claim in ledgers["1"]["claims"]:
        for arm in claim["arms"].values():
            for metric in arm["metrics"].values():
                assert metric["n"] == 2 or all(v is None for v in metric["values"])


def test_a_moved_ledger_folder_reads_its_own_pretraining_not_the_old_path(tmp_path):
    """experiment.json records the checkpoint under the folder of then; after a move, a cell computed anew
    must start from the moved checkpoint, even when the old path holds another run's weights."""
    import shutil

    import torch

    old, new = tmp_path / "ledger", tmp_path / "moved"
    base = ["claims", "--claims", "C6", "--seeds", "1", "--attention-videos", "2", "--data", str(tmp_path / "synthetic"),
            "--jobs", "1", *CLAIMS_TINY]
    assert cli_main([*base, "--out", str(old)]) == 0
    cell = Path("C6") / claims_cells._slug("pace-pretrained") / "s0" / "cell.json"
    first = json.loads((old / cell).read_text())["metrics"]
    shutil.move(old, new)
    shutil.copytree(new, old)  # the old path now holds other weights: a zeroed network
    checkpoint = old / "pretrain" / "base_s0" / "pretrain" / "last.pt"
    state = torch.load(checkpoint, weights_only=True)
    state["model"] = {k: torch.zeros_like(v) for k, v in state["model"].items()}
    torch.save(state, checkpoint)
    (new / cell).unlink()  # this cell is computed again in the moved folder
    assert cli_main([*base, "--out", str(new)]) == 0
    assert json.loads((new / cell).read_text())["metrics"] == first


def test_default_jobs_is_one_cell_per_threads_worth_of_cpus(monkeypatch, tmp_path):
    monkeypatch.setattr(claims_ledger, "usable_cores", lambda: 4)
    cfg = get_config("claims", device="cpu")
    assert cfg.threads == 1 and claims_mod.default_jobs(cfg) == 4  # the ledger's preset: one thread per cell
    assert claims_mod.default_jobs(cfg.replace(threads=None)) == 1  # torch's default: every core, one run
    assert claims_mod.default_jobs(cfg.replace(threads=2)) == 2
    assert claims_mod.default_jobs(cfg.replace(threads=3)) == 1
    with pytest.raises(PacekitError, match="jobs"):
        claims_mod.run_ledger(cfg, tmp_path / "ledger", ["C8"], jobs=0)
    assert not (tmp_path / "ledger").exists()  # refused before the seeds are recorded


def test_the_command_runs_one_cell_per_cpu_unless_threads_none(monkeypatch):
    from pacekit.cli import build_parser
    from pacekit.commands.config_flags import config_from_args

    monkeypatch.setattr(claims_ledger, "usable_cores", lambda: 2)
    jobs = {}
    for flags in ([], ["--threads", "none"], ["--threads", "2"]):
        cfg = config_from_args(build_parser().parse_args(["claims", "--device", "cpu", *flags]))
        jobs[" ".join(flags)] = (cfg.threads, claims_mod.default_jobs(cfg))
    assert jobs == {"": (1, 2), "--threads none": (None, 1), "--threads 2": (2, 1)}


def test_c9_pretrains_on_a_one_speed_companion_and_transfers_to_the_set_itself(tmp_path):
    from pacekit.data.synthetic import natural_speeds, read_synthetic_metadata
    from pacekit.study.experiment import ExperimentResult

    data, out = tmp_path / "synthetic", tmp_path / "ledger"
    args = ["claims", "--claims", "C9", "--seeds", "1", "--data", str(data), "--out", str(out), *CLAIMS_TINY]
    assert cli_main(args) == 0
    companion = tmp_path / "synthetic_spread1"
    meta = read_synthetic_metadata(companion)
    assert meta["params"]["speed_spread"] == 1.0
    assert {k: v for k, v in meta["params"].items() if k != "speed_spread"} == read_synthetic_metadata(data)["params"]
    classes = [c["name"] for c in meta["classes"]]
    assert len(set(np.round(natural_speeds(companion, classes), 9))) == 1
    # two pretrainings: the set itself (the ledger's base, shared with C1 and C6) and the companion
    roots = {}
    for folder in (out / "pretrain").iterdir():
        roots[folder.name] = ExperimentResult.from_json(folder / "experiment.json").config["root"]
    assert sorted(roots.values()) == sorted([str(data), str(companion)]) and roots["base_s0"] == str(data)
    # every transfer reads the set itself; the companion arm starts from the companion's pretraining
    for arm in ("pretrained on a one-speed companion", "pretrained on the set itself", "random init"):
        identity = json.loads((out / "C9" / claims_cells._slug(arm) / "s0" / "cell.json").read_text())["identity"]
        assert identity["transfer"]["root"] == str(data)
        if arm != "random init":
            assert identity["pretrain"]["root"] == str(companion if "companion" in arm else data)
    (c9,) = json.loads((out / "ledger.json").read_text())["claims"]
    assert len(c9["comparisons"]) == 4 and all(c["verdict"] == "inconclusive" for c in c9["comparisons"])  # 1 seed
    for arm in ("pretrained on a one-speed companion", "pretrained on the set itself"):
        (pretext,) = c9["arms"][arm]["metrics"]["pretext"]["values"]
        assert 0 <= pretext <= 1


def test_label_efficiency_figure_draws_one_line_per_initialisation():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (c7,) = get_claims(["C7"])
    seeds = [0, 1]
    entry = claim_rows(c7, fake_cells(c7, seeds), seeds)
    fig = claims_mod.plot_claim(entry)
    ax = fig.axes[0]
    assert len(ax.containers) == 2 and [t.get_text() for t in ax.get_xticklabels()][-1] == "all"
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["pretrained", "random"]
    plt.close(fig)


def test_each_committed_ledger_shows_exactly_what_its_json_holds():
    """docs/claims*.md are committed runs: below their header, each is the ledger its JSON formats to (so no
    number of the page was written by hand), the figures moved to docs/figures/<page name>/."""
    docs = Path(__file__).resolve().parents[1] / "docs"
    pages = sorted(docs.glob("claims*.md"))
    assert pages
    for page in pages:
        ledger = json.loads(page.with_suffix(".json").read_text())
        body = format_ledger(ledger).replace("](claim_", f"](figures/{page.stem}/claim_")
        title, _, body = body.partition("\n\n")
        assert title.startswith("# ") and body in page.read_text(), page.name
        for claim in ledger["claims"]:  # each page's figures in docs/figures/<page>/
            assert (docs / "figures" / page.stem / claim["figure"]).read_bytes().startswith(b"\x89PNG")


def test_paper_numbers_quote_the_claims_table_for_one_comparison():
    from pacekit.study.claims.table import paper_numbers

    assert paper_numbers("C1", "fine-tuned", worse="random") == "72.0 (73.9 with colour jitter) vs 56.0 (Table 1, R(2+1)D)"
    # an exact arm wins over a longer one that starts the same ("pace + same context + fc")
    assert paper_numbers("C5", "linear probe", "pace + same context", "pace alone") == "75.8 vs 73.9"
    assert paper_numbers("C1", "retrieval p4", worse="pace-pretrained") == "25.6 vs 17.9 (Table 4, R(2+1)D)"
    with pytest.raises(KeyError):
        paper_numbers("C1", "no such metric")
