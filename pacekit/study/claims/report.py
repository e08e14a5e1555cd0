"""The ledger as Markdown and figures, rendered from the ledger's JSON (no computing here)."""

from __future__ import annotations

import math

import numpy as np

from .table import METRICS, comparison_label


def _pct(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.1f}"


def _signed(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:+.1f}"


def _provenance(ledger: dict) -> list[str]:
    """Where and when the ledger was written, and by which command (ledgers before these fields: nothing)."""
    if not ledger.get("machine"):
        return []
    m = ledger["machine"]
    where = f"{m.get('cpu')}, {m.get('cores')} cores" + (f", {m['gpu']}" if m.get("gpu") else "")
    command = f" by `{ledger['command']}`" if ledger.get("command") else ""
    seconds = ledger.get("seconds", {}).get("total")
    took = f"; {seconds:.0f} s in this invocation (cells finished by an earlier one are read back)" if seconds else ""
    if ledger.get("jobs") is not None:
        threads = ledger.get("threads")
        took += (f", {ledger['jobs']} cell(s) at a time, each on "
                 + (f"{threads} torch thread(s)" if threads is not None else "torch's default threads"))
    lines = [f"Written {ledger.get('date')}{command} on {where} (torch {m.get('torch')}, Python {m.get('python')}){took}.",
             ""]
    compute = ledger.get("compute")
    if compute:
        lines += [f"Compute its cells recorded when they were computed: {compute['seconds'] / 60:.1f} min "
                  f"({compute['cells_recorded']} of {compute['cells']} cells and {compute['pretrainings_recorded']} of "
                  f"{compute['pretrainings']} pretrainings recorded their time; the rest were computed before cells "
                  "recorded it).", ""]
    return lines


def _metric_text(comp: dict) -> str:
    return f"{comp['metric']} vs {comp['worse_metric']}" if comp.get("worse_metric") else comp["metric"]


def _topk_table(entry: dict) -> list[str]:
    """Each arm's retrieval at every k of Sec. 4.4 (Tables 4/5's columns), when its cells kept them."""
    rows = [(arm, metric, m["topk"]) for arm, a in entry["arms"].items() for metric, m in a["metrics"].items()
            if m.get("topk")]
    if not rows:
        return []
    ks = list(dict.fromkeys(k for _, _, topk in rows for k in topk))
    lines = ["", "Retrieval at every k (Sec. 4.4; top-1 is the column above):", "",
             "| arm | metric | " + " | ".join(f"top-{k}" for k in ks) + " |", "|---|---|" + "---|" * len(ks)]
    for arm, metric, topk in rows:
        cells = []
        for k in ks:
            m = topk.get(k, {"mean": None, "sd": None, "chance": None})
            sd = f" ± {_pct(m['sd'])}" if m["sd"] is not None else ""
            cells.append(f"{_pct(m['mean'])}{sd} ({_pct(m['chance'])})")
        lines.append(f"| {arm} | {metric} | " + " | ".join(cells) + " |")
    return lines


