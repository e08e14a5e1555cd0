"""The quickstart over several seeds, against the lesson's targets:
``python docs/quickstart_seeds.py [--stem NAME] RUN...``.

Each RUN is a quickstart folder (``pacekit quickstart --seed S --data DIR --out RUN``) holding ``result.json``.
Writes ``docs/NAME.json`` and ``docs/NAME.md`` (NAME: ``quickstart_seeds``): every seed's figures, the mean over seeds,
the paired 95% interval of each gain (the claims ledger's rule, :func:`pacekit.study.claims.paired_ci`), and for each
target whether every seed met it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from pacekit.study.claims import paired_ci

OUT = Path(__file__).parent

#: (target, bar): the lesson's targets, in the order :func:`met` checks them.
TARGETS = [
    ("pretext accuracy, unseen videos", ">= 80%"),
    ("linear probe, 4 labels per class: pretrained - random", ">= +20 points"),
    ("linear probe, all labels: pretrained - random", ">= +30 points"),
    ("fine-tuned, 4 labels per class: pretrained - random", ">= +10 points, mean - sd above random's mean + sd"),
    ("retrieval top-1 (the paper's p5 where the network has it, else p5)", ">= 2x chance and >= random + 10"),
    ("attention inside the mover masks, pretrained / random", ">= 1.5x"),
]


def seed_figures(result: dict) -> dict:
    """One quickstart's figures for the targets (top-1 in points, shares in %)."""
    top1 = result["top1"]

    def mean(init, protocol):
        return 100 * float(np.mean(top1[init][protocol]))

    def sd(init, protocol):
        return 100 * float(np.std(top1[init][protocol]))

    feature = "vcop" if "vcop" in result["retrieval"]["pretrained"] else "p5"
    retrieval = {init: 100 * result["retrieval"][init][feature]["topk"]["1"] for init in ("random", "pretrained")}
    chance = 100 * result["retrieval"]["pretrained"][feature]["chance"]["1"]
    attention = {init: 100 * result["attention"][init]["attention"]["share"] for init in ("random", "pretrained")}
    return {
        "seed": result["seeds"][0],
        "seconds": result["seconds"]["total"],
        "pretext": 100 * result["pretext_accuracy"],
        "probe4": {init: mean(init, "linear probe") for init in ("random", "pretrained")},
        "probe_all": {init: mean(init, "linear probe, all labels") for init in ("random", "pretrained")},
        "finetuned": {init: mean(init, "fine-tuned") for init in ("random", "pretrained")},
        "finetuned_sd": {init: sd(init, "fine-tuned") for init in ("random", "pretrained")},
        "retrieval_feature": feature,
        "retrieval": retrieval,
        "retrieval_chance": chance,
        "attention": attention,
        "attention_chance": 100 * result["attention"]["pretrained"]["attention"]["chance"],
        # random init's share is the mean over the transfer seeds' random networks in runs from 2026-12-05 04 UTC
        # on; runs before it scored the first transfer seed's network alone
        "attention_random_networks": [100 * x for x in result["attention"]["random"]["attention"].get(
            "networks", [result["attention"]["random"]["attention"]["share"]])],
        "attention_stage": result["attention_stage"],
        "synthetic_version": result["synthetic_version"]["version"],
        "clip": "{backbone} on {clip_len}x{crop}x{crop} clips, {epochs} pretraining epochs, ".format(
            **result["experiment"]["config"])
        # probe_steps became a config field on 2026-12-05; the runs before it fitted the probe for 300 steps
        + "linear probes fitted for {} steps".format(result["experiment"]["config"].get("probe_steps", 300)),
    }


def met(f: dict) -> list[bool]:
    """Whether one seed meets each of :data:`TARGETS`."""
    ft, ft_sd = f["finetuned"], f["finetuned_sd"]
    r = f["retrieval"]
    return [
        f["pretext"] >= 80,
        f["probe4"]["pretrained"] - f["probe4"]["random"] >= 20,
        f["probe_all"]["pretrained"] - f["probe_all"]["random"] >= 30,
        ft["pretrained"] - ft["random"] >= 10 and ft["pretrained"] - ft_sd["pretrained"] > ft["random"] + ft_sd["random"],
        r["pretrained"] >= 2 * f["retrieval_chance"] and r["pretrained"] >= r["random"] + 10,
        f["attention"]["pretrained"] >= 1.5 * f["attention"]["random"],
    ]


