"""Download Kinetics-400 from the CVDF mirror (tar shards of mp4 clips) and lay it out for pacekit.

    python data_scripts/get_kinetics400.py --out data/k400 --split train [--max-shards N]
    python data_scripts/get_kinetics400.py --out data/k400 --split val

Result (what `pacekit.data` reads with --root data/k400):
    data/k400/annotations/train.csv, val.csv     label,youtube_id,time_start,time_end,split
    data/k400/<split>/<youtube_id>_<start:06d>_<end:06d>.mp4
Each shard is downloaded, verified, extracted and marked done, one after another, so an
interrupted run resumes at the shard it stopped in. --max-shards N takes only the first N shards
of the split's list (a partial download, e.g. to try the pipeline); a later run with a larger N,
or without it, goes on from there. --delete-archives frees each shard after extraction.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Run, build_parser, finish, join_url, rewrite_url, run_cli  # noqa: E402

DEFAULT_MIRROR = "https://s3.amazonaws.com/kinetics/400/"
ANNOTATIONS = ("train", "val")
# The CVDF mirror publishes no checksums for the shards or the CSVs; each file's SHA-256 is
# printed and stored in its .done marker (pin one with --sha256 FILE=HEX).


def shard_list_name(split: str) -> str:
    return f"k400_{split}_path.txt"


def read_shard_urls(list_file: Path, mirror: str) -> list[str]:
    """The shard URLs of a k400_<split>_path.txt, pointed at `mirror`."""
    urls = [line.strip() for line in list_file.read_text().splitlines() if line.strip()]
    bad = [u for u in urls if not urlparse(u).scheme]
    if bad:
        raise SystemExit(f"{list_file}: expected one URL per line; got {bad[0]!r}")
    return [rewrite_url(u, DEFAULT_MIRROR, mirror) for u in urls]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(__doc__.splitlines()[0], DEFAULT_MIRROR, rar=False)
    parser.add_argument("--split", choices=ANNOTATIONS, default="train", help="which videos to download")
    parser.add_argument("--max-shards", type=int, default=None, metavar="N",
                        help="download only the first N shards of the split (a partial download)")
    args = parser.parse_args(argv)
    run = Run.from_args(args)

    for split in ANNOTATIONS:  # both CSVs: pretraining uses train, evaluation uses val
        csv = run.fetch(join_url(run.mirror, f"annotations/{split}.csv"), f"{split}.csv")
        target = run.out / "annotations" / f"{split}.csv"
        if not target.is_file() or target.stat().st_size != csv.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(csv.read_bytes())

    name = shard_list_name(args.split)
    list_file = run.fetch(join_url(run.mirror, f"{args.split}/{name}"), name)
    urls = read_shard_urls(list_file, run.mirror)
    if args.max_shards is not None:
        urls = urls[: max(0, args.max_shards)]
    dest = run.out / args.split
    dest.mkdir(parents=True, exist_ok=True)
    for i, url in enumerate(urls, 1):
        shard = Path(urlparse(url).path).name
        run.log(f"[{i}/{len(urls)}] {shard}")
        run.fetch_and_extract(url, f"{args.split}_{shard}", dest)

    n_videos = sum(1 for _ in dest.rglob("*.mp4"))
    run.log(f"Kinetics-400 {args.split} in {dest}: {n_videos} videos from {len(urls)} shard(s)")
    if n_videos == 0:
        raise SystemExit(f"no .mp4 file in {dest}: are the shards from the mirror the K400 video tars?")
    return finish(args, run, "kinetics400")


if __name__ == "__main__":
    sys.exit(run_cli(main))
