"""The prepared format: frames resized to short side 128 and stored as JPEG in one "frame pack" per video.

Cutting a clip from a raw UCF101 AVI decodes every frame since the previous keyframe, and some files
have a single keyframe for the whole video. A frame pack (see
:class:`pacekit.data.readers.FramePackReader`) stores each frame as its own JPEG behind an offset table,
so a 16-frame clip costs 16 small reads and one batched libjpeg-turbo decode
(``torchvision.io.decode_jpeg``).

``pacekit prepare --root IN --out OUT`` mirrors IN: every video becomes ``<name>.jpack`` at the same
relative path, and the small text files (split lists, CSVs) are copied, so every dataset reads either
form with the same code. OUT must be new, empty or a copy pacekit prepared (its ``pacekit.json`` marks it): a
folder holding anything else is refused before any work. It runs in parallel, writes each pack atomically (temp
file, then rename), skips packs that already exist and open as whole packs (so an interrupted run resumes; a
damaged pack is converted again), and reports the videos it could not decode, whole or in part, with why, in
``OUT/prepare_failures.txt`` (no pack is written for them). However it ends -- an error, Ctrl-C, a full
disk, the parent killed -- it leaves no temp file and no worker process behind.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..atomic import write_text_atomic
from ..errors import PacekitError, describe_os_error
from ..machine import usable_cores
from ..owned import MARKER, Kind, check_folder, mark_folder
from ..workers import spawn_pool, stop_pool
from .readers import (
    FRAME_PACK_MAGIC,
    FRAME_PACK_SUFFIX,
    VIDEO_SUFFIXES,
    FramePackReader,
    PartialVideoError,
    VideoDecodeError,
    frame_count_tolerance,
)

COPIED_SUFFIXES = (".txt", ".csv", ".json", ".list")
FAILURES_FILE = "prepare_failures.txt"
TMP_MARK = ".tmp"  # a pack being written is ".<name>.jpack.tmp<pid>" beside its final place

#: A prepared copy's folder: marked when prepare starts; the files it writes there besides the split files it
#: copies (packs, their temp files, the failure list, split files rewritten without failed videos) recognise a
#: copy prepared before the mark existed, one pack (or a pack's temp file) at least among them.
PREPARED_FOLDER = Kind("pacekit-prepared", "a prepared copy of a dataset", files=(
    r".*\.jpack", r"(.*/)?\.[^/]+\.jpack\.tmp\d+", re.escape(FAILURES_FILE), rf"\.{re.escape(FAILURES_FILE)}\.tmp\d+",
    r"(.*/)?\.[^/]+\.(txt|list)\..+\.tmp",
), required=r"(.*/)?\.?[^/]+\.jpack(\.tmp\d+)?")

#: What to do about an --out that pacekit did not write.
PREPARED_FIX = "Choose another --out for the prepared copy."


def short_side_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """(H, W) with the short side scaled to ``short_side``; UCF101's 240x320 becomes 128x171."""
    scale = short_side / min(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


class PrepareError(PacekitError):
    """``pacekit prepare`` had to stop: the output cannot be written (disk full, permission denied, ...)."""


#: The smallest ``--short-side`` accepted: below it a frame is too small for any crop pacekit uses.
MIN_SHORT_SIDE = 16


#: Errors writing the output that no later write can avoid: the run stops instead of failing every video.
FATAL_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)


class PackWriteError(PrepareError):
    """Writing one frame pack failed; ``errno`` is the underlying OSError's."""

    def __init__(self, path, exc: OSError):
        self.errno = exc.errno
        super().__init__(f"cannot write {path}: {describe_os_error(exc)}")


#: Temp files this process is writing now; removed by the worker's signal handler and watchdog.
_ACTIVE_TMP: set = set()


def _remove_active_tmp() -> None:
    for tmp in list(_ACTIVE_TMP):
        try:
            os.unlink(tmp)
        except OSError:
            pass


