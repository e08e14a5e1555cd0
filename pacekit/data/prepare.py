"""The prepared format: frames resized to short side 128 and stored as JPEG in one "frame pack" per video.

Cutting a clip from a raw UCF101 AVI decodes every frame since the previous keyframe, and some files
have a single keyframe for the whole video. A frame pack (see
:class:`pacekit.data.readers.FramePackReader`) stores each frame as its own JPEG behind an offset table,
so a 16-frame clip costs 16 small reads and one batched libjpeg-turbo decode
(``torchvision.io.decode_jpeg``).

``pacekit prepare --root IN --out OUT`` mirrors IN: every video becomes ``<name>.jpack`` at the same
relative path, and the small text files (split lists, CSVs) are copied, so every dataset reads either
form with the same code. It runs in parallel, writes each pack atomically (temp file, then rename),
skips packs that already exist (so an interrupted run resumes), and reports the videos it could not
decode, whole or in part, in ``OUT/prepare_failures.txt`` (no pack is written for them).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import struct
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from .readers import (FRAME_PACK_MAGIC, FRAME_PACK_SUFFIX, VIDEO_SUFFIXES, PartialVideoError, VideoDecodeError,
                      frame_count_tolerance)

COPIED_SUFFIXES = (".txt", ".csv", ".json", ".list")
FAILURES_FILE = "prepare_failures.txt"


def short_side_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(H, W) with the short side scaled to ``short_side``; UCF101's 240x320 becomes 128x171."""
    scale = short_side / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def write_frame_pack(path, frames_jpeg: list[bytes], fps: float, height: int, width: int) -> None:
    """Write JPEG-encoded frames as a frame pack, atomically."""
    path = Path(path)
    header = json.dumps({"num_frames": len(frames_jpeg), "fps": fps, "height": height, "width": width,
                         "format": "jpeg"}).encode("utf-8")
    offsets = np.zeros(len(frames_jpeg) + 1, dtype="<u8")
    offsets[1:] = np.cumsum([len(b) for b in frames_jpeg])
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as f:
        f.write(FRAME_PACK_MAGIC)
        f.write(struct.pack("<I", len(header)))
        f.write(header)
        f.write(offsets.tobytes())
        for blob in frames_jpeg:
            f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def prepare_video(src, dst, short_side: int = 128, quality: int = 90) -> tuple[int, Optional[str]]:
    """Decode ``src`` sequentially with PyAV, resize to ``short_side``, JPEG-encode each frame, write ``dst``.

    Returns ``(frames written, None)``. A video that is partly decodable -- the stream breaks part-way,
    or decodes fewer frames than its container lists beyond :func:`frame_count_tolerance` -- raises
    :class:`PartialVideoError` and no pack is written: a short pack would be read as a whole video.
    """
    import av
    from torchvision.io import encode_jpeg

    blobs, problem, fps, size, listed = [], None, 25.0, None, 0
    try:
        with av.open(str(src), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or stream.guessed_rate or 25.0)
            listed = int(stream.frames or 0)
            for frame in container.decode(stream):
                if size is None:
                    size = short_side_size(frame.height, frame.width, short_side)
                rgb = frame.to_ndarray(format="rgb24", height=size[0], width=size[1])
                blobs.append(encode_jpeg(torch.from_numpy(rgb).permute(2, 0, 1), quality=quality).numpy().tobytes())
    except (av.error.FFmpegError, IndexError, UnicodeDecodeError, OSError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if not blobs:
        raise VideoDecodeError(src, "no decodable frames" + (f" ({problem})" if problem else ""))
    if problem:
        raise PartialVideoError(src, len(blobs), max(listed, len(blobs) + 1), f"the stream breaks: {problem}")
    if listed and listed - len(blobs) > frame_count_tolerance(listed):
        raise PartialVideoError(src, len(blobs), listed)
    write_frame_pack(dst, blobs, fps, size[0], size[1])
    return len(blobs), None


def pack_path_for(out: Path, rel: Path) -> Path:
    return out / rel.with_suffix(FRAME_PACK_SUFFIX)


@dataclass
class PrepareReport:
    converted: int = 0
    skipped: int = 0
    copied: int = 0
    frames: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"prepared {self.converted} videos ({self.frames} frames), skipped {self.skipped} already done, "
                f"copied {self.copied} split/annotation files, {len(self.failed)} failed")
        for rel, why in self.failed[:10]:
            text += f"\n  failed: {rel}: {why}"
        for rel, why in self.warnings[:10]:
            text += f"\n  partial: {rel}: {why}"
        return text


def _convert_one(job):
    src, dst, short_side, quality = job
    try:
        frames, warning = prepare_video(src, dst, short_side, quality)
        return str(src), frames, warning, None
    except Exception as exc:  # one bad video must not stop the whole conversion
        return str(src), 0, None, str(exc)


def prepare_dataset(root, out, short_side: int = 128, quality: int = 90, workers: Optional[int] = None,
                    progress: bool = True) -> PrepareReport:
    """Convert every video under ``root`` into a frame pack under ``out`` (same relative paths).

    Idempotent: existing packs are skipped, so re-running resumes an interrupted conversion.
    """
    root, out = Path(root), Path(out)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root not found: {root}")
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be between 1 and 100, got {quality}")
    if out.resolve() == root.resolve():
        raise ValueError("--out must differ from --root: the prepared copy is written beside the original")
    report = PrepareReport()
    jobs = []
    for src in sorted(root.rglob("*")):
        if not src.is_file():
            continue
        rel = src.relative_to(root)
        if src.suffix.lower() in COPIED_SUFFIXES:
            dst = out / rel
            if not dst.exists() or dst.stat().st_size != src.stat().st_size:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
                report.copied += 1
        elif src.suffix.lower() in VIDEO_SUFFIXES:
            dst = pack_path_for(out, rel)
            if dst.exists():
                report.skipped += 1
            else:
                jobs.append((src, dst, short_side, quality))
    if not jobs and not report.skipped:
        raise FileNotFoundError(f"no videos under {root} (looked for {', '.join(VIDEO_SUFFIXES)})")
    workers = workers or os.cpu_count() or 1
    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), desc="prepare", unit="video", disable=not progress or not jobs)

    def record(result) -> None:
        src, frames, warning, error = result
        rel = str(Path(src).relative_to(root))
        if error:
            report.failed.append((rel, error))
        else:
            report.converted += 1
            report.frames += frames
            if warning:
                report.warnings.append((rel, warning))
        bar.update(1)

    if workers == 1 or len(jobs) < 2:
        for job in jobs:
            record(_convert_one(job))
    else:
        # spawn, not fork: forking a process whose torch/FFmpeg threads hold locks can deadlock the children
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn")) as pool:
            for result in pool.map(_convert_one, jobs, chunksize=4):
                record(result)
    bar.close()
    out.mkdir(parents=True, exist_ok=True)
    failures = out / FAILURES_FILE
    if report.failed:
        failures.write_text("".join(f"{rel}\t{why}\n" for rel, why in report.failed))
    elif failures.exists():
        failures.unlink()
    return report
