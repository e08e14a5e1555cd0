"""One reader interface for every form a video comes in: decord, PyAV, frame folders, frame packs.

``open_video(path)`` picks the reader from what ``path`` is:

- a folder of ``frame000001.jpg`` ... (the authors' pre-extracted layout) -> :class:`FrameFolderReader`;
- a ``.jpack`` file (pacekit's prepared format, :mod:`pacekit.data.prepare`) -> :class:`FramePackReader`;
- any other file -> :class:`DecordReader`, or :class:`PyAVReader` where decord is not installed (decord
  has no wheels for some platforms, e.g. macOS arm64; pacekit then warns once and uses PyAV);
- except ``.avi`` files (UCF101, HMDB51: MPEG-4 Part 2), which ``backend="auto"`` reads with PyAV:
  seeking to the keyframe and converting only the frames a clip needs measured 1.2x decord's
  ``get_batch`` on real UCF101 clips (``benchmarks/bench_data.py``), while on H.264 MP4s decord is
  as fast or faster. ``backend="decord"`` or ``"pyav"`` forces either.

Every reader returns frames as ``torch.uint8`` of shape ``(N, H, W, C)``, RGB, in the order asked for,
decoding each distinct frame once. ``size=(H, W)`` resizes while decoding so that clips from videos of
different sizes stack into one batch.
"""

from __future__ import annotations

import io
import json
import re
import struct
import warnings
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

FRAME_PACK_SUFFIX = ".jpack"
FRAME_PACK_MAGIC = b"PACEKIT-JPACK\x01\n"
#: Containers that ``backend="auto"`` reads with PyAV, measured faster there (see the module docstring).
PYAV_FIRST_SUFFIXES = (".avi",)
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".flv", ".wmv")

_decord_warned = False


class VideoDecodeError(RuntimeError):
    """A video could not be opened or decoded. The message names the file."""

    def __init__(self, path, reason: str):
        self.path = Path(path)
        super().__init__(f"cannot decode video {self.path}: {reason}")


