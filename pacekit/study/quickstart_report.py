"""The quickstart's Markdown report, rendered from its result (:mod:`.quickstart_result`); nothing here computes."""

from __future__ import annotations

import math

import numpy as np

from ..data.synthetic import (
    NATIVE_SPEED_SPREAD,
)
from .claims.statistics import paired_ci, verdict
from .claims.table import paper_numbers
from .experiment import (
    PRETEXT_CLIPS_PER_VIDEO,
)
from .quickstart_result import (
    ALL_LABELS,
    INIT_NAMES,
    PACE_ERROR_FIGURE,
    PROTOCOLS,
    REPORTED,
    QuickstartResult,
    natural_speeds_of,
    pace_labels,
    shown_split,
)

#: What each input mode is, said beside it in the report (the paper feeds plain RGB).
INPUT_NOTES = {
    "residual": " (each clip minus its mean frame; the paper feeds RGB)",
    "standardized": " (RGB, each frame scaled to mean 0, std 1 per channel before the network; the paper feeds "
                    "RGB as it is)",
}


def _paper_says(claim_id: str, metric: str) -> str:
    """The paper's numbers for pretrained against random on ``metric``, as the claims table states them."""
    return paper_numbers(claim_id, metric, worse="random")


def reproduction_section(r: QuickstartResult) -> list[str]:
    """The report's opening: three sentences computed from the result, then one row per claim the quickstart
    measures (paper, here, verdict). Verdicts follow the claims ledger's rule over the transfer seeds where
    the run has several; a figure measured once gets none."""
    rows, said = [], []
    n = len(next(iter(r.outcomes.values())).top1)
    for protocol, claim, metric, title in (("fine-tuned", "C1", "fine-tuned", "pace pretraining helps fine-tuning (Fig. 4)"),
                                           ("linear probe", "C1", "linear probe", "and a linear probe on frozen features")):
        if ("pretrained", protocol) not in r.outcomes:
            continue
        pre, ran = r.outcomes[("pretrained", protocol)].top1, r.outcomes[("random", protocol)].top1
        stats = paired_ci(pre, ran)
        word = verdict(stats.lo, stats.hi) if n > 1 else "one seed: no verdict"
        interval = f" [{100 * stats.lo:+.1f}, {100 * stats.hi:+.1f}]" if n > 1 else ""
        rows.append(f"| {title} | {_paper_says(claim, metric)} | {100 * np.mean(pre):.1f} vs {100 * np.mean(ran):.1f}, "
                    f"{100 * stats.mean:+.1f}{interval} | {word} |")
        said.append((protocol, stats.mean, word))
    e = r.experiment
    if e is not None and e.retrieval:
        top1 = {init: {row.feature: row for row in rows_} for init, rows_ in e.retrieval.items()}
        feature = "vcop" if "vcop" in top1.get("pretrained", {}) else next(iter(top1.get("pretrained", {})), None)
        if feature is not None and feature in top1.get("random", {}):
            pre, ran = top1["pretrained"][feature], top1["random"][feature]
            paper = {"vcop": _paper_says("C1", "retrieval vcop"), "p4": _paper_says("C1", "retrieval p4")}.get(
                feature, "Table 4 reports VCOP's p5 and p4 features only")
            rows.append(f"| retrieval top-1, `{feature}` feature (Table 4) | {paper} | "
                        f"{100 * pre.topk[1]:.1f} vs {100 * ran.topk[1]:.1f} (chance {100 * pre.chance[1]:.1f}) | "
                        "one run: no verdict |")
    if e is not None and {"random", "pretrained"} <= set(e.attention_scores):
        pre, ran = e.attention_scores["pretrained"]["attention"], e.attention_scores["random"]["attention"]
        rows.append(f"| attention on the moving parts (Fig. 5) | {_paper_says('C6', 'attention')} | "
                    f"{_share(pre[0])}% vs {_share(ran[0])}%{_of_networks(e)} in the mover masks (their area "
                    f"{100 * pre[1]:.1f}%) | "
                    "one run: no verdict |")
    seeds = f"the paired 95% interval over its {n} transfer seeds (one pretraining)"
    sentences = [f"Pace pretraining reached {100 * r.pretext_accuracy:.1f}% pace accuracy on unseen videos "
                 f"(chance {100 / len(pace_labels(r.config)):.1f}%)."]
    labels = r.config.labels_per_class or "all"
    lead = {"fine-tuned": f"Fine-tuned on {labels} labelled videos per class, the pretrained network",
            "linear probe": "A linear classifier on its frozen features"}
    for protocol, gain, word in said:
        how = f"{word}, by {seeds}" if n > 1 else "one seed, no verdict"
        sentences.append(f"{lead[protocol]} beat random initialisation by {100 * gain:+.1f} top-1 points ({how})."
                         if round(100 * gain, 1) > 0 else
                         f"{lead[protocol]} did not beat random initialisation ({100 * gain:+.1f} top-1 points; {how}).")
    return ["## Does it reproduce here?", "", " ".join(sentences[:3]), "",
            "| claim | the paper | here: pretrained vs random init | verdict |", "|---|---|---|---|", *rows, ""]


