"""`pacekit prepare`'s speed: frames per second per core, and its JPEG encoder against torchvision's.

In one run, on the same decoded frames (resized to short side 128 as prepare does): Pillow's encoder
(libjpeg-turbo, what prepare uses) against ``torchvision.io.encode_jpeg`` (what it used before) at torch's
default thread count, which prepare's workers had, and at one thread, alternating rounds, with a check that
they give the same bytes; then whole ``prepare_video`` calls (decode, resize, encode, write) in frames per
second.

    python benchmarks/bench_prepare.py                 # real UCF101 clips beside the repo if present
    python benchmarks/bench_prepare.py --videos DIR    # any folder of videos

Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
from _machine import REPO, cpu_name, usable_cores  # benchmarks/ is on sys.path when run as a script

DEFAULT_VIDEOS = REPO.parent / "shared" / "data" / "videos" / "ucf101"


def decoded_frames(videos: list[Path], short_side: int):
    import av

    from pacekit.data.prepare import short_side_size

    frames = []
    for path in videos:
        with av.open(str(path), metadata_errors="ignore") as container:
            for frame in container.decode(video=0):
                h, w = short_side_size(frame.height, frame.width, short_side)
                frames.append(frame.to_ndarray(format="rgb24", height=h, width=w))
    return frames


def encode_pil(rgb, quality: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def encode_torchvision(rgb, quality: int) -> bytes:
    from torchvision.io import encode_jpeg

    return encode_jpeg(torch.from_numpy(rgb).permute(2, 0, 1), quality=quality).numpy().tobytes()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=Path, default=DEFAULT_VIDEOS)
    p.add_argument("--short-side", type=int, default=128)
    p.add_argument("--quality", type=int, default=90)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    videos = sorted(v for v in args.videos.glob("*") if v.suffix.lower() in (".avi", ".mp4", ".mkv", ".mov"))
    if not videos:
        raise SystemExit(f"no videos in {args.videos}; pass --videos DIR")
    machine = {"cpu": cpu_name(), "cores": usable_cores(), "python": platform.python_version(),
               "torch": torch.__version__, "date": time.strftime("%Y-%m-%d")}
    default_threads = torch.get_num_threads()
    frames = decoded_frames(videos, args.short_side)
    same = all(encode_pil(f, args.quality) == encode_torchvision(f, args.quality) for f in frames)
    for r in range(args.rounds):
        for name, encode, threads in (("pillow", encode_pil, default_threads),
                                      ("torchvision", encode_torchvision, default_threads),
                                      ("torchvision", encode_torchvision, 1)):
            torch.set_num_threads(threads)
            t = time.perf_counter()
            for f in frames:
                encode(f, args.quality)
            rate = len(frames) / (time.perf_counter() - t)
            print(json.dumps({"bench": "jpeg-encode", "encoder": name, "torch_threads": threads, "round": r,
                              "frames": len(frames),
                              "frames_per_s": round(rate, 1), "same_bytes": same, **machine}))
    torch.set_num_threads(default_threads)
    from pacekit.data.prepare import prepare_video

    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            t, n = time.perf_counter(), 0
            for i, v in enumerate(videos):
                n += prepare_video(v, Path(tmp) / f"{r}_{i}.jpack", args.short_side, args.quality)[0]
            print(json.dumps({"bench": "prepare_video", "round": r, "videos": len(videos), "frames": n,
                              "frames_per_s": round(n / (time.perf_counter() - t), 1), **machine}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
