"""Download UCF101 and its official splits, and lay them out for pacekit.

    python data_scripts/get_ucf101.py --out data/ucf101 [--mirror URL] [--reencode] [--prepare]
    python data_scripts/get_ucf101.py --out data/ucf101_mini --subset ucf101-mini --delete-archives --prepare

Result (what `pacekit.data` reads with --root data/ucf101):
    data/ucf101/UCF-101/<Class>/v_<Class>_gXX_cYY.avi     13,320 videos, 101 classes
    data/ucf101/ucfTrainTestlist/classInd.txt, trainlist0{1,2,3}.txt, testlist0{1,2,3}.txt
Archives and markers stay in data/ucf101/downloads/ (delete them, or pass --delete-archives).
With --subset ucf101-mini only that subset's ten classes of split 1 are extracted (the archive is still
downloaded whole: UCF publishes one), and ucfTrainTestlist/ holds the subset's own split files
(pacekit.data.subsets says which classes and why).
Re-running does nothing for the steps already done; an interrupted download resumes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Run, build_parser, finish, join_url, run_cli  # noqa: E402
from _fetch import Expected  # noqa: E402

from pacekit.atomic import write_text_atomic
from pacekit.data.subsets import (  # noqa: E402
    SUBSETS,
    SubsetError,
    get_subset,
    subset_videos,
    ucf101_subset_lists,
    write_subset_lists,
)

DEFAULT_MIRROR = "https://www.crcv.ucf.edu/data/UCF101/"
VIDEOS = "UCF101.rar"
SPLITS = "UCF101TrainTestSplits-RecognitionTask.zip"
# UCF does not publish checksums. The splits zip's size and SHA-256 are the ones that TensorFlow
# Datasets records for this URL (tensorflow_datasets/url_checksums/ucf101.txt). Nothing is
# published for UCF101.rar: its SHA-256 is printed after the download so you can pin it.
PUBLISHED = {
    SPLITS: Expected(size=113943, sha256="5c0d1a53b8ed364a2ac830a73f405e51bece7d98ce1254fd19ed4a36b224bd27"),
}


def check_layout(out: Path) -> tuple[int, int]:
    """(classes, videos) found; SystemExit naming what is missing when the layout is wrong."""
    videos_root, lists = out / "UCF-101", out / "ucfTrainTestlist"
    classes = sorted(p for p in videos_root.iterdir() if p.is_dir()) if videos_root.is_dir() else []
    n_videos = sum(1 for c in classes for _ in c.glob("*.avi"))
    if not classes or n_videos == 0:
        raise SystemExit(f"expected class folders of .avi files in {videos_root}; found none. "
                         f"Is {VIDEOS} from the mirror the UCF101 archive?")
    missing = [n for n in ("classInd.txt", "trainlist01.txt", "testlist01.txt") if not (lists / n).is_file()]
    if missing:
        raise SystemExit(f"expected {', '.join(missing)} in {lists}; is {SPLITS} the recognition-task splits zip?")
    return len(classes), n_videos


def fetch_subset(run: Run, name: str) -> tuple[int, int]:
    """Fetch the official splits, write the subset's split files into OUT, extract only its videos.

    Returns (classes, videos); SystemExit when the folder holds other split files or videos are missing.
    """
    subset = get_subset(name)
    official = run.downloads / "ucfTrainTestlist-official"
    run.fetch_and_extract(join_url(run.mirror, SPLITS), SPLITS, official, PUBLISHED.get(SPLITS, Expected()))
    lists_dir = official / "ucfTrainTestlist"
    try:
        texts = [(lists_dir / f).read_text(errors="replace")
                 for f in ("classInd.txt", f"trainlist0{subset.split}.txt", f"testlist0{subset.split}.txt")]
    except FileNotFoundError as err:
        raise SystemExit(f"expected the official split files in {lists_dir}; {err.filename} is missing. "
                         f"Is {SPLITS} the recognition-task splits zip?") from None
    try:
        lists = ucf101_subset_lists(*texts, subset=subset)
        write_subset_lists(run.out / "ucfTrainTestlist", lists, subset)
    except SubsetError as err:
        raise SystemExit(str(err)) from None
    wanted = {f"ucf-101/{rel}".lower() for rel in subset_videos(lists)}
    run.fetch_and_extract(join_url(run.mirror, VIDEOS), VIDEOS, run.out, PUBLISHED.get(VIDEOS, Expected()),
                          keep=lambda member: member.lower() in wanted, part=subset.name)
    present = {str(p.relative_to(run.out)).lower() for p in (run.out / "UCF-101").rglob("*.avi")}
    missing = sorted(wanted - present)
    if missing:
        raise SystemExit(f"{len(missing)} of the {len(wanted)} videos that {subset.name}'s split files list are not "
                         f"in {run.out / 'UCF-101'} (e.g. {missing[0]}); is {VIDEOS} the UCF101 archive?")
    record = {"subset": subset.name, "dataset": subset.dataset, "split": subset.split,
              "classes": subset.classes, "reason": subset.reason, "videos": len(wanted)}
    write_text_atomic(run.out / "subset.json", json.dumps(record, indent=1) + "\n")
    return len(subset.classes), len(wanted)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], DEFAULT_MIRROR)
    parser.add_argument("--subset", choices=sorted(SUBSETS), default=None,
                        help="extract only this subset's classes of the official split and write its split files "
                             "(ucf101-mini: ten classes of split 1, about 1,400 videos)")
    args = parser.parse_args(argv)
    run = Run.from_args(args)
    if args.subset:
        n_classes, n_videos = fetch_subset(run, args.subset)
        run.log(f"{args.subset} in {run.out}: {n_classes} classes, {n_videos} videos")
        return finish(args, run, "ucf101")
    for name in (SPLITS, VIDEOS):
        url = join_url(run.mirror, name)
        run.fetch_and_extract(url, name, run.out, PUBLISHED.get(name, Expected()))
    n_classes, n_videos = check_layout(run.out)
    run.log(f"UCF101 in {run.out}: {n_classes} classes, {n_videos} videos (the full set has 101 and 13320)")
    return finish(args, run, "ucf101")


if __name__ == "__main__":
    sys.exit(run_cli(main))