def format_report(r: QuickstartResult) -> str:
    """The Markdown report: whether the paper's claims reproduce here, then the result table, what it means,
    the settings and the timings."""
    cfg = r.config
    n = len(next(iter(r.outcomes.values())).top1)

    def pct(values: list[float]) -> str:
        return f"{100 * np.mean(values):.1f}" + (f" ± {100 * np.std(values):.1f}" if len(values) > 1 else "")

    def verdict(protocol: str) -> str:
        gain = r.gain(protocol)
        word = "beats" if round(100 * gain, 1) > 0 else "does **not** beat"  # +0.0 is no gain
        return f"{protocol}: pace pretraining {word} random initialisation, {100 * gain:+.1f} top-1 points"

    rows = []
    labelled_pretext = r.experiment.labelled_pretext_accuracy if r.experiment is not None else None
    for init, name in INIT_NAMES.items():
        pretext = f"{100 * r.pretext_accuracy:.1f}" if init == "pretrained" else "-"
        if init == "pretrained" and r.companion and labelled_pretext is not None:
            pretext = f"{pretext} (companion set) / {100 * labelled_pretext:.1f} (this set)"
        tuned, probe = r.outcomes[(init, "fine-tuned")], r.outcomes[(init, "linear probe")]
        every = r.outcomes.get((init, ALL_LABELS))
        rows.append(f"| {name} | {pretext} | {pct(tuned.top1)} | {pct(probe.top1)} | "
                    f"{pct(every.top1) if every is not None else '-'} | {pct(tuned.top5)} |")
    seeds = f"mean ± std over {n} seeds" if n > 1 else "one seed"
    paces = pace_labels(cfg)
    lines = [
        "# pacekit quickstart",
        "",
        f"Pace prediction pretraining (Wang, Jiao, Liu, ECCV 2020) on the built-in synthetic dataset "
        f"({cfg.synthetic_classes} motion classes), backbone `{cfg.backbone}`, {cfg.clip_len}x{cfg.crop}x{cfg.crop} "
        f"clips; then {cfg.labels_per_class or 'all'} labelled training videos per class, and the 10-clip "
        f"evaluation on the test split ({seeds}).",
        "",
        *reproduction_section(r),
        "## Results",
        "",
        "| model | pretext: pace accuracy, test (%) | top-1, fine-tuned (%) | top-1, linear probe (%) "
        "| top-1, linear probe, all labels (%) | top-5, fine-tuned (%) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        *(f"- {verdict(protocol)}." for protocol in REPORTED if ("pretrained", protocol) in r.outcomes),
        "",
        "The ± is the spread over seeds: read a gain smaller than it as noise. With few labelled videos and a "
        "small network the absolute accuracies stay low; the comparison, not the level, is the result.",
        "",
        f"Chance is {100 / cfg.synthetic_classes:.1f}% for the actions and {100 / len(paces):.1f}% for the "
        f"{len(paces)} paces ({', '.join(paces)}). The pretext accuracy is measured on {PRETEXT_CLIPS_PER_VIDEO} clips per test "
        f"video, each at a random pace, centre-cropped; the last pretraining epoch's training accuracy was "
        f"{100 * r.pretext_train_accuracy:.1f}%. Test videos come from other scenes (UCF101-style groups) than "
        "the training videos, so only what a network learned about the motion carries over.",
        "",
        *_companion_section(r),
        *pace_by_class_section(r),
        *_experiment_sections(r),
        "![pace strip](pace_strip.png)",
        "",
        "![training curves](training_curves.png)",
        "",
        "## Settings",
        "",
        f"- pretraining: {cfg.epochs} epochs of the train list x{cfg.epoch_repeat}, batch {cfg.batch_size}, "
        f"{cfg.optimizer} lr {cfg.lr} (x{cfg.lr_gamma} every {cfg.lr_step} epochs), weight decay {cfg.weight_decay}, "
        f"contrastive: {cfg.contrastive}",
        f"- fine-tuning: {cfg.ft_epochs} epochs of the labelled subset x{cfg.ft_epoch_repeat}, batch "
        f"{cfg.ft_batch_size}, lr {cfg.finetune_lr} (x{cfg.lr_gamma} every {cfg.ft_lr_step} epochs); the linear probe "
        f"fits only an fc on the frozen backbone's features of {cfg.ft_epoch_repeat} augmented clips per labelled "
        f"video (BatchNorm in eval mode), {cfg.probe_steps} full-batch AdamW steps at lr {r.probe_lr}; every "
        "initialisation sees the same videos, clips and augmentations",
        f"- input: {cfg.input_mode} clips" + INPUT_NOTES.get(cfg.input_mode, "")
        + f", frames resized to {cfg.frame_size[0]}x{cfg.frame_size[1]}, colour jitter: {cfg.jitter or 'none'}; "
        f"data `{cfg.root}`" + (f", pretraining data `{r.pretrain_root}` (speed spread {r.pretrain_speed_spread:g}x)"
                                 if r.companion else "") + f"; seed {cfg.seed}",
        "",
        "## Time",
        "",
        "| step | seconds |",
        "|---|---|",
        *(f"| {name} | {sec:.0f} |" for name, sec in r.seconds.items()),
        "",
    ]
    return "\n".join(lines)


