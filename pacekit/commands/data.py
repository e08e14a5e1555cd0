"""Data commands: ``pacekit make-synthetic``, ``pacekit info`` and ``pacekit prepare``."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..data.prepare import prepare_dataset
from ..data.readers import VideoDecodeError, open_video, probe_video
from ..data.splits import DATASETS, SplitError, read_split
from ..data.synthetic import FORMAT_VERSION, FORMAT_VERSIONS, build_synthetic
from .flags import non_negative_int, positive_int

SUBSETS = {"kinetics400": ("train", "val"), "folder": ("train", "test")}


@dataclass
class SubsetInfo:
    subset: str
    classes: list[str]
    per_class: Counter
    frames: list[int] = field(default_factory=list)
    fps: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    undecodable: list[tuple[str, str]] = field(default_factory=list)
    partly_decodable: list[tuple[str, int, int, str]] = field(default_factory=list)  # name, decode, listed, why

    @property
    def num_videos(self) -> int:
        return sum(self.per_class.values())


def scan_subset(dataset: str, root, subset: str, split: int = 1, decode: bool = True,
                progress: bool = True) -> Optional[SubsetInfo]:
    """Count a subset's videos per class and read each video's frame count and fps.

    With ``decode=True`` every frame of every video is decoded once (without converting it), which
    finds corrupt files and files that decode only in part, with how many of their frames decode.
    With ``decode=False`` only the headers are read. Returns None when the subset does not exist for
    this root (e.g. a folder dataset without a test folder).
    """
    try:
        index = read_split(dataset, root, subset, split)
    except SplitError:
        if dataset in ("folder", "kinetics400") and subset != "train":
            return None
        raise
    info = SubsetInfo(subset, index.classes, Counter(r.label for r in index.records), missing=list(index.missing),
                      duplicates=list(getattr(index, "duplicates", [])))
    from tqdm.auto import tqdm

    for record in tqdm(index.records, desc=f"scan {subset}", unit="video", disable=not progress):
        try:
            if decode:
                probe = probe_video(record.path)
                if probe.undecodable:
                    info.undecodable.append((record.name, probe.problem or "no frame decodes"))
                    continue
                if probe.partly_decodable:
                    info.partly_decodable.append((record.name, probe.decodable_frames, probe.listed_frames,
                                                  probe.problem or "the file is cut short"))
                    continue
                info.frames.append(probe.decodable_frames)
                info.fps.append(probe.fps)
            else:
                with open_video(record.path) as reader:
                    info.frames.append(reader.num_frames)
                    info.fps.append(reader.fps)
        except (VideoDecodeError, FileNotFoundError) as exc:
            info.undecodable.append((record.name, str(exc)))
    return info


def format_info(dataset: str, root, infos: list[SubsetInfo], split: int, all_classes: bool = False) -> str:
    """The report of ``pacekit info``: totals, then per-class counts (classes with videos, or all)."""
    lines = [f"{dataset} at {root} (split {split})"]
    total = sum(i.num_videos for i in infos)
    problems = sum(len(i.undecodable) + len(i.partly_decodable) + len(i.missing) for i in infos)
    lines.append(f"{total} videos listed in {len(infos)} subsets; {problems} missing, undecodable or partly "
                 "decodable" + (" (listed below)" if problems else ""))
    for info in infos:
        lines.append(f"\n[{info.subset}] {info.num_videos} videos in {len(info.per_class)} of "
                     f"{len(info.classes)} classes")
        if info.frames:
            f = info.frames
            lines.append(f"  frames per video: min {min(f)}, median {statistics.median(f):g}, max {max(f)}, "
                         f"mean {statistics.fmean(f):.1f}")
            fps = Counter(round(x, 2) for x in info.fps)
            lines.append("  fps: " + ", ".join(f"{k:g} ({v})" for k, v in fps.most_common(5)))
        shown = [(label, name) for label, name in enumerate(info.classes)
                 if all_classes or info.per_class.get(label, 0)]
        width = max((len(name) for _, name in shown), default=10)
        for label, name in shown:
            lines.append(f"  {label:4d} {name:<{width}} {info.per_class.get(label, 0):6d}")
        hidden = len(info.classes) - len(shown)
        if hidden:
            lines.append(f"  ({hidden} classes with no video here not shown; --all-classes shows them)")
        _list_problems(lines, "missing on disk", info.missing)
        _list_problems(lines, "listed twice (the repeat is dropped)", info.duplicates)
        _list_problems(lines, "undecodable", [f"{name}: {why}" for name, why in info.undecodable])
        _list_problems(lines, "partly decodable (left out of training and evaluation)",
                       [f"{name}: {got} of {listed or '?'} frames decode ({why})"
                        for name, got, listed, why in info.partly_decodable])
    return "\n".join(lines)


def _list_problems(lines: list[str], what: str, items: list[str], limit: int = 20) -> None:
    if not items:
        return
    lines.append(f"  {what}: {len(items)}")
    lines.extend(f"    {item}" for item in items[:limit])
    if len(items) > limit:
        lines.append(f"    ... and {len(items) - limit} more")


def cmd_info(args) -> int:
    subsets = SUBSETS.get(args.dataset, ("train", "test"))
    if args.dataset == "hmdb51":
        subsets = ("train", "test", "unused")
    infos = [i for s in subsets if (i := scan_subset(args.dataset, args.root, s, args.split, not args.no_decode))]
    print(format_info(args.dataset, args.root, infos, args.split, args.all_classes))
    return 0


def cmd_prepare(args) -> int:
    report = prepare_dataset(args.root, args.out, args.short_side, args.quality, args.workers)
    print(report)
    if report.failed:
        print(f"the videos that failed are listed, with why, in {Path(args.out) / 'prepare_failures.txt'}")
    return 0


PREPARE_INTERRUPT_HINT = ("interrupted; re-run the same `pacekit prepare` command to go on: finished packs are "
                          "checked and kept, the rest are converted")


def cmd_make_synthetic(args) -> int:
    extra = {} if args.version is None else {"version": args.version}
    if args.speed_spread is not None:
        extra["speed_spread"] = args.speed_spread
    summary = build_synthetic(args.out, num_classes=args.classes, videos_per_class=args.videos_per_class,
                               seed=args.seed, width=args.width, height=args.height, **extra)
    print(summary)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("make-synthetic", help="write the built-in synthetic action dataset (UCF101 layout)")
    p.add_argument("--out", required=True, help="folder to write it to (reused if already complete)")
    p.add_argument("--classes", type=positive_int, default=10, help="number of action classes (default 10)")
    p.add_argument("--videos-per-class", type=positive_int, default=40, help="videos per class (default 40)")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--width", type=positive_int, default=160)
    p.add_argument("--height", type=positive_int, default=120)
    p.add_argument("--version", type=int, choices=FORMAT_VERSIONS, default=None,
                   help=f"format version: {FORMAT_VERSION} (default) is made for the lesson: ten actions with large "
                        "articulated and textured bodies at class-specific speeds, each in its own colours, among "
                        "16-22 static distractors, mover masks beside each video; 5 draws the same movers among 3-5 "
                        "distractors; 4 draws version 5's videos with random colours on the movers; 3 draws the "
                        "figure set's ten movers (also with masks), 1 small objects without masks")
    p.add_argument("--speed-spread", type=float, default=None, metavar="RATIO",
                   help="versions 3 to 6: pull the actions' natural speeds together so the fastest is RATIO times "
                        "the slowest (1: one speed for every action, so the pace can be told from the speed alone); "
                        "default: the classes' own speeds (4x apart). The same seed draws the same videos, scenes "
                        "and split")
    p.set_defaults(func=cmd_make_synthetic)

    p = subparsers.add_parser("info", help="counts per split and class, frame/fps statistics, missing or bad files")
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--root", required=True, help="the dataset folder (original or prepared)")
    p.add_argument("--split", type=int, default=1, help="official split number for UCF101/HMDB51 (1-3)")
    p.add_argument("--no-decode", action="store_true",
                   help="read headers only; skip decoding every frame (which finds broken and partly decodable files)")
    p.add_argument("--all-classes", action="store_true", help="list every class, also those with no video here")
    p.set_defaults(func=cmd_info)

    p = subparsers.add_parser("prepare", help="convert a dataset to pacekit's fast prepared format (frame packs)")
    p.add_argument("--root", required=True, help="the dataset as downloaded")
    p.add_argument("--out", required=True, help="where the prepared copy goes (same layout, .jpack files)")
    p.add_argument("--short-side", type=int, default=128,
                   help="resize frames to this short side, at least 16 (default 128)")
    p.add_argument("--quality", type=int, default=90, help="JPEG quality, 1-100 (default 90)")
    p.add_argument("--workers", type=int, default=None, help="parallel processes, at least 1 (default: all cores)")
    p.set_defaults(func=cmd_prepare, interrupt_hint=PREPARE_INTERRUPT_HINT)