def write_frame_pack(path, frames_jpeg: list[bytes], fps: float, height: int, width: int) -> None:
    """Write JPEG-encoded frames as a frame pack, atomically: a temp file beside ``path``, then a rename.

    The temp file is removed on every way out (an error, a KeyboardInterrupt); an OSError of the write
    is raised as :class:`PackWriteError`, which names ``path`` and the cause in words.
    """
    path = Path(path)
    crc = 0
    for blob in frames_jpeg:
        crc = zlib.crc32(blob, crc)
    header = json.dumps({"num_frames": len(frames_jpeg), "fps": fps, "height": height, "width": width,
                         "format": "jpeg", "crc32": crc}).encode("utf-8")
    offsets = np.zeros(len(frames_jpeg) + 1, dtype="<u8")
    offsets[1:] = np.cumsum([len(b) for b in frames_jpeg])
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    _ACTIVE_TMP.add(str(tmp))
    try:
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
    except OSError as exc:
        _unlink_quietly(tmp)
        raise PackWriteError(path, exc) from exc
    except BaseException:
        _unlink_quietly(tmp)
        raise
    finally:
        _ACTIVE_TMP.discard(str(tmp))


def _unlink_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def prepare_video(src, dst, short_side: int = 128, quality: int = 90) -> tuple[int, Optional[str]]:
    """Decode ``src`` sequentially with PyAV, resize to ``short_side``, JPEG-encode each frame, write ``dst``.

    Returns ``(frames written, None)``. A video that is partly decodable -- the stream breaks part-way,
    or decodes fewer frames than its container lists beyond :func:`frame_count_tolerance` -- raises
    :class:`PartialVideoError` and no pack is written: a short pack would be read as a whole video.
    """
    import av
    from PIL import Image  # libjpeg-turbo: the same bytes as torchvision's encode_jpeg, many times faster

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
                blob = io.BytesIO()
                Image.fromarray(rgb).save(blob, format="JPEG", quality=quality)
                blobs.append(blob.getvalue())
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
    rebuilt: int = 0  # existing packs that failed the check and were converted again
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    damaged: list[tuple[str, str]] = field(default_factory=list)  # packs found damaged, and why
    left_out_of_splits: int = 0  # split-file lines naming a failed video, left out of the prepared copy

    def __str__(self) -> str:
        text = (f"prepared {self.converted} videos ({self.frames} frames), skipped {self.skipped} already done, "
                f"copied {self.copied} split/annotation files, {len(self.failed)} failed")
        if self.left_out_of_splits:
            text += (f"; the prepared copy's split files leave out the {self.left_out_of_splits} lines that name a "
                     f"failed video (each video and why: {FAILURES_FILE})")
        if self.damaged:
            text += f"; {len(self.damaged)} existing packs were damaged and rebuilt ({self.rebuilt} rebuilt)"
        for rel, why in self.failed[:10]:
            text += f"\n  failed: {rel}: {why}"
        for rel, why in self.damaged[:10]:
            text += f"\n  damaged pack: {rel}: {why}"
        for rel, why in self.warnings[:10]:
            text += f"\n  partial: {rel}: {why}"
        return text