def _companion_section(r: QuickstartResult) -> list[str]:
    """What the pretraining read when it was not the labelled set (empty otherwise)."""
    if not r.companion:
        return []
    labelled = r.experiment.labelled_pretext_accuracy if r.experiment is not None else None
    on_labelled = (f"; the same network on this set's test clips (each action at its own speed): "
                   f"{100 * labelled:.1f}%" if labelled is not None else "")
    return [
        "## The pretraining set",
        "",
        f"The pretraining read a companion of this set (`{r.pretrain_root}`): the same videos, scenes and split, "
        f"with the actions' natural speeds pulled together to a spread of {r.pretrain_speed_spread:g}x, the "
        f"fastest over the slowest (this set: {NATIVE_SPEED_SPREAD:g}x)"
        + (", so every action moves at one speed and a clip's pace can be read from its speed alone. "
           if r.pretrain_speed_spread == 1 else ", so a clip's speed says more about its pace there than here. ")
        + "Its test split's pace accuracy is the table's first figure, "
        f"{100 * r.pretext_accuracy:.1f}%{on_labelled}. Fine-tuning, the linear probe, retrieval and attention "
        "use this set, as the paper pretrains on Kinetics-400 and fine-tunes on UCF101 (Sec. 4.1).",
        "",
    ]


def pace_by_class_section(r: QuickstartResult) -> list[str]:
    """The pretext answers split by action class: whether the network reads pace against each action's own
    speed or reads the absolute speed (empty when the run has no such split). On the labelled set's test clips
    when the pretraining read a companion set."""
    by_class = shown_split(r.experiment) if r.experiment is not None else None
    if by_class is None:
        return []
    speeds = natural_speeds_of(r.config, by_class.classes)
    accuracy, error = by_class.accuracy(), by_class.mean_error()
    order = np.argsort(speeds, kind="stable") if speeds is not None else np.arange(len(by_class.classes))
    clips = (f"The pretrained network's pace answers on this set's test clips ({PRETEXT_CLIPS_PER_VIDEO} clips per "
             "video, each at a random pace, as on the companion set)" if r.companion else "The pretext test clips above")
    lines = [
        "## Which actions' paces it misreads",
        "",
        clips + ", split by the action of their video: the share answered right and the mean "
        "error in pace steps (predicted minus true; below 0 the clips are read as slower than they are, above 0 "
        "as faster)" + (", the classes from the slowest natural speed to the fastest." if speeds is not None else "."),
        "",
        "| action | " + ("natural speed (px/frame) | " if speeds is not None else "") + "clips | pace accuracy (%) "
        "| mean error (pace steps) |",
        "|---|" + ("---|" if speeds is not None else "") + "---|---|---|",
    ]
    for k in order:
        speed = f"{speeds[k]:.2f} | " if speeds is not None else ""
        lines.append(f"| {by_class.classes[k]} | {speed}{int(by_class.counts[k].sum())} | "
                     f"{_share(accuracy[k])} | {error[k]:+.2f} |")
    lines.append("")
    r_speed = by_class.error_correlation(speeds) if speeds is not None else None
    if r_speed is not None:
        lines += [f"Correlation of the classes' natural speed with their mean error: r = {r_speed:+.2f}. A network "
                  "that judged each clip against its own action's speed would show none; one that reads the "
                  "absolute speed, so that slow actions come out slow and fast ones fast, a strong positive r.", ""]
    lines += [f"![pace error by class]({PACE_ERROR_FIGURE})", ""]
    return lines


