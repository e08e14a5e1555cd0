"""One (claim, arm, seed) cell: its pretraining (shared by equal configs), its experiment, and its numbers kept
in ``<cell>/cell.json`` and read back on the next run."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import re
import time
from pathlib import Path
from typing import Optional, Sequence

from ...atomic import check_json, read_result_json, write_json_atomic
from ...config import Config, comparable_config, run_differences
from ...data.synthetic import companion_folder, ensure_companion
from ...errors import DamagedFileError
from ...evaluation.attention import ATTENTION_VIDEOS, FIG5_GRID, FIG5_PACES, attention_scores
from ...evaluation.retrieval import TOPK
from ...pace import PaceSet
from ..experiment import EXPERIMENT_FIX, ExperimentPlan, ExperimentResult, init_model, run_experiment
from .table import MODEL_FIELDS, RETRIEVAL_FEATURES, TRANSFER_FIELDS, Claim

logger = logging.getLogger("pacekit.study.claims")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "arm"


#: Arm keys that are not Config fields.
RESERVED_KEYS = ("init", "pretrain_speed_spread")


def _split_overrides(overrides: dict) -> tuple[str, dict, dict]:
    init = overrides.get("init", "pretrained")
    fields = {k: v for k, v in overrides.items() if k not in RESERVED_KEYS}
    return (init, {k: v for k, v in fields.items() if k not in TRANSFER_FIELDS},
            {k: v for k, v in fields.items() if k in TRANSFER_FIELDS or k in MODEL_FIELDS})


def pretrain_config(cfg: Config, overrides: dict, write_companion: bool = False) -> Config:
    """The pretraining config of an arm: ``cfg`` with the arm's pretraining fields, and on the companion set's
    folder when the arm names a ``pretrain_speed_spread`` (the set is written when ``write_companion``)."""
    _, pre_fields, _ = _split_overrides(overrides)
    pre_cfg = cfg.replace(**pre_fields)
    spread = overrides.get("pretrain_speed_spread")
    if spread is None:
        return pre_cfg
    root = (ensure_companion(cfg.root, spread, progress=cfg.progress) if write_companion
            else companion_folder(cfg.root, spread))
    return pre_cfg.replace(root=str(root))


def pretrain_key(cfg: Config, pre_cfg: Config) -> str:
    """``base`` when ``pre_cfg`` equals the ledger's ``cfg``, else a short hash of the fields that differ."""
    base, mine = cfg.to_dict(), pre_cfg.to_dict()
    diff = {k: mine[k] for k in sorted(mine) if mine[k] != base.get(k)}
    if not diff:
        return "base"
    return hashlib.sha1(json.dumps(diff, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _compared(config: Optional[dict]) -> Optional[dict]:
    """The fields of a config dict that a result depends on, as the same-run rule compares them
    (:func:`pacekit.config.comparable_config`), so that a progress bar, a log interval, the loader workers, the
    run's name or the way the data folder's path was typed never make a finished cell count as another."""
    if config is None:
        return None
    return comparable_config(config)


def _cell_key(identity: dict) -> dict:
    """A cell's identity with its two configs reduced to the fields a result depends on."""
    return {**identity, "pretrain": _compared(identity.get("pretrain")), "transfer": _compared(identity.get("transfer"))}


def _experiment(cfg: Config, out: Path, **plan) -> ExperimentResult:
    return run_experiment(cfg, ExperimentPlan(**plan), out, reuse=True)


def cell_plan(cfg: Config, claim: Claim, arm: str, seed: int, attention_videos: Optional[int],
               write_companion: bool = False) -> tuple[str, Config, Config, dict]:
    """``(init, transfer config, pretraining config, identity)`` of one cell; the identity is what its
    ``cell.json`` must match to be read back."""
    init, _, transfer_fields = _split_overrides(claim.arms[arm])
    cfg_s = cfg.replace(seed=int(seed))
    tcfg = cfg_s.replace(**transfer_fields)
    pre_cfg = pretrain_config(cfg_s, claim.arms[arm], write_companion=write_companion and init == "pretrained")
    identity = {"init": init, "pretrain": pre_cfg.to_dict() if init == "pretrained" else None,
                "transfer": tcfg.to_dict(), "metrics": list(claim.metric), "attention_videos": attention_videos}
    retrieval = _retrieval_metrics(claim)
    if retrieval:
        # cells written when a cell kept only p5's top-1 are not read back as these
        identity["retrieval"] = {"features": [RETRIEVAL_FEATURES[m] for m in retrieval], "topk": list(TOPK)}
    if "attention" in claim.metric or "grad-cam" in claim.metric:
        # cells scored at conv5 before the stage followed Fig. 5's grid are not read back as these
        identity["attention_stage"] = f"deepest stage at least {FIG5_GRID}x{FIG5_GRID}"
        # cells scored on pace-1 clips alone, before the score followed Fig. 5's columns, are not read back as these
        identity["attention_paces"] = list(FIG5_PACES)
    return init, tcfg, pre_cfg, identity


def _retrieval_metrics(claim: Claim) -> list[str]:
    return [m for m in claim.metric if m in RETRIEVAL_FEATURES]


#: What happens to a damaged ``cell.json`` (a cache): the cell is computed again.
CELL_FIX = "computing the cell again"


def _read_cell(cell_file: Path) -> Optional[dict]:
    """``cell_file``'s contents, checked (:func:`pacekit.atomic.read_result_json`); None, with a warning, when damaged."""
    try:
        saved = read_result_json(cell_file, CELL_FIX)
        if isinstance(saved.get("identity"), dict):
            check_json(saved, cell_file, CELL_FIX, keys={"metrics": dict, "seconds": (int, float)})
            for metric, entry in saved["metrics"].items():
                check_json(entry, cell_file, CELL_FIX, optional={"value": (int, float, type(None)),
                                                                 "chance": (int, float, type(None))},
                           where=f"metrics[{metric!r}]")
    except DamagedFileError as exc:
        logger.warning("%s", exc)
        return None
    return saved


def saved_cell(cell_file: Path, identity: dict) -> Optional[dict]:
    """The metrics a finished cell left in ``cell_file`` when its identity matches ``identity``, else None
    (also when the file is damaged: it is a cache, so a warning is logged and the cell computed again)."""
    if not cell_file.is_file():
        return None
    saved = _read_cell(cell_file)
    if saved is None:
        return None
    wanted = json.loads(json.dumps(json_safe(identity), default=str))
    if isinstance(saved.get("identity"), dict) and _cell_key(saved["identity"]) == _cell_key(wanted):
        return saved["metrics"]
    return None


def saved_pretraining(pre_dir: Path, pre_cfg: Config) -> Optional[ExperimentResult]:
    """The finished pretraining in ``pre_dir`` when it was run with ``pre_cfg``'s settings and its checkpoint
    is in ``pre_dir``, else None.

    Its ``experiment.json`` records the checkpoint's path as it was written (under the ledger folder of
    then). A ledger folder moved or renamed since still holds the checkpoint at the same place inside it, so
    the path is taken relative to the folder the pretraining was written into and rebased onto ``pre_dir``:
    never a checkpoint at the old path, which may by then belong to another run.
    """
    saved_pre = pre_dir / "experiment.json"
    if not saved_pre.is_file():
        return None
    try:
        pre_result = ExperimentResult.from_json(saved_pre)
    except DamagedFileError as exc:  # a cache: computed again, its checkpoint reused when intact
        logger.warning("computing the pretraining's results again: %s", exc)
        return None
    if run_differences(pre_result.config or {}, pre_cfg, "pretrain") or not pre_result.pretrained:
        return None
    try:
        inside = Path(pre_result.pretrained).relative_to(Path(pre_result.config["out_dir"]))
    except (KeyError, ValueError):  # not written by this module into its pretraining folder
        return None
    checkpoint = pre_dir / inside
    if not checkpoint.is_file():
        return None
    return dataclasses.replace(pre_result, pretrained=str(checkpoint))


def pretrain_arm(cfg: Config, out, claim: Claim, arm: str, seed: int) -> tuple[ExperimentResult, float]:
    """The pretraining a pretrained arm's cell at ``seed`` starts from: read back from its folder
    (:func:`pretrain_dir`, shared by every arm of the same settings) when finished, else run and saved there.
    Returns ``(result, seconds spent computing it here)``, 0 when read back."""
    pre_cfg = pretrain_config(cfg.replace(seed=int(seed)), claim.arms[arm], write_companion=True)
    pre_dir = pretrain_dir(cfg, out, claim.arms[arm], seed)
    pre_result = saved_pretraining(pre_dir, pre_cfg)
    if pre_result is not None:
        return pre_result, 0.0
    t = time.perf_counter()
    pre_result = _experiment(pre_cfg, pre_dir, inits=("pretrained",), protocols=(), seeds=[seed], retrieval=False)
    pre_result.to_json(pre_dir / "experiment.json")
    return pre_result, time.perf_counter() - t


def run_cell(cfg: Config, out, claim: Claim, arm: str, seed: int,
             attention_videos: Optional[int] = ATTENTION_VIDEOS) -> dict:
    """Measure ``claim``'s metrics on one arm at one seed: ``{metric: {"value": v, "chance": c}}``.

    Finished cells are read back from ``<out>/<claim>/<arm>/s<seed>/cell.json`` when their configs match.
    """
    out = Path(out)
    init, tcfg, pre_cfg, identity = cell_plan(cfg, claim, arm, seed, attention_videos, write_companion=True)
    folder = cell_dir(out, claim, arm, seed)
    cell_file = folder / "cell.json"
    saved = saved_cell(cell_file, identity)
    if saved is not None:
        return saved

    started = time.perf_counter()
    pretrain_seconds = 0.0  # a pretraining computed for this cell (its own experiment.json records it too)
    metrics: dict[str, dict] = {}
    pretrained = None
    if init == "pretrained":
        pre_result, pretrain_seconds = pretrain_arm(cfg, out, claim, arm, seed)
        pretrained = pre_result.pretrained
        if "pretext" in claim.metric:
            metrics["pretext"] = {"value": pre_result.pretext_accuracy,
                                  "chance": 1.0 / len(PaceSet.from_spec(pre_cfg.pace_set))}
    elif "pretext" in claim.metric:
        metrics["pretext"] = {"value": None, "chance": 1.0 / len(PaceSet.from_spec(pre_cfg.pace_set))}

    protocols = tuple(p for p in ("fine-tuned", "linear probe") if p in claim.metric)
    retrieval = _retrieval_metrics(claim)
    if protocols or retrieval:
        result = _experiment(tcfg.replace(pretrained=pretrained), folder, inits=(init,), protocols=protocols,
                             seeds=[seed], retrieval=bool(retrieval),
                             features=tuple(RETRIEVAL_FEATURES[m] for m in retrieval), ks=TOPK)
        for protocol in protocols:
            o = result.outcome(init, protocol, seed)
            metrics[protocol] = {"value": o.top1, "chance": 1.0 / len(o.label_counts)}
        rows = {row.feature: row for row in result.retrieval.get(init, [])}
        for metric in retrieval:
            feature = RETRIEVAL_FEATURES[metric]
            if feature in result.retrieval_skipped:  # a missing number (the rule: inconclusive), and why
                metrics[metric] = {"value": None, "chance": None, "skipped": result.retrieval_skipped[feature]}
                continue
            row = rows[feature]
            # top-1 decides; every k of Sec. 4.4 is kept for the ledger's top-k table (a k above the gallery's
            # size is skipped by the retrieval and left out here)
            metrics[metric] = {"value": row.topk.get(1), "chance": row.chance.get(1),
                               "topk": {str(k): v for k, v in sorted(row.topk.items())},
                               "chance_topk": {str(k): v for k, v in sorted(row.chance.items())}}
    if "attention" in claim.metric or "grad-cam" in claim.metric:
        model = init_model(init, None, pretrained, tcfg)
        scores = attention_scores(model, tcfg, attention_videos, with_grad_cam="grad-cam" in claim.metric)
        for name, (value, chance) in scores.items():
            metrics[name] = {"value": value, "chance": chance}

    metrics = json_safe(metrics)  # a NaN share (no map had mass) is a missing number, as when read back
    # the cell's own compute, its pretraining left out (shared by other cells; recorded in its experiment.json)
    seconds = time.perf_counter() - started - pretrain_seconds
    write_json_atomic(cell_file, json_safe({"identity": identity, "metrics": metrics, "seconds": seconds}),
                      indent=1, default=str, allow_nan=False)
    return metrics


def cell_dir(out, claim: Claim, arm: str, seed: int) -> Path:
    return Path(out) / claim.id / _slug(arm) / f"s{seed}"


def pretrain_dir(cfg: Config, out, arm_overrides: dict, seed: int) -> Path:
    """The folder of the pretraining an arm's cells start from (shared by every arm of the same settings)."""
    return Path(out) / "pretrain" / f"{pretrain_key(cfg, pretrain_config(cfg, arm_overrides))}_s{seed}"


def recorded_compute(cfg: Config, out, claims: Sequence[Claim], seeds: Sequence[int]) -> dict:
    """The compute seconds the ledger's cells and pretrainings recorded when they were computed.

    A rerun reads finished cells back in seconds, so an invocation's own time says little about what the
    ledger costs; this sums what each cell (``cell.json``) and each distinct pretraining
    (``experiment.json``) recorded.
    Returns ``{"seconds", "cells", "cells_recorded", "pretrainings", "pretrainings_recorded"}``.
    """
    out = Path(out)
    cells = recorded = 0
    seconds = 0.0
    pretrain_dirs = set()
    for claim in claims:
        for arm, overrides in claim.arms.items():
            for seed in seeds:
                cells += 1
                cell_file = cell_dir(out, claim, arm, seed) / "cell.json"
                saved = (_read_cell(cell_file) if cell_file.is_file() else None) or {}
                if isinstance(saved.get("seconds"), (int, float)):
                    recorded += 1
                    seconds += float(saved["seconds"])
                if _split_overrides(overrides)[0] == "pretrained":
                    pretrain_dirs.add(pretrain_dir(cfg, out, overrides, seed))
    pre_recorded = 0
    for pre_dir in pretrain_dirs:
        saved_pre = pre_dir / "experiment.json"
        try:
            seconds_of = read_result_json(saved_pre, EXPERIMENT_FIX, keys={"seconds": dict}) if saved_pre.is_file() else {}
        except DamagedFileError as exc:
            logger.warning("%s", exc)
            seconds_of = {}
        total = seconds_of.get("seconds", {}).get("total")
        if isinstance(total, (int, float)):
            pre_recorded += 1
            seconds += float(total)
    return {"seconds": seconds, "cells": cells, "cells_recorded": recorded, "pretrainings": len(pretrain_dirs),
            "pretrainings_recorded": pre_recorded}


def json_safe(value):
    """NaN and infinities as None (strict JSON has no NaN), through dicts and lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


__all__ = ["cell_dir", "pretrain_arm", "pretrain_key", "recorded_compute", "run_cell"]