def _unique_with_inverse(indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    return np.unique(idx, return_inverse=True)


class VideoReader:
    """Base class: ``num_frames``, ``fps``, ``get_frames(indices)``; usable as a context manager."""

    path: Path
    num_frames: int
    fps: float

    def get_frames(self, indices: Sequence[int]) -> torch.Tensor:
        """Frames at the given 0-based indices as uint8 ``(N, H, W, C)``."""
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - trivial
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check_range(self, unique: np.ndarray) -> None:
        if unique.size and (unique[0] < 0 or unique[-1] >= self.num_frames):
            raise IndexError(
                f"frame indices {unique[0]}..{unique[-1]} out of range for {self.path} ({self.num_frames} frames)"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, num_frames={self.num_frames}, fps={self.fps:.2f})"


class DecordReader(VideoReader):
    """Random access with decord: the distinct frames of a clip in one ``get_batch`` call.

    Container frame counts can be wrong (most HMDB51 files claim one frame more than decodes). decord
    returns a frame for such an index rather than failing, so the count is taken as it stands.
    decord 0.6 fails to resize to a few widths (16, 24, 48, 72 among them); the reader then decodes at
    the native size and resizes with torch.
    """

    def __init__(self, path, size: Optional[tuple[int, int]] = None, num_threads: int = 1):
        self.path = Path(path)
        self.size = tuple(size) if size is not None else None
        self._num_threads = num_threads
        self._resize_in_torch = False
        self._vr = self._open(self.size)
        self.num_frames = len(self._vr)
        self.fps = float(self._vr.get_avg_fps() or 0.0)
        if self.num_frames < 1:
            raise VideoDecodeError(self.path, "no frames")

    def _open(self, size):
        import decord

        kwargs = {"num_threads": self._num_threads}
        if size is not None:
            kwargs.update(height=int(size[0]), width=int(size[1]))
        try:
            return decord.VideoReader(str(self.path), ctx=decord.cpu(0), **kwargs)
        except Exception as exc:  # decord raises DECORDError and RuntimeError subclasses
            raise VideoDecodeError(self.path, _short(exc)) from None

    def _batch(self, unique: np.ndarray) -> torch.Tensor:
        try:
            return torch.from_numpy(self._vr.get_batch(unique.tolist()).asnumpy())
        except Exception as exc:
            if self.size is not None and not self._resize_in_torch and "DECORDArrayCopyFromTo" in str(exc):
                self._resize_in_torch = True
                self._vr = self._open(None)
                return self._batch(unique)
            raise VideoDecodeError(self.path, _short(exc)) from None

    def get_frames(self, indices):
        unique, inverse = _unique_with_inverse(indices)
        self._check_range(unique)
        frames = self._batch(unique)
        if self._resize_in_torch:
            frames = _resize_frames(frames, self.size)
        return _in_order(frames, unique, inverse)

    def close(self):
        self._vr = None


def _resize_frames(frames: torch.Tensor, size) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` -> ``(N, size[0], size[1], C)``, antialiased."""
    from torchvision.transforms.v2.functional import resize

    return resize(frames.permute(0, 3, 1, 2), list(size), antialias=True).permute(0, 2, 3, 1).contiguous()


class PyAVReader(VideoReader):
    """Seek-and-decode with PyAV: the fallback reader, and the one that finds the true frame count.

    For each run of nearby frames a clip needs, it seeks to the keyframe before the run and decodes
    forward, converting (and resizing) only the frames asked for. A frame's index comes from its
    timestamp. When the stream ends before a frame the container promised (HMDB51 headers over-count
    by one), ``num_frames`` is corrected and the missing indices get the last frame decoded.
    """

    #: Frames further apart than this are reached by a new seek rather than by decoding through.
    SEEK_GAP = 32

    def __init__(self, path, size: Optional[tuple[int, int]] = None):
        import av

        self.path = Path(path)
        self.size = size
        try:
            # metadata_errors="ignore": some HMDB51 files carry metadata that is not valid UTF-8.
            self._container = av.open(str(self.path), metadata_errors="ignore")
            stream = self._container.streams.video[0]
        except (av.error.FFmpegError, IndexError, UnicodeDecodeError, OSError) as exc:
            raise VideoDecodeError(self.path, _short(exc)) from None
        self._stream = stream
        rate = stream.average_rate or stream.guessed_rate
        self.fps = float(rate or 0.0)
        self._frame_period = 1 / (rate * stream.time_base) if rate and stream.time_base else None
        self._start_pts = stream.start_time or 0
        frames = stream.frames
        if not frames:
            frames = sum(1 for packet in self._container.demux(stream) if packet.size)
            self._container.seek(0)
        if frames < 1:
            self.close()
            raise VideoDecodeError(self.path, "no frames")
        self.num_frames = int(frames)

    def _to_array(self, frame) -> np.ndarray:
        # Colour conversion and resizing cost about 7x the decoding itself. swscale's area filter
        # averages every source pixel (no aliasing when shrinking 2x, as from 240x320 to 128x171) and
        # costs little more than its fastest filters; training on it learned better than on fast bilinear.
        if self.size is None:
            return frame.to_ndarray(format="rgb24")
        return frame.reformat(width=int(self.size[1]), height=int(self.size[0]), format="rgb24",
                              interpolation="AREA").to_ndarray()

    def _index_of(self, frame) -> int:
        return int(round(float((frame.pts - self._start_pts) / self._frame_period)))

    def _decode_run(self, first: int, last: int, wanted: set, found: dict) -> int:
        """Seek to the keyframe before ``first``, decode to ``last``; returns the last index seen."""
        if self._frame_period is None:
            return self._decode_from_start(last, wanted, found)
        target = int(self._start_pts + first * self._frame_period)
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        seen = -1
        for frame in self._container.decode(self._stream):
            if frame.pts is None:
                return self._decode_from_start(last, wanted, found)
            index = self._index_of(frame)
            if seen < 0 and index > first:  # the seek overshot (a bad index): decode from the start
                return self._decode_from_start(last, wanted, found)
            seen = index
            if index in wanted:
                found[index] = self._to_array(frame)
            if index >= last:
                break
        return seen

    def _decode_from_start(self, last: int, wanted: set, found: dict) -> int:
        self._container.seek(self._start_pts, stream=self._stream, backward=True, any_frame=False)
        seen = -1
        for seen, frame in enumerate(self._container.decode(self._stream)):
            if seen in wanted:
                found[seen] = self._to_array(frame)
            if seen >= last:
                break
        return seen

    def get_frames(self, indices):
        import av

        unique, inverse = _unique_with_inverse(indices)
        self._check_range(unique)
        wanted = set(unique.tolist())
        found: dict[int, np.ndarray] = {}
        runs = np.split(unique, np.flatnonzero(np.diff(unique) > self.SEEK_GAP) + 1)
        seen = -1
        try:
            for run in runs:
                seen = self._decode_run(int(run[0]), int(run[-1]), wanted, found)
        except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
            if not found:
                raise VideoDecodeError(self.path, _short(exc)) from None
        if not found:
            raise VideoDecodeError(self.path, "no decodable frames")
        if seen < int(unique[-1]):
            self.num_frames = max(found) + 1  # the container over-counted
        decoded = sorted(found)
        # a frame the stream did not deliver takes the nearest earlier decoded frame
        frames = [found[i] if i in found else found[decoded[max(np.searchsorted(decoded, i) - 1, 0)]]
                  for i in unique.tolist()]
        return _in_order(torch.from_numpy(np.stack(frames)), unique, inverse)

    def close(self):
        if getattr(self, "_container", None) is not None:
            self._container.close()
            self._container = None


def _decode_jpegs(blobs: list[bytes], size: Optional[tuple[int, int]]) -> torch.Tensor:
    """Decode JPEG bytes with libjpeg-turbo -> uint8 ``(N, H, W, C)``.

    simplejpeg decodes straight to ``(H, W, C)``; torchvision's ``decode_jpeg`` (the fallback) returns
    ``(C, H, W)``, and turning that back costs as much as a third of the decode.
    """
    try:
        import simplejpeg
    except ImportError:
        simplejpeg = None
    if simplejpeg is not None:
        batch = torch.from_numpy(np.stack([simplejpeg.decode_jpeg(b, colorspace="RGB") for b in blobs]))
    else:
        from torchvision.io import ImageReadMode, decode_jpeg

        tensors = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in blobs]
        batch = torch.stack(decode_jpeg(tensors, mode=ImageReadMode.RGB)).permute(0, 2, 3, 1).contiguous()
    if size is not None and tuple(batch.shape[1:3]) != tuple(size):
        return _resize_frames(batch, size)
    return batch


def _in_order(frames: torch.Tensor, unique: np.ndarray, inverse: np.ndarray) -> torch.Tensor:
    """Frames decoded for the sorted ``unique`` indices, put back in the order asked for."""
    if len(inverse) == len(unique) and (inverse == np.arange(len(unique))).all():
        return frames  # already in order, no repeats: skip the copy
    return frames[torch.from_numpy(inverse)]


class FrameFolderReader(VideoReader):
    """Pre-extracted JPEG frames ``<video>/frame000001.jpg`` ... (1-based), as in the authors' code."""

    def __init__(self, path, size: Optional[tuple[int, int]] = None, fps: float = 25.0):
        self.path = Path(path)
        self.size = size
        self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
        if not self.files:
            raise VideoDecodeError(self.path, "folder holds no frame*.jpg files")
        self.num_frames = len(self.files)
        self.fps = fps

    def get_frames(self, indices):
        unique, inverse = _unique_with_inverse(indices)
        self._check_range(unique)
        try:
            frames = _decode_jpegs([self.files[i].read_bytes() for i in unique], self.size)
        except (RuntimeError, ValueError, OSError) as exc:
            raise VideoDecodeError(self.path, _short(exc)) from None
        return _in_order(frames, unique, inverse)


class FramePackReader(VideoReader):
    """pacekit's prepared format: one file per video holding its frames as JPEGs, with an offset table.

    Layout: ``FRAME_PACK_MAGIC``, a little-endian uint32 header length, a UTF-8 JSON header
    (``num_frames``, ``fps``, ``height``, ``width``), ``num_frames + 1`` little-endian uint64 offsets
    (relative to the end of the table), then the JPEG bytes. Reading a clip is a few ``seek``/``read``
    calls and one batched ``decode_jpeg``.
    """

    def __init__(self, path, size: Optional[tuple[int, int]] = None):
        self.path = Path(path)
        self.size = size
        try:
            self._file = open(self.path, "rb")
            header = read_frame_pack_header(self._file)
        except (OSError, ValueError) as exc:
            raise VideoDecodeError(self.path, _short(exc)) from None
        self.num_frames = int(header["num_frames"])
        self.fps = float(header["fps"])
        self.height, self.width = int(header["height"]), int(header["width"])
        table = self._file.read(8 * (self.num_frames + 1))
        self._offsets = np.frombuffer(table, dtype="<u8").astype(np.int64)
        if len(self._offsets) != self.num_frames + 1:
            raise VideoDecodeError(self.path, "truncated frame pack (offset table)")
        self._data_start = self._file.tell()

    def get_frames(self, indices):
        unique, inverse = _unique_with_inverse(indices)
        self._check_range(unique)
        blobs = []
        for i in unique:
            begin, end = self._offsets[i], self._offsets[i + 1]
            self._file.seek(self._data_start + int(begin))
            data = self._file.read(int(end - begin))
            if len(data) != end - begin:
                raise VideoDecodeError(self.path, f"truncated frame pack (frame {i})")
            blobs.append(data)
        try:
            frames = _decode_jpegs(blobs, self.size)
        except (RuntimeError, ValueError) as exc:
            raise VideoDecodeError(self.path, _short(exc)) from None
        return _in_order(frames, unique, inverse)

    def close(self):
        if getattr(self, "_file", None) is not None:
            self._file.close()
            self._file = None


def read_frame_pack_header(f: io.BufferedIOBase) -> dict:
    magic = f.read(len(FRAME_PACK_MAGIC))
    if magic != FRAME_PACK_MAGIC:
        raise ValueError("not a pacekit frame pack (bad magic bytes); re-run `pacekit prepare`")
    (length,) = struct.unpack("<I", f.read(4))
    return json.loads(f.read(length).decode("utf-8"))


def decord_available() -> bool:
    try:
        import decord  # noqa: F401
    except ImportError:
        return False
    return True


def open_video(path, backend: str = "auto", size: Optional[tuple[int, int]] = None) -> VideoReader:
    """Open a video file, frame folder or frame pack with the right reader.

    Args:
        path: the video.
        backend: ``"auto"`` (PyAV for ``.avi``, else decord when installed, else PyAV), ``"decord"`` or
            ``"pyav"``; ignored for frame folders and frame packs.
        size: ``(H, W)`` to resize every frame to while decoding, or None to keep the native size.

    Raises:
        FileNotFoundError: the path does not exist.
        VideoDecodeError: it exists but cannot be decoded.
    """
    global _decord_warned
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"video not found: {path}")
    if path.is_dir():
        return FrameFolderReader(path, size)
    if path.suffix == FRAME_PACK_SUFFIX:
        return FramePackReader(path, size)
    if backend not in ("auto", "decord", "pyav"):
        raise ValueError(f"backend must be 'auto', 'decord' or 'pyav', got {backend!r}")
    if backend == "auto" and path.suffix.lower() in PYAV_FIRST_SUFFIXES:
        return PyAVReader(path, size)
    if backend in ("auto", "decord"):
        if decord_available():
            return DecordReader(path, size)
        if backend == "decord":
            raise ImportError("decord is not installed: `pip install decord`, or use backend='pyav'")
        if not _decord_warned:
            warnings.warn(
                "decord is not installed (it has no wheels for this platform); pacekit reads videos with "
                "PyAV instead, which is slower for random access. `pacekit prepare` makes a fast format.",
                stacklevel=2,
            )
            _decord_warned = True
    return PyAVReader(path, size)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[-1] if text else type(exc).__name__
    # decord's messages start with "[hh:mm:ss] source.cc:123: "; keep what follows.
    return re.sub(r"^(\[[\d:]+\]\s*\S+:\d+:\s*)+", "", line)[:300] or type(exc).__name__