def format_ledger(ledger: dict) -> str:
    """The ledger as Markdown: the rule, a summary of verdicts, then each claim's arms and comparisons."""
    lines = ["# The paper's claims, shown", "",
             f"Preset `{ledger['preset']}`, seeds {ledger['seeds']} (fixed before any result: `seeds.json`). "
             "Numbers are percentages; `mean ± sd` over the seeds; chance levels in parentheses.", "",
             *_provenance(ledger),
             "**Verdict rule.** " + ledger["verdict_rule"], "",
             "| claim | comparison | metric | kit difference | 95% CI | verdict |", "|---|---|---|---|---|---|"]
    for c in ledger["claims"]:
        for comp in c["comparisons"]:
            lines.append(f"| {c['id']} | {comparison_label(comp)} | {_metric_text(comp)} | "
                         f"{_signed(comp['mean_difference'])} | [{_signed(comp['ci95'][0])}, {_signed(comp['ci95'][1])}] "
                         f"| {comp['verdict']} |")
    for c in ledger["claims"]:
        lines += ["", f"## {c['id']}: {c['title']} ({c['paper_ref']})", "",
                  ("Beyond the paper. " if c["beyond_paper"] else "The paper says: ") + c["paper_says"], "",
                  "| arm | " + " | ".join(c["metrics"]) + " |", "|---|" + "---|" * len(c["metrics"])]
        for arm, entry in c["arms"].items():
            cells = []
            for metric in c["metrics"]:
                m = entry["metrics"][metric]
                sd = f" ± {_pct(m['sd'])}" if m["sd"] is not None else ""
                cells.append(f"{_pct(m['mean'])}{sd} (chance {_pct(m['chance'])})")
            lines.append(f"| {arm} | " + " | ".join(cells) + " |")
        lines += _topk_table(c)
        lines += ["", "| comparison | metric | paper | kit difference (per seed) | 95% CI | verdict |",
                  "|---|---|---|---|---|---|"]
        for comp in c["comparisons"]:
            per_seed = ", ".join(_signed(d) for d in comp["differences"])
            margin = f" (margin ±{_pct(comp['margin'])})" if comp["margin"] is not None else ""
            lines.append(f"| {comparison_label(comp)}{margin} | {_metric_text(comp)} | "
                         f"{comp['paper']} | {_signed(comp['mean_difference'])} ({per_seed}) | "
                         f"[{_signed(comp['ci95'][0])}, {_signed(comp['ci95'][1])}] | {comp['verdict']} |")
        if c.get("figure"):
            lines += ["", f"![{c['id']}]({c['figure']})"]
    described = ledger.get("metrics") or METRICS  # as the ledger was written
    lines += ["", "Metrics: " + "; ".join(f"*{k}*: {v}" for k, v in described.items()) + "."]
    return "\n".join(lines) + "\n"


def plot_claim(entry: dict):
    """One panel per metric: each arm's mean ± sd (per-seed dots), chance dashed. Returns the Figure."""
    import matplotlib.pyplot as plt  # deferred: a heavy optional dependency

    metrics = entry["metrics"]
    arms = list(entry["arms"])
    cols = len(metrics) if len(metrics) <= 4 else math.ceil(len(metrics) / 2)  # C1's six panels in two rows
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(4.0, 0.9 * len(arms) + 1.5) * cols, 3.6 * rows),
                             squeeze=False)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metrics):
        if entry.get("curve"):
            _plot_curve(ax, entry, metric)
            continue
        for i, arm in enumerate(arms):
            m = entry["arms"][arm]["metrics"][metric]
            values = [100 * v for v in m["values"] if v is not None]
            if m["mean"] is not None:
                ax.bar(i, 100 * m["mean"], yerr=100 * (m["sd"] or 0), color="C0", alpha=0.6, capsize=3)
            ax.plot([i] * len(values), values, "k.", ms=4)
            if m["chance"] is not None:
                ax.hlines(100 * m["chance"], i - 0.4, i + 0.4, colors="r", linestyles="--", lw=1)
        ax.set_xticks(range(len(arms)))
        ax.set_xticklabels(arms, rotation=30, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
        ax.set_ylabel("%")
    fig.suptitle(f"{entry['id']}: {entry['title']} (red dashes: chance)", fontsize=9)
    fig.tight_layout()
    return fig


def _plot_curve(ax, entry: dict, metric: str) -> None:
    """One line per series (mean ± sd over seeds) over the claim's x values, chance dashed."""
    xs = list(dict.fromkeys(x for _, _, x in entry["curve"]))
    for k, series in enumerate(dict.fromkeys(s for _, s, _ in entry["curve"])):
        points = [(xs.index(x), entry["arms"][arm]["metrics"][metric]) for arm, s, x in entry["curve"] if s == series]
        points = [(i, m) for i, m in points if m["mean"] is not None]
        ax.errorbar([i for i, _ in points], [100 * m["mean"] for _, m in points],
                    yerr=[100 * (m["sd"] or 0) for _, m in points], marker="o", capsize=3, color=f"C{k}", label=series)
    chances = [m["chance"] for a in entry["arms"].values() for m in [a["metrics"][metric]] if m["chance"] is not None]
    if chances:
        ax.axhline(100 * float(np.mean(chances)), color="r", ls="--", lw=1)
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs, fontsize=8)
    ax.set_xlabel("labelled videos")
    ax.set_ylabel("%")
    ax.set_title(metric, fontsize=9)
    ax.legend(fontsize=8)


__all__ = ["format_ledger", "plot_claim"]
