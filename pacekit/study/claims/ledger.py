"""Running the ledger: the seeds recorded first, every cell and pretraining as a task (side by side with
``jobs`` > 1), each claim's rows and verdicts, then ``ledger.md`` / ``ledger.json`` and the figures."""

from __future__ import annotations

import datetime
import math
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from ...atomic import read_result_json, write_json_atomic, write_text_atomic
from ...config import Config
from ...data.synthetic import synthetic_version
from ...errors import PacekitError
from ...evaluation.attention import ATTENTION_VIDEOS
from ...machine import describe_machine, usable_cores
from ...owned import Kind, check_folder
from ...training.distributed import resolve_device
from ..parallel import Task, run_tasks
from .cells import (
    cell_dir,
    cell_plan,
    json_safe,
    pretrain_arm,
    pretrain_config,
    pretrain_dir,
    recorded_compute,
    run_cell,
    saved_cell,
    saved_pretraining,
)
from .report import format_ledger, plot_claim
from .statistics import VERDICT_RULE, paired_ci, verdict
from .table import METRICS, Claim, get_claims

#: What to do about a damaged ``seeds.json``.
SEEDS_FIX = ("it records the seeds fixed before the ledger's results: restore it, or delete it to record this run's "
             "--seeds, or choose another --out")

#: A ledger's folder: its ``seeds.json``, written before any result, marks it.
CLAIMS_FOLDER = Kind("pacekit-claims", "a claims ledger", "seeds.json")


def check_seeds(out, seeds: Sequence[int]) -> bool:
    """Refuse ``seeds`` when ``<out>/seeds.json`` records others (or is damaged), and a folder ``out`` that holds
    files but no ``seeds.json`` (pacekit did not write it: :func:`pacekit.owned.check_folder`); True when it records
    them, False when there is none yet. Reads only: a command calls it before any long work."""
    path = Path(out) / CLAIMS_FOLDER.marker
    if not path.is_file():
        check_folder(out, CLAIMS_FOLDER, "Choose another --out for the ledger.")
        return False
    recorded = read_result_json(path, SEEDS_FIX, keys={"seeds": list})
    if recorded["seeds"] != [int(s) for s in seeds]:
        raise PacekitError(f"{path} records seeds {recorded['seeds']}, fixed before its results; this run "
                           f"asks for {[int(s) for s in seeds]}. Use the same --seeds to resume, or another --out")
    return True


