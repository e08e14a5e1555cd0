"""Video readers: correctness against a full sequential decode, and pace clips per second, per container.

For every real sample video beside the repository (UCF101 and HMDB51 AVIs, Kinetics-style H.264 MP4s),
each backend reads random 16-frame pace clips (pace 1-4, a fresh reader per clip as pacekit's datasets
open them, frames resized to 128x171 while decoding), on one core:

- ``pyav``: pacekit's :class:`~pacekit.data.readers.PyAVReader` (the default for AVIs);
- ``decord``: pacekit's :class:`~pacekit.data.readers.DecordReader`;
- ``torchcodec``: PyTorch's decoder (``VideoDecoder(seek_mode="exact").get_frames_at``), measured
  only when it is importable (it needs FFmpeg's shared libraries on the system);
- ``prepared``: pacekit's frame packs made by ``pacekit prepare``.

Correctness is measured at the native size: the share of requested frames equal to the sequential
decode's frame of that index (``exact``; mean absolute difference 0) and within 0.5 grey levels
(``close``). Prints one JSON line per (backend, container) and a summary table.

    python benchmarks/bench_readers.py [--seconds 4] [--json out.jsonl]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _machine import cpu_name, usable_cores  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from pacekit.data.prepare import prepare_video  # noqa: E402
from pacekit.data.readers import VideoDecodeError, open_video  # noqa: E402

SAMPLES = REPO.parent / "shared" / "data" / "videos"
GROUPS = {"UCF101 AVI (MPEG-4)": "ucf101/*.avi", "HMDB51 AVI (MPEG-4)": "hmdb51/*.avi",
          "Kinetics MP4 (H.264)": "kinetics/*.mp4"}
CLIP_LEN, SIZE = 16, (128, 171)


def sequential_decode(path) -> list[np.ndarray]:
    import av

    with av.open(str(path), metadata_errors="ignore") as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def torchcodec_reader(path, size=None):
    """A callable ``indices -> uint8 (N, H, W, C)`` over torchcodec, or None when it is not installed."""
    try:
        from torchcodec.decoders import VideoDecoder
    except Exception:  # ImportError, or its FFmpeg libraries are missing (RuntimeError/OSError)
        return None
    decoder = VideoDecoder(str(path), seek_mode="exact", num_ffmpeg_threads=1, dimension_order="NHWC")

    def read(indices):
        frames = decoder.get_frames_at([int(i) for i in indices]).data
        if size is not None:
            from torchvision.transforms.v2.functional import resize

            frames = resize(frames.permute(0, 3, 1, 2), list(size), antialias=True).permute(0, 2, 3, 1)
        return frames

    return read, decoder.metadata.num_frames


def make_reader(backend: str, path: Path, packs: dict, size):
    if backend == "torchcodec":
        made = torchcodec_reader(path, size)
        if made is None:
            raise ImportError("torchcodec is not importable")
        return made
    source = packs[path] if backend == "prepared" else path
    reader = open_video(source, "auto" if backend == "prepared" else backend, size=size)
    return reader.get_frames, reader.num_frames


def random_clip(rng, num_frames: int) -> list[int]:
    pace = int(rng.integers(1, 5))
    span = (CLIP_LEN - 1) * pace + 1
    if span > num_frames:
        pace, span = 1, CLIP_LEN
    start = int(rng.integers(0, max(num_frames - span, 0) + 1))
    return [min(start + k * pace, num_frames - 1) for k in range(CLIP_LEN)]


def correctness(backend: str, paths: list[Path], packs: dict) -> dict:
    rng = np.random.default_rng(0)
    exact = close = total = 0
    for path in paths:
        truth = sequential_decode(path)
        for _ in range(8):
            clip = random_clip(rng, len(truth))
            try:
                read, _ = make_reader(backend, path, packs, None)
                frames = read(clip).numpy()
            except VideoDecodeError:
                total += len(clip)
                continue
            for j, i in enumerate(clip):
                diff = np.abs(frames[j].astype(np.float32) - truth[i]).mean() if frames[j].shape == truth[i].shape else 255
                exact += diff == 0
                close += diff <= 0.5
                total += 1
    return {"exact": exact / total, "close": close / total}


def speed(backend: str, paths: list[Path], packs: dict, seconds: float) -> float:
    rng = np.random.default_rng(1)
    counts = {}
    for path in paths:  # frame counts once, outside the timing
        _, counts[path] = make_reader(backend, path, packs, SIZE)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        path = paths[done % len(paths)]
        read, _ = make_reader(backend, path, packs, SIZE)
        read(random_clip(rng, counts[path]))
        done += 1
    return done / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="timing per backend and container")
    parser.add_argument("--json", type=Path, help="also write the JSON lines here")
    args = parser.parse_args(argv)
    if not SAMPLES.is_dir():
        parser.error(f"needs the real sample videos in {SAMPLES}")
    torch.set_num_threads(1)
    machine = (f"{cpu_name()}, {usable_cores()} cores visible, 1 used; torch {torch.__version__}, "
               f"Python {platform.python_version()}")
    print(f"# {machine}", file=sys.stderr)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for group, pattern in GROUPS.items():
            paths = sorted(SAMPLES.glob(pattern))
            packs = {}
            for path in paths:
                packs[path] = Path(tmp) / (path.stem + ".jpack")
                prepare_video(path, packs[path], short_side=128)
            for backend in ("pyav", "decord", "torchcodec", "prepared"):
                try:
                    row = {"container": group, "backend": backend, "videos": len(paths)}
                    if backend != "prepared":  # packs are lossy by design; bench_data.py times them
                        row.update(correctness(backend, paths, packs))
                    row["clips_per_s"] = round(speed(backend, paths, packs, args.seconds), 1)
                except ImportError as exc:
                    row = {"container": group, "backend": backend, "skipped": str(exc)}
                row["machine"] = machine
                print(json.dumps(row), flush=True)
                lines.append(row)
    if args.json:
        args.json.write_text("".join(json.dumps(r) + "\n" for r in lines))
    print("\n| container | backend | frames exact | within 0.5 | clips/s (1 core, 128x171) |", file=sys.stderr)
    print("|---|---|---|---|---|", file=sys.stderr)
    for r in lines:
        if "skipped" in r:
            continue
        ex = f"{100 * r['exact']:.1f}%" if "exact" in r else "(lossy JPEG)"
        cl = f"{100 * r['close']:.1f}%" if "close" in r else "-"
        print(f"| {r['container']} | {r['backend']} | {ex} | {cl} | {r['clips_per_s']} |", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
