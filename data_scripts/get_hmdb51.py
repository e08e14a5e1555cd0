"""Download HMDB51 and its official splits, and lay them out for pacekit.

    python data_scripts/get_hmdb51.py --out data/hmdb51 [--mirror URL] [--reencode] [--prepare]

Result (what `pacekit.data` reads with --root data/hmdb51):
    data/hmdb51/videos/<class>/<name>.avi                      6,766 videos, 51 classes
    data/hmdb51/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt
hmdb51_org.rar is a rar of 51 rars (one per class); both levels are extracted, each inner rar
once (a re-run skips those done). Archives and markers stay in data/hmdb51/downloads/.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Run, build_parser, finish, join_url, run_cli  # noqa: E402

DEFAULT_MIRROR = "http://serre-lab.clps.brown.edu/wp-content/uploads/2013/10/"
VIDEOS = "hmdb51_org.rar"
SPLITS = "test_train_splits.rar"
# The HMDB51 site publishes no size or checksum for either archive; the SHA-256 of each is
# printed after its download so you can pin it with --sha256 FILE=HEX.


def check_layout(out: Path) -> tuple[int, int, int]:
    """(classes, videos, split files) found; SystemExit naming what is missing otherwise."""
    videos_root, splits = out / "videos", out / "testTrainMulti_7030_splits"
    classes = sorted(p for p in videos_root.iterdir() if p.is_dir()) if videos_root.is_dir() else []
    n_videos = sum(1 for c in classes for _ in c.glob("*.avi"))
    if n_videos == 0:
        raise SystemExit(f"expected <class>/<name>.avi under {videos_root}; found none. "
                         f"Is {VIDEOS} from the mirror the HMDB51 archive of per-class rars?")
    n_splits = len(list(splits.glob("*_test_split*.txt")))
    if n_splits == 0:
        raise SystemExit(f"expected <class>_test_split1.txt files in {splits}; found none. Is {SPLITS} right?")
    return len(classes), n_videos, n_splits


def main(argv: list[str] | None = None) -> int:
    args = build_parser(__doc__.splitlines()[0], DEFAULT_MIRROR).parse_args(argv)
    run = Run.from_args(args)
    run.fetch_and_extract(join_url(run.mirror, SPLITS), SPLITS, run.out)
    inner_dir = run.downloads / "hmdb51_org"  # the 51 per-class rars
    run.fetch_and_extract(join_url(run.mirror, VIDEOS), VIDEOS, inner_dir)
    inner = sorted(inner_dir.rglob("*.rar"))
    if not inner and not (run.out / "videos").is_dir():
        raise SystemExit(f"{VIDEOS} held no per-class .rar files (looked in {inner_dir})")
    for i, archive in enumerate(inner, 1):
        run.log(f"[{i}/{len(inner)}] {archive.name}")
        run.extract_local(archive, run.out / "videos")
    n_classes, n_videos, n_splits = check_layout(run.out)
    run.log(f"HMDB51 in {run.out}: {n_classes} classes, {n_videos} videos, {n_splits} split files "
            "(the full set has 51, 6766 and 153)")
    return finish(args, run, "hmdb51")


if __name__ == "__main__":
    sys.exit(run_cli(main))