def validate_prepare_args(short_side: int, quality: int, workers: Optional[int]) -> None:
    """Refuse values that would write useless packs, naming the command-line flag."""
    if not isinstance(short_side, int) or short_side < MIN_SHORT_SIDE:
        raise ValueError(f"--short-side must be at least {MIN_SHORT_SIDE} pixels, got {short_side}")
    if not isinstance(quality, int) or not 1 <= quality <= 100:
        raise ValueError(f"--quality must be between 1 and 100 (a JPEG quality), got {quality}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"--workers must be at least 1, got {workers}")


def check_pack(path) -> Optional[str]:
    """None when ``path`` is a whole frame pack with frames, else why not (it is rebuilt)."""
    try:
        reader = FramePackReader(path)
    except VideoDecodeError as exc:
        return str(exc)
    except Exception as exc:  # a header cut inside its length field, a header without its keys
        return f"unreadable frame pack ({type(exc).__name__}: {exc})"
    try:
        if reader.num_frames < 1:
            return "frame pack with no frames"
        return reader.verify()
    finally:
        reader.close()


def _remove_stale_tmp(out: Path) -> None:
    """Remove temp packs a killed run left behind (their writer's process is gone)."""
    for tmp in out.rglob(f".*{FRAME_PACK_SUFFIX}{TMP_MARK}*"):
        pid = tmp.name.rsplit(TMP_MARK, 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # its writer still runs
            except ProcessLookupError:
                pass
            except OSError:
                continue
        _unlink_quietly(tmp)


def _convert_one(job):
    """Returns ``(src, frames, warning, error, fatal)``; ``fatal`` when the output cannot be written."""
    src, dst, short_side, quality = job
    try:
        frames, warning = prepare_video(src, dst, short_side, quality)
        return str(src), frames, warning, None, False
    except PackWriteError as exc:
        return str(src), 0, None, str(exc), exc.errno in FATAL_WRITE_ERRNOS
    except Exception as exc:  # one bad video must not stop the whole conversion
        return str(src), 0, None, str(exc), False


def _read_failures(path: Path) -> list[tuple[str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    return [tuple(line.split("\t", 1)) for line in lines if "\t" in line and not line.startswith("#")]


def write_failures(out: Path, failed: list[tuple[str, str]]) -> Path:
    """Write ``OUT/prepare_failures.txt`` (one ``video<TAB>why`` a line) atomically, or remove it when
    nothing failed; a failed write leaves no file (never an empty or partial list)."""
    failures = out / FAILURES_FILE
    if not failed:
        _unlink_quietly(failures)
        return failures
    tmp = failures.with_name(f".{FAILURES_FILE}{TMP_MARK}{os.getpid()}")
    try:
        tmp.write_text("".join(f"{rel}\t{why}\n" for rel, why in failed), encoding="utf-8")
        os.replace(tmp, failures)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return failures


def _copied_here(root: Path, out: Path, rel: str) -> bool:
    """Is ``out/rel`` a split or annotation file prepare copied from ``root``: the source's lines, or some of them
    (those naming failed videos left out)? A file of the same name with other lines is someone else's."""
    src, dst = root / rel, out / rel
    if src.suffix.lower() not in COPIED_SUFFIXES or not src.is_file():
        return False
    try:
        copy, source = dst.read_bytes(), src.read_bytes()
    except OSError:
        return False
    return copy == source or set(copy.splitlines()) <= set(source.splitlines())


def _check_folders(root: Path, out: Path) -> None:
    """``root`` exists; ``out`` is neither ``root`` nor inside it nor around it, is new, empty or a prepared copy
    pacekit wrote (:data:`PREPARED_FOLDER`), and can be created; then it is marked as a prepared copy."""
    if not root.is_dir():
        raise FileNotFoundError(f"dataset root not found: {root}")
    real_root, real_out = root.resolve(), out.resolve()
    if real_out == real_root:
        raise ValueError("--out must differ from --root: the prepared copy is written beside the original")
    if real_out.is_relative_to(real_root):
        raise ValueError(f"--out ({out}) is inside --root ({root}): each run would convert the last one's copy "
                         "again; put the prepared copy beside the dataset")
    if real_root.is_relative_to(real_out):
        raise ValueError(f"--root ({root}) is inside --out ({out}): the prepared copy would mix with the "
                         "original; choose an --out outside the dataset folder")
    check_folder(out, PREPARED_FOLDER, PREPARED_FIX, ours=lambda rel: _copied_here(root, out, rel))
    try:
        mark_folder(out, PREPARED_FOLDER)
    except OSError as exc:
        raise PrepareError(f"cannot create --out {out}: {describe_os_error(exc)}") from exc


def _plan_jobs(root: Path, out: Path, short_side: int, quality: int, report: PrepareReport) -> list[tuple]:
    """Copy the split files, check the packs already there, and return the conversions still to do;
    ``report`` counts what was copied, skipped (a whole pack) and found damaged (removed, to convert again)."""
    jobs = []
    for src in sorted(root.rglob("*")):
        if not src.is_file():
            continue
        rel = src.relative_to(root)
        if rel == Path(MARKER):  # the source's own mark (a folder pacekit wrote) is no split file
            continue
        if src.suffix.lower() in COPIED_SUFFIXES:
            dst = out / rel
            if not dst.exists() or dst.stat().st_size != src.stat().st_size:
                try:
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
                except OSError as exc:
                    raise PrepareError(f"cannot copy {src} to {dst}: {describe_os_error(exc)}") from exc
                report.copied += 1
        elif src.suffix.lower() in VIDEO_SUFFIXES:
            dst = pack_path_for(out, rel)
            if dst.exists():
                problem = check_pack(dst)
                if problem is None:
                    report.skipped += 1
                    continue
                report.damaged.append((str(rel), problem))
                _unlink_quietly(dst)  # a damaged pack is of no use, even if its video now fails
            jobs.append((src, dst, short_side, quality))
    if not jobs and not report.skipped:
        raise FileNotFoundError(f"no videos under {root} (looked for {', '.join(VIDEO_SUFFIXES)})")
    return jobs


def _convert_all(jobs: list[tuple], workers: int, record: Callable[[tuple], None],
                 stop: Callable[[], bool]) -> None:
    """Convert ``jobs`` (in this process, or in ``workers`` spawned processes), handing each result to
    ``record``; stops early once ``stop()`` is true. Worker processes never outlive this call."""
    if workers == 1 or len(jobs) < 2:
        for job in jobs:
            record(_convert_one(job))
            if stop():
                return
        return
    from concurrent.futures.process import BrokenProcessPool

    pool = spawn_pool(min(workers, len(jobs)), on_exit=_remove_active_tmp)
    done = False
    try:
        for result in pool.map(_convert_one, jobs, chunksize=4):
            record(result)
            if stop():
                break
        done = not stop()
    except BrokenProcessPool as exc:
        raise PrepareError(f"a worker process died ({exc}); its video may need more memory than is "
                           "free -- re-run with fewer --workers") from exc
    finally:
        if done:
            pool.shutdown(wait=True)
        else:  # an error, Ctrl-C or a full disk: do not wait for the videos in flight
            stop_pool(pool)


def _leave_failed_out_of_splits(out: Path, failed: list[tuple[str, str]]) -> int:
    """Drop, from the split files copied into ``out``, the lines that name a video that failed (UCF101 and
    HMDB51 lines name the video's file), so that the prepared copy lists only what was packed; returns the
    number of lines dropped."""
    names = {Path(rel).name for rel, _ in failed}
    if not names:
        return 0
    dropped = 0
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".txt", ".list") or path.name == FAILURES_FILE:
            continue
        lines = path.read_text(errors="replace").splitlines(keepends=True)
        kept = [line for line in lines if not (set(re.split(r"[\s/\\,]+", line.strip())) & names)]
        if len(kept) != len(lines):
            dropped += len(lines) - len(kept)
            write_text_atomic(path, "".join(kept))
    return dropped


def prepare_dataset(root, out, short_side: int = 128, quality: int = 90, workers: Optional[int] = None,
                    progress: bool = True) -> PrepareReport:
    """Convert every video under ``root`` into a frame pack under ``out`` (same relative paths).

    Idempotent: an existing pack is opened and checked, then skipped when whole (so re-running resumes an
    interrupted conversion) or converted again when damaged. The arguments are checked first
    (``short_side`` at least :data:`MIN_SHORT_SIDE`, ``quality`` 1-100, ``workers`` at least 1, ``out``
    neither inside ``root`` nor around it). The list of failed videos, with why, is written to
    ``OUT/prepare_failures.txt`` however the run ends; when the output cannot be written (disk full,
    permission denied) the run stops with a :class:`PrepareError` that names the file and the cause.
    Temp files are removed on every way out, and worker processes end when this process does.
    """
    validate_prepare_args(short_side, quality, workers)
    root, out = Path(root), Path(out)
    _check_folders(root, out)
    _remove_stale_tmp(out)
    report = PrepareReport()
    jobs = _plan_jobs(root, out, short_side, quality, report)
    damaged = {rel for rel, _ in report.damaged}
    pending = {str(Path(job[0]).relative_to(root)) for job in jobs}
    earlier = [(rel, why) for rel, why in _read_failures(out / FAILURES_FILE)]
    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), desc="prepare", unit="video", disable=not progress or not jobs)
    fatal: list[str] = []

    def record(result) -> None:
        src, frames, warning, error, stop = result
        rel = str(Path(src).relative_to(root))
        pending.discard(rel)
        if error:
            report.failed.append((rel, error))
            if stop:
                fatal.append(error)
        else:
            report.converted += 1
            report.frames += frames
            report.rebuilt += rel in damaged
            if warning:
                report.warnings.append((rel, warning))
        bar.update(1)

    finished = False
    try:
        _convert_all(jobs, workers or usable_cores(), record, stop=lambda: bool(fatal))
        finished = not fatal
    finally:
        bar.close()
        # this run's failures, plus earlier ones for videos this run did not get to
        failed = report.failed + [(rel, why) for rel, why in earlier if rel in pending and not finished]
        try:
            failures = write_failures(out, failed)
        except OSError as exc:
            failures = None
            if fatal or finished:
                fatal.append(f"the list of failed videos could not be written to {out / FAILURES_FILE} either: "
                             f"{describe_os_error(exc)}")
    if not fatal and failed:
        report.left_out_of_splits = _leave_failed_out_of_splits(out, failed)
    if fatal:
        listed = f"; the videos that failed are listed in {failures}" if failures and failed else ""
        raise PrepareError(f"stopped: {'; '.join(fatal)}{listed}. Free the space (or fix the permission) and "
                           "re-run the same command: finished packs are kept")
    return report