def summary(figures: list[dict]) -> dict:
    def gain(key):
        stats = paired_ci([f[key]["pretrained"] for f in figures], [f[key]["random"] for f in figures])
        return {"mean": stats.mean, "lo": stats.lo, "hi": stats.hi}

    ratios = [f["attention"]["pretrained"] / f["attention"]["random"] for f in figures]
    return {
        "seeds": [f["seed"] for f in figures],
        "pretext": float(np.mean([f["pretext"] for f in figures])),
        "gains": {key: gain(key) for key in ("probe4", "probe_all", "finetuned", "retrieval", "attention")},
        "attention_ratio": float(np.mean(ratios)),
        "targets": [{"target": name, "bar": bar, "seeds_met": int(sum(met(f)[k] for f in figures)),
                     "seeds": len(figures)} for k, (name, bar) in enumerate(TARGETS)],
    }


def _random_arm(f: dict) -> str:
    shares = f["attention_random_networks"]
    if len(shares) == 1:
        return "from the first transfer seed's random network alone"
    return f"the mean over the {len(shares)} transfer seeds' random networks"


def markdown(figures: list[dict], s: dict) -> str:
    rows = []
    for f in figures:
        rows.append(
            f"| {f['seed']} | {f['pretext']:.1f} | {f['probe4']['pretrained']:.1f} / {f['probe4']['random']:.1f} | "
            f"{f['probe_all']['pretrained']:.1f} / {f['probe_all']['random']:.1f} | "
            f"{f['finetuned']['pretrained']:.1f} / {f['finetuned']['random']:.1f} | "
            f"{f['retrieval']['pretrained']:.1f} / {f['retrieval']['random']:.1f} ({f['retrieval_chance']:.1f}) | "
            f"{f['attention']['pretrained']:.1f} / {f['attention']['random']:.1f} ({f['attention_chance']:.1f}) | "
            f"{f['seconds']:.0f} |")
    gains = s["gains"]

    def interval(key):
        g = gains[key]
        return f"{g['mean']:+.1f} [{g['lo']:+.1f}, {g['hi']:+.1f}]"

    lines = [
        "# The quickstart over seeds",
        "",
        "Written by `python docs/quickstart_seeds.py` from the quickstarts' `result.json`. Each seed draws its own "
        f"synthetic set (version {figures[0]['synthetic_version']}), pretraining and transfer seeds; "
        f"{' / '.join(sorted({f['clip'] for f in figures}))}. Top-1 in %, "
        "pretrained / random init; retrieval with "
        f"`{figures[0]['retrieval_feature']}` (chance in brackets); attention at {figures[0]['attention_stage']} "
        "(the masks' share in brackets; scored on every test video at Fig. 5's paces 1-4 in runs from 2026-12-04 "
        "on, on the first 8 test videos at pace 1 before); random init's attention share "
        + " / ".join(sorted({_random_arm(f) for f in figures})) + ".",
        "",
        "| seed | pretext | linear probe, 4 labels | linear probe, all labels | fine-tuned, 4 labels | retrieval top-1 "
        "| attention in masks | seconds |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Gains over random init, mean over seeds with the paired 95% interval (the claims ledger's rule): "
        f"linear probe {interval('probe4')}, all labels {interval('probe_all')}, fine-tuned {interval('finetuned')}, "
        f"retrieval top-1 {interval('retrieval')}, attention share {interval('attention')} "
        f"(pretrained / random: {s['attention_ratio']:.2f}x on average).",
        "",
        "| target | bar | seeds that meet it |",
        "|---|---|---|",
        *(f"| {t['target']} | {t['bar']} | {t['seeds_met']} of {t['seeds']} |" for t in s["targets"]),
        "",
    ]
    return "\n".join(lines)


def main(args: list[str]) -> None:
    stem = "quickstart_seeds"
    if args[:1] == ["--stem"]:
        stem, args = args[1], args[2:]
    figures = [seed_figures(json.loads((Path(run) / "result.json").read_text())) for run in args]
    versions = sorted({f["synthetic_version"] for f in figures})
    if len(versions) != 1:
        raise SystemExit(f"the runs are on different versions of the synthetic set: {versions}")
    s = summary(figures)
    (OUT / f"{stem}.json").write_text(json.dumps({"per_seed": figures, "summary": s}, indent=1) + "\n")
    (OUT / f"{stem}.md").write_text(markdown(figures, s))
    print(markdown(figures, s))


if __name__ == "__main__":
    main(sys.argv[1:])