def _experiment_sections(r: QuickstartResult) -> list[str]:
    """The random baseline's prediction histogram and the retrieval table (when the run measured them)."""
    if r.experiment is None:
        return []
    e = r.experiment
    lines = []
    first = e.outcome("random", PROTOCOLS[0])
    classes = first.classes or [f"class {c}" for c in range(len(first.predicted_counts))]
    lines += [
        "## What the random baseline predicts",
        "",
        f"Test videos predicted as each class by the randomly initialised models ({first.coverage} test videos "
        "evaluated; a model that predicts one class for every video has all of them in one column):",
        "",
        "| random init | " + " | ".join(classes) + " |",
        "|---|" + "---|" * len(classes),
        "| true labels | " + " | ".join(str(n) for n in first.label_counts) + " |",
    ]
    for protocol in PROTOCOLS:
        for k, seed in enumerate(e.seeds):
            o = e.outcome("random", protocol, seed)
            name = protocol + (f", seed {seed}" if len(e.seeds) > 1 else "")
            lines.append(f"| {name} | " + " | ".join(str(n) for n in o.predicted_counts) + " |")
    lines.append("")
    if e.retrieval:
        ks = sorted({k for rows in e.retrieval.values() for row in rows for k in row.topk})
        lines += [
            "## Retrieval",
            "",
            "Each test video queries the training videos by cosine similarity of the frozen backbone's features "
            "(paper 4.4); top-k is the share of queries with a video of their class among the k nearest. "
            "Chance is the top-k of a random ranking of the same gallery.",
            "",
            "| model | feature | " + " | ".join(f"top-{k} (%)" for k in ks) + " |",
            "|---|---|" + "---|" * len(ks),
        ]
        chance_rows: dict[str, dict[int, float]] = {}
        for init, rows in e.retrieval.items():
            for row in rows:
                lines.append(f"| {INIT_NAMES[init]} | {row.feature} | "
                             + " | ".join(f"{100 * row.topk[k]:.1f}" for k in ks) + " |")
                chance_rows[row.feature] = row.chance
        for chance in list(chance_rows.values())[:1]:  # chance depends on the labels only, not on the feature
            lines.append("| chance | any | " + " | ".join(f"{100 * chance[k]:.1f}" for k in ks) + " |")
        lines += ["", *(f"- `{row.feature}`: {row.description}" for row in next(iter(e.retrieval.values()))),
                  *(f"- `{feature}`: not measured: {why}" for feature, why in e.retrieval_skipped.items()), ""]
    if e.attention_scores:
        lines += [
            "## Where the network looks (Fig. 5)",
            "",
            # a result written before the stage was recorded read conv5
            f"Share of the {e.attention_stage or 'conv5'} activation attention (and of the Grad-CAM of the predicted "
            "pace) that falls inside the ground-truth mover masks, on every test video at each of Fig. 5's paces 1-4 "
            "(one clip each from the video's first frame, the masks brought to the network's view). Chance is the "
            "masks' share of the frame: a map that ignores the mover scores about that."
            + (" The stage is the deepest whose map is at least Fig. 5's 7x7 conv5 grid "
               "(`pacekit.evaluation.attention.fig5_stage`)." if e.attention_stage else ""),
            "",
            "| model | attention in the masks (%) | Grad-CAM in the masks (%) | chance (%) |",
            "|---|---|---|---|",
        ]
        for init, scores in e.attention_scores.items():
            att, cam = scores["attention"], scores.get("grad-cam", [float("nan"), float("nan")])
            draws = e.attention_draws.get(init, {}).get("attention", [])
            name = INIT_NAMES[init] + (f", mean of {len(draws)} networks" if len(draws) > 1 else "")
            lines.append(f"| {name} | {_share(att[0])} | {_share(cam[0])} | {100 * att[1]:.1f} |")
        lines.append("")
        lines.append("n/a: the maps have no mass at all (a Grad-CAM is zero where no channel's gradient-weighted "
                     "activation is positive), so no share can be computed.")
        random_draws = [x for x in e.attention_draws.get("random", {}).get("attention", []) if math.isfinite(x)]
        if len(random_draws) > 1:
            lines += ["", f"Random initialisation is scored on the random network of each transfer seed "
                          f"({', '.join(map(str, e.seeds))}), as its fine-tuning and probe are, and its share is their "
                          f"mean: one network alone put {_share(min(random_draws))}% to {_share(max(random_draws))}% "
                          "of its attention inside the masks."]
        if {"random", "pretrained"} <= set(e.attention_scores):
            ratio = e.attention_scores["pretrained"]["attention"][0] / max(e.attention_scores["random"]["attention"][0], 1e-9)
            lines += ["", f"Pretrained / random init: {ratio:.2f}x the attention share inside the masks."]
        lines.append("")
    return lines


def _of_networks(e) -> str:
    """The words " (mean of N random networks)" when random initialisation's attention share averages several."""
    n = len(e.attention_draws.get("random", {}).get("attention", []))
    return f" (mean of {n} random networks)" if n > 1 else ""


def _share(value: float) -> str:
    return f"{100 * value:.1f}" if math.isfinite(value) else "n/a"


__all__ = ["INPUT_NOTES", "format_report", "pace_by_class_section", "reproduction_section"]