def record_seeds(out, seeds: Sequence[int], claims: Sequence[str]) -> Path:
    """Write ``<out>/seeds.json`` before any result exists (it marks the folder as a ledger's); refuse other seeds
    than those recorded there, and a folder pacekit did not write."""
    out = Path(out)
    path = out / CLAIMS_FOLDER.marker
    seeds = [int(s) for s in seeds]
    if check_seeds(out, seeds):
        return path
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {"format": CLAIMS_FOLDER.format, "what": CLAIMS_FOLDER.what, "seeds": seeds,
                             "claims": list(claims), "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1)
    return path


def _summary(values: list) -> dict:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return {"mean": float(np.mean(v)) if v else None,
            "sd": float(np.std(v, ddof=1)) if len(v) > 1 else None, "n": len(v)}


def _topk_summary(entries: list) -> dict:
    """``{k: {"mean", "sd", "n", "chance"}}`` over the seeds' ``topk`` records of a retrieval metric; empty when
    no seed has one."""
    if not any(e.get("topk") for e in entries):
        return {}
    summary = {}
    for k in dict.fromkeys(k for e in entries for k in e.get("topk") or {}):
        values = [(e.get("topk") or {}).get(k) for e in entries]
        chances = [c for e in entries for c in [(e.get("chance_topk") or {}).get(k)] if c is not None]
        summary[str(k)] = {**_summary(values), "chance": float(np.mean(chances)) if chances else None}
    return summary


def claim_rows(claim: Claim, cells: dict, seeds: Sequence[int]) -> dict:
    """The ledger entry of one claim from ``cells[arm][seed] -> metrics``: per-arm summaries and verdicts."""
    arms = {}
    for arm, overrides in claim.arms.items():
        per_metric = {}
        for metric in claim.metric:
            values = [cells[arm][s].get(metric, {}).get("value") for s in seeds]
            chances = [cells[arm][s].get(metric, {}).get("chance") for s in seeds]
            chances = [c for c in chances if c is not None]
            per_metric[metric] = {"values": values, **_summary(values),
                                  "chance": float(np.mean(chances)) if chances else None}
            topk = _topk_summary([cells[arm][s].get(metric, {}) for s in seeds])
            if topk:
                per_metric[metric]["topk"] = topk
        arms[arm] = {"overrides": overrides, "metrics": per_metric}
    comparisons = []
    for comp in claim.compare:
        worse_metric = comp.worse_metric or comp.metric
        a = arms[comp.better]["metrics"][comp.metric]["values"]
        b = arms[comp.worse]["metrics"][worse_metric]["values"]
        sides = [arms[comp.better]["metrics"][comp.metric], arms[comp.worse]["metrics"][worse_metric]]
        above_chance = all(m["mean"] is not None and (m["chance"] is None or m["mean"] > m["chance"])
                           for m in sides)
        usable = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
        stats = paired_ci([x for x, _ in usable], [y for _, y in usable])
        comparisons.append({
            "better": comp.better, "worse": comp.worse, "metric": comp.metric, "worse_metric": comp.worse_metric,
            "expect": comp.expect,
            "margin": comp.margin if comp.expect == "≈" else None, "paper": comp.paper,
            "differences": stats.diffs, "mean_difference": stats.mean, "sd_difference": stats.sd,
            "above_chance": above_chance,
            "ci95": [stats.lo, stats.hi],
            "verdict": verdict(stats.lo, stats.hi, comp.expect, comp.margin, above_chance)})
    return {"id": claim.id, "title": claim.title, "paper_ref": claim.paper_ref, "paper_says": claim.paper_says,
            "beyond_paper": claim.beyond_paper, "metrics": list(claim.metric), "arms": arms,
            "comparisons": comparisons, "curve": [list(t) for t in claim.curve]}


def _pretrain_task(cfg: Config, out, claim_id: str, arm: str, seed: int) -> None:
    """A worker's task: one pretraining of the ledger (:func:`pretrain_arm`)."""
    pretrain_arm(cfg, out, get_claims([claim_id])[0], arm, seed)


def _cell_task(cfg: Config, out, claim_id: str, arm: str, seed: int, attention_videos: Optional[int]) -> dict:
    """A worker's task: one cell of the ledger (:func:`run_cell`)."""
    return run_cell(cfg, out, get_claims([claim_id])[0], arm, seed, attention_videos)


def _ledger_tasks(cfg: Config, out: Path, selected: Sequence[Claim], seeds: Sequence[int],
                  attention_videos: Optional[int], jobs: int, cells: dict) -> list[Task]:
    """The tasks of the cells not finished yet (finished ones are read into ``cells[claim][arm][seed]``).

    One after the other (``jobs=1``) each cell pretrains when it needs to, in the claims' order. Side by
    side, each missing pretraining is a task of its own that its cells wait for (two workers must not run
    one pretraining twice into one folder), and the companion sets are written here first; the runs of a
    network other than the base config's (C1's R(2+1)D) start first, the longest work ahead.
    """
    tasks: list[Task] = []
    pretrain_keys: dict[Path, tuple] = {}
    for claim in selected:
        for arm in claim.arms:
            for seed in seeds:
                init, tcfg, pre_cfg, identity = cell_plan(cfg, claim, arm, seed, attention_videos)
                saved = saved_cell(cell_dir(out, claim, arm, seed) / "cell.json", identity)
                if saved is not None:
                    cells[claim.id][arm][seed] = saved
                    continue
                costly = (tcfg.backbone, tcfg.width) != (cfg.backbone, cfg.width)
                after: tuple = ()
                if jobs > 1 and init == "pretrained":
                    pre_dir = pretrain_dir(cfg, out, claim.arms[arm], seed)
                    if pre_dir not in pretrain_keys and saved_pretraining(pre_dir, pre_cfg) is None:
                        # called for the companion set it writes: here, so that two workers never write one
                        pretrain_config(cfg.replace(seed=seed), claim.arms[arm], write_companion=True)
                        pretrain_keys[pre_dir] = ("pretrain", str(pre_dir))
                        tasks.append(Task(pretrain_keys[pre_dir], _pretrain_task, (cfg, out, claim.id, arm, seed),
                                          priority=0 if costly else 2))
                    after = (pretrain_keys[pre_dir],) if pre_dir in pretrain_keys else ()
                tasks.append(Task(("cell", claim.id, arm, seed), _cell_task,
                                  (cfg, out, claim.id, arm, seed, attention_videos), after=after,
                                  priority=(1 if costly else 3) if jobs > 1 else 0))
    return tasks


def default_jobs(cfg: Config) -> int:
    """Cells the ledger runs side by side by default: one per ``cfg.threads`` of this process's CPUs on the
    CPU (:func:`pacekit.machine.usable_cores`; ``threads`` None counts as all of them), one on a GPU."""
    if resolve_device(cfg.device).type != "cpu":
        return 1
    cpus = usable_cores()
    return max(1, cpus // (cfg.threads or cpus))


def run_ledger(cfg: Config, out, claims: Optional[Sequence[str]] = None, seeds: Sequence[int] = (0, 1, 2),
               preset: str = "claims", attention_videos: Optional[int] = ATTENTION_VIDEOS, figures: bool = True,
               log: Optional[Callable[[str], None]] = None, command: Optional[str] = None, jobs: int = 1) -> dict:
    """Run the selected claims over ``seeds`` and write ``<out>/ledger.md``, ``ledger.json`` and figures.

    ``cfg`` is the base configuration (its dataset must be the synthetic set for the attention claim).
    The seeds are recorded first (:func:`record_seeds`); the ledger is rewritten after every claim whose
    cells are all done, so an interrupted run leaves what it finished, and a rerun reads finished cells back.
    ``jobs`` cells (and pretrainings) run side by side in worker processes (:func:`pacekit.study.parallel.run_tasks`),
    each on ``cfg.threads`` torch threads (None: this process's CPUs shared among the jobs); a cell's numbers
    depend on its thread count, not on ``jobs``. ``log`` gets a line as each cell finishes. Returns the ledger
    dict; ``seconds`` holds each claim's wall time when ``jobs`` is 1 and the whole run's otherwise.
    """
    log = log or (lambda message: None)
    out = Path(out)
    selected = get_claims(claims)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise PacekitError("seeds must name at least one seed")
    if jobs < 1:
        raise PacekitError(f"jobs must be at least 1, got {jobs}")
    threads = cfg.threads if cfg.threads is not None or jobs == 1 else max(1, usable_cores() // jobs)
    if jobs > 1:  # workers' progress bars would interleave; neither field changes a result
        cfg = cfg.replace(threads=threads, progress=False)
    record_seeds(out, seeds, [c.id for c in selected])
    ledger = {"preset": preset, "seeds": seeds, "verdict_rule": VERDICT_RULE, "config": cfg.to_dict(),
              "command": command, "machine": describe_machine(), "jobs": jobs, "threads": threads,
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
              "metrics": METRICS, "status": "running", "claims": [], "seconds": {},
              "synthetic_version": synthetic_version(cfg.root) if cfg.dataset == "synthetic" else None}
    cells = {claim.id: {arm: {} for arm in claim.arms} for claim in selected}
    tasks = _ledger_tasks(cfg, out, selected, seeds, attention_videos, jobs, cells)
    cell_count = sum(len(claim.arms) for claim in selected) * len(seeds)
    t0 = last_written = time.perf_counter()

    def write_finished_claims() -> None:
        nonlocal last_written
        while len(ledger["claims"]) < len(selected):
            claim = selected[len(ledger["claims"])]
            if any(len(cells[claim.id][arm]) < len(seeds) for arm in claim.arms):
                return
            entry = claim_rows(claim, cells[claim.id], seeds)
            if figures:
                import matplotlib.pyplot as plt

                fig = plot_claim(entry)
                entry["figure"] = f"claim_{claim.id}.png"
                fig.savefig(out / entry["figure"], dpi=90)
                plt.close(fig)
            ledger["claims"].append(entry)
            if jobs == 1:
                ledger["seconds"][claim.id] = time.perf_counter() - last_written
                last_written = time.perf_counter()
            write_ledger(ledger, out)

    def on_done(task: Task, result) -> None:
        if task.key[0] == "pretrain":
            log(f"pretraining {Path(task.key[1]).name}: done")
            return
        _, claim_id, arm, seed = task.key
        cells[claim_id][arm][seed] = result
        finished = sum(len(per_seed) for arms in cells.values() for per_seed in arms.values())
        log(f"{claim_id} | {arm} | seed {seed}: done ({finished} of {cell_count} cells)")
        write_finished_claims()

    write_finished_claims()  # claims read back whole
    run_tasks(tasks, jobs=jobs, threads=threads, on_done=on_done)
    ledger["status"] = "complete"
    ledger["seconds"]["total"] = time.perf_counter() - t0
    ledger["compute"] = recorded_compute(cfg, out, selected, seeds)
    write_ledger(ledger, out)
    return ledger


def write_ledger(ledger: dict, out) -> tuple[Path, Path]:
    """Write ``ledger.json`` (every number; a missing one as null) and ``ledger.md`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "ledger.json", json_safe(ledger), indent=1, default=str, allow_nan=False)
    write_text_atomic(out / "ledger.md", format_ledger(ledger))
    return out / "ledger.md", out / "ledger.json"


__all__ = ["check_seeds", "claim_rows", "default_jobs", "record_seeds", "run_ledger", "write_ledger"]
