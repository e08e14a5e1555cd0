"""Re-encode a dataset's videos to a short side of 128 pixels with PyAV (no system ffmpeg).

One idea: `reencode_tree(src_root, dst_root)` writes `dst_root` with the same relative paths as
`src_root`: every video re-encoded (short side 128, same frame count and frame rate, no audio),
every other small file (split lists, CSVs) copied. So `dst_root` is a dataset root that
`pacekit.data` reads exactly like the original.

- Parallel: one process per video (`jobs` workers, spawn start method: safe beside threads).
- Idempotent: a finished output is written to a temporary name and renamed, so an existing
  output means "done" and is skipped on the next run.
- Failures are reported, not fatal: a video that cannot be re-encoded (e.g. a broken file, of
  which Kinetics has some) is copied unchanged, so `dst_root` stays complete, and it is listed
  in `dst_root/reencode_failures.txt` with the error (the list is kept across runs).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from tqdm.auto import tqdm

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".webm", ".mov")
COPY_SUFFIXES = (".txt", ".csv", ".json")
SKIP_DIRS = ("downloads",)  # archives and markers are not part of a dataset root
FAILURES_FILE = "reencode_failures.txt"


@dataclass
class ReencodeReport:
    encoded: int = 0
    kept_small: int = 0  # videos already at or below the short side: copied unchanged
    copied: int = 0  # other files (split lists, CSVs)
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (relative path, error); copied as is


def scaled_size(width: int, height: int, short_side: int = 128) -> tuple[int, int]:
    """(width, height) scaled so the shorter side is `short_side`, both rounded to even numbers.

    Videos already at or below `short_side` keep their size (no upscaling).
    """
    short = min(width, height)
    if short <= short_side:
        return width, height
    scale = short_side / short

    def even(x: float) -> int:
        return max(2, 2 * round(x / 2))

    return even(width * scale), even(height * scale)


def _codec_for(suffix: str) -> str:
    # MPEG-4 Part 2 in AVI, as UCF101/HMDB51 ship; H.264 in MP4/MKV when PyAV's FFmpeg has x264.
    import av

    if suffix == ".avi" or "libx264" not in av.codecs_available:
        return "mpeg4"
    return "libx264"


def reencode_video(src: Path, dst: Path, short_side: int = 128) -> str:
    """Re-encode one video; returns "encoded", "copied" (already small) or "skipped" (done).

    Keeps every decoded frame, in order, at the source's average frame rate. Raises on failure;
    nothing is left at `dst` then.
    """
    import av

    src, dst = Path(src), Path(dst)
    if dst.exists():
        return "skipped"
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".tmp-{os.getpid()}-{dst.name}")
    try:
        with av.open(str(src), metadata_errors="ignore") as inp:
            vin = inp.streams.video[0]
            vin.thread_type = "AUTO"
            width, height = vin.codec_context.width, vin.codec_context.height
            out_w, out_h = scaled_size(width, height, short_side)
            if (out_w, out_h) == (width, height):
                shutil.copyfile(src, tmp)
                os.replace(tmp, dst)
                return "copied"
            rate = Fraction(vin.average_rate or vin.guessed_rate or 25).limit_denominator(65535)
            codec = _codec_for(dst.suffix.lower())
            with av.open(str(tmp), "w", format=_container_format(dst.suffix)) as out:
                vout = out.add_stream(codec, rate=rate)
                vout.width, vout.height, vout.pix_fmt = out_w, out_h, "yuv420p"
                vout.codec_context.time_base = 1 / rate
                if codec == "libx264":
                    vout.options = {"crf": "23", "preset": "fast"}
                else:  # fixed quantiser 5 (ffmpeg's -q:v 5): good quality, size follows content
                    vout.codec_context.qscale = True
                    vout.codec_context.global_quality = 5 * 118  # 118 = FF_QP2LAMBDA
                count = 0
                for frame in inp.decode(vin):
                    small = frame.reformat(width=out_w, height=out_h, format="yuv420p")
                    small.pts, small.time_base = count, 1 / rate  # constant rate, frame count kept
                    out.mux(vout.encode(small))
                    count += 1
                out.mux(vout.encode(None))
            if count == 0:
                raise ValueError("no frame could be decoded")
        os.replace(tmp, dst)
        return "encoded"
    finally:
        tmp.unlink(missing_ok=True)


def _container_format(suffix: str) -> str:
    return {".avi": "avi", ".mp4": "mp4", ".mkv": "matroska", ".webm": "matroska", ".mov": "mov"}[suffix.lower()]


def _work(job: tuple[str, str, int]) -> tuple[str, str, str | None]:
    src, dst, short_side = job
    try:
        return src, reencode_video(Path(src), Path(dst), short_side), None
    except Exception as err:  # reported, not raised: one bad video must not stop the rest
        error = f"{type(err).__name__}: {err}".replace("\n", " ")
    try:
        shutil.copyfile(src, dst)  # keep the dataset complete: the original, unchanged
    except OSError as err:
        error += f"; copying the original failed too: {err}"
    return src, "failed", error


def _walk(src_root: Path):
    for dirpath, dirnames, filenames in os.walk(src_root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def reencode_tree(
    src_root: Path, dst_root: Path, short_side: int = 128, jobs: int | None = None,
    progress: bool = True, log=print,
) -> ReencodeReport:
    """Mirror `src_root` into `dst_root` with every video re-encoded to `short_side`."""
    src_root, dst_root = Path(src_root), Path(dst_root)
    if src_root.resolve() == dst_root.resolve():
        raise ValueError(f"re-encoding needs a different output folder than the input ({src_root})")
    report = ReencodeReport()
    videos = []
    for path in _walk(src_root):
        rel = path.relative_to(src_root)
        dst = dst_root / rel
        suffix = path.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            if dst.exists():
                report.skipped += 1
            else:
                videos.append((str(path), str(dst), short_side))
        elif suffix in COPY_SUFFIXES and not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst)
            report.copied += 1
    jobs = max(1, jobs or os.cpu_count() or 1)
    if jobs == 1 or len(videos) <= 1:
        results = map(_work, videos)
        pool = None
    else:
        pool = multiprocessing.get_context("spawn").Pool(min(jobs, len(videos)))
        results = pool.imap_unordered(_work, videos, chunksize=4)
    try:
        for src, outcome, error in tqdm(results, total=len(videos), desc="re-encode", disable=not progress):
            if error is not None:
                report.failed.append((str(Path(src).relative_to(src_root)), error))
            elif outcome == "skipped":
                report.skipped += 1
            elif outcome == "copied":
                report.kept_small += 1
            else:
                report.encoded += 1
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    failures = dst_root / FAILURES_FILE
    listed = dict(line.split("\t", 1) for line in failures.read_text().splitlines()) if failures.is_file() else {}
    listed.update(report.failed)
    if listed:
        failures.write_text("".join(f"{rel}\t{err}\n" for rel, err in sorted(listed.items())))
    if report.failed:
        log(f"re-encode: {len(report.failed)} video(s) could not be re-encoded and were copied unchanged; "
            f"listed in {failures}")
        for rel, err in sorted(report.failed)[:10]:
            log(f"  {rel}: {err}")
    log(
        f"re-encode into {dst_root}: {report.encoded} encoded, {report.kept_small} already small "
        f"(copied), {report.skipped} already done, "
        f"{report.copied} other files copied, {len(report.failed)} failed (copied unchanged)"
    )
    return report
