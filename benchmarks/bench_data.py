"""Data-loading throughput: pace clips per second per CPU worker, pacekit against the authors' approach.

Each pipeline makes the same thing -- a 16-frame clip at a random pace from {1, 2, 3, 4}, resized to
128x171, cropped to 112x112, flipped, with colour jitter drawn per frame -- from the same videos, in the
same run, on one core (one loader worker):

- ``authors``: JPEG frames read one at a time with OpenCV, resized with OpenCV, per-frame PIL
  ColorJitter(0.8, 0.8, 0.8, 0.2) applied with p = 0.8 (the authors' code: frames extracted at the
  video's own size, as their ``frame%06d.jpg`` folders).
- ``pacekit-raw-decord`` / ``pacekit-raw-pyav``: pacekit's dataset on the original videos, read with
  decord or with PyAV (the default; restart the decoder at the last keyframe before the clip and decode
  forward), resized while decoding. Both return exactly the frames a sequential decode gives
  (``tests/test_golden_frames.py``); decord does so on AVIs only by decoding from the first frame.
- ``pacekit-prepared``: pacekit's dataset on its prepared frame packs (batched libjpeg-turbo decode).

pacekit splits the work: loader workers decode, and augmentation runs batched on the GPU. Decoding and
augmentation are timed separately; ``augment-cpu`` is what augmentation costs when it runs on the CPU.

    python benchmarks/bench_data.py                 # real UCF101 clips beside the repo if present
    python benchmarks/bench_data.py --videos DIR    # any folder of videos
    python benchmarks/bench_data.py --seconds 5 --json results.json

Prints one JSON line per measurement and a summary table.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _machine import cpu_name, usable_cores  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
SHARED_UCF101 = REPO.parent / "shared" / "data" / "videos" / "ucf101"
CLIP_LEN, MAX_PACE, CROP = 16, 4, 112


def machine() -> str:
    return (f"{cpu_name()}, {usable_cores()} cores visible, 1 used; torch {torch.__version__}, "
            f"Python {platform.python_version()}")


def synthetic_videos(folder: Path, count: int = 5) -> list[Path]:
    """320x240 MPEG-4 AVIs with moving textured content, when no real clips are present."""
    import av

    rng = np.random.default_rng(0)
    paths = []
    for v in range(count):
        path = folder / f"synthetic_{v}.avi"
        texture = rng.integers(0, 256, (240, 640, 3), dtype=np.uint8)
        with av.open(str(path), "w") as container:
            stream = container.add_stream("mpeg4", rate=25)
            stream.width, stream.height, stream.pix_fmt, stream.bit_rate = 320, 240, "yuv420p", 1_500_000
            for i in range(150 + 30 * v):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(texture[:, i % 320 : i % 320 + 320]), format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        paths.append(path)
    return paths


def extract_jpeg_folders(videos: list[Path], out: Path) -> list[tuple[Path, int]]:
    """The authors' input: every frame as ``frame%06d.jpg`` (1-based) at the video's own size."""
    import av
    from torchvision.io import encode_jpeg

    folders = []
    for video in videos:
        folder = out / video.stem
        folder.mkdir(parents=True, exist_ok=True)
        n = 0
        with av.open(str(video), metadata_errors="ignore") as container:
            for n, frame in enumerate(container.decode(video=0), start=1):
                rgb = torch.from_numpy(frame.to_ndarray(format="rgb24")).permute(2, 0, 1)
                (folder / f"frame{n:06d}.jpg").write_bytes(encode_jpeg(rgb, quality=90).numpy().tobytes())
        folders.append((folder, n))
    return folders


def authors_pipeline(folders):
    """One clip the authors' way: cv2.imread per frame, cv2.resize, crop, flip, per-frame PIL jitter."""
    import cv2
    from PIL import Image
    from torchvision import transforms

    jitter = transforms.RandomApply([transforms.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8)

    def decode():
        folder, n = random.choice(folders)
        rate = random.randint(1, MAX_PACE)
        start = random.randint(1, n)
        frames, idx = [], 0
        for _ in range(CLIP_LEN):
            frames.append(cv2.imread(str(folder / f"frame{start + idx * rate:06d}.jpg")))
            if start + (idx + 1) * rate > n:
                start, idx = 1, 0
            else:
                idx += 1
        return frames

    def augment(frames):
        clip = np.stack([cv2.resize(f, (171, 128)) for f in frames])
        top, left = random.randint(0, 128 - CROP), random.randint(0, 171 - CROP)
        clip = clip[:, top : top + CROP, left : left + CROP]
        if random.random() < 0.5:
            clip = clip[:, :, ::-1]
        out = [np.array(jitter(Image.fromarray(np.ascontiguousarray(f)))) for f in clip]
        return np.stack(out).transpose(3, 0, 1, 2)

    return decode, augment


def pacekit_pipeline(paths, backend="auto"):
    """pacekit's dataset with its defaults (the 'fit' start policy), decoding with ``backend``."""
    from pacekit.data import ClipAugment, VideoDataset, VideoRecord

    dataset = VideoDataset([VideoRecord(Path(p), 0, str(p)) for p in paths], ["x"], mode="pace",
                           clip_len=CLIP_LEN, pace_set="relative", frame_size=(128, 171), backend=backend)
    augment = ClipAugment(size=None, crop=CROP, jitter="frame")
    counter = iter(range(10**9))

    def decode():
        dataset.set_epoch(next(counter))
        return dataset[random.randrange(len(dataset))]["video"]

    def augment_one(clip):
        return augment(clip.unsqueeze(0))

    return decode, augment_one


def measure(fn, seconds: float, arg_source=None) -> float:
    """Calls per second of ``fn`` over at least ``seconds`` (after two warm-up calls)."""
    args = arg_source if arg_source is not None else None
    for _ in range(2):
        fn() if args is None else fn(args())
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn() if args is None else fn(args())
        count += 1
    return count / (time.perf_counter() - start)


def run(videos: list[Path], seconds: float, source: str, work: Path) -> list[dict]:
    from pacekit.data.prepare import prepare_dataset

    torch.set_num_threads(1)
    random.seed(0)
    folders = extract_jpeg_folders(videos, work / "jpeg")
    raw_root = work / "raw"
    raw_root.mkdir()
    for v in videos:
        (raw_root / v.name).symlink_to(v.resolve())
    prepare_dataset(raw_root, work / "prepared", short_side=128, workers=1, progress=False)
    packs = sorted((work / "prepared").glob("*.jpack"))

    results = []
    pipelines = {
        "authors": authors_pipeline(folders),
        "pacekit-raw-decord": pacekit_pipeline(videos, "decord"),
        "pacekit-raw-pyav": pacekit_pipeline(videos, "pyav"),
        "pacekit-prepared": pacekit_pipeline(packs),
    }
    for name, (decode, augment) in pipelines.items():
        sample = decode()
        decode_rate = measure(decode, seconds)
        augment_rate = measure(augment, seconds, arg_source=lambda s=sample: s)
        both = 1.0 / (1.0 / decode_rate + 1.0 / augment_rate)
        results.append({"pipeline": name, "decode_clips_per_s": round(decode_rate, 1),
                        "augment_cpu_clips_per_s": round(augment_rate, 1),
                        "decode_plus_cpu_augment_clips_per_s": round(both, 1),
                        "videos": len(videos), "source": source})
    ref = results[0]["decode_plus_cpu_augment_clips_per_s"]
    for r in results:
        # What one worker delivers: pacekit's workers only decode (augmentation runs on the GPU);
        # the authors' workers do both.
        r["per_worker_clips_per_s"] = r["decode_plus_cpu_augment_clips_per_s"] if r["pipeline"] == "authors" else r["decode_clips_per_s"]
        r["speedup_vs_authors"] = round(r["per_worker_clips_per_s"] / ref, 2)
        r["speedup_vs_authors_all_on_cpu"] = round(r["decode_plus_cpu_augment_clips_per_s"] / ref, 2)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=Path, help="folder of videos (default: real UCF101 clips, else synthetic)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.videos:
            videos, source = sorted(p for p in args.videos.iterdir() if p.is_file()), str(args.videos)
        elif SHARED_UCF101.is_dir():
            videos, source = sorted(SHARED_UCF101.glob("*.avi")), "real UCF101 clips (5, 320x240)"
        else:
            (work / "synthetic").mkdir()
            videos, source = synthetic_videos(work / "synthetic"), "synthetic 320x240 AVIs"
        results = run(videos, args.seconds, source, work)
    info = {"machine": machine(), "date": time.strftime("%Y-%m-%d")}
    for r in results:
        print(json.dumps({**r, **info}))
    print(f"\n{info['machine']}\n{source}; clips/s on one core (16 frames, pace 1-4, 112x112, per-frame jitter)")
    print(f"{'pipeline':<20}{'decode':>9}{'augment(cpu)':>14}{'both(cpu)':>11}{'per worker':>12}{'x authors':>11}")
    for r in results:
        print(f"{r['pipeline']:<20}{r['decode_clips_per_s']:>9.1f}{r['augment_cpu_clips_per_s']:>14.1f}"
              f"{r['decode_plus_cpu_augment_clips_per_s']:>11.1f}{r['per_worker_clips_per_s']:>12.1f}"
              f"{r['speedup_vs_authors']:>11.2f}")
    if args.json:
        args.json.write_text(json.dumps({"info": info, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
