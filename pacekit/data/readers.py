"""One reader interface for every form a video comes in: PyAV, decord, frame folders, frame packs.

(Over 600 lines on purpose: every backend sits beside the one interface and the exact-frame contract it
keeps, so a reader and its rules are read together.)

Every reader returns frame ``i`` as the ``i``-th frame a full sequential decode of the file outputs
(the order any player shows them in), and refuses -- never fills in -- a frame that does not decode.
``tests/test_golden_frames.py`` checks this for every reader on the real samples and on a generated
corpus of the hard cases (B-frames, open GOPs, variable frame rate, distant keyframes, H.264 in AVI,
MJPEG, odd sizes, files cut short).

``open_video(path)`` picks the reader from what ``path`` is:

- a folder of ``frame000001.jpg`` ... (the authors' pre-extracted layout) -> :class:`FrameFolderReader`;
- a ``.jpack`` file (pacekit's prepared format, :mod:`pacekit.data.prepare`) -> :class:`FramePackReader`;
- any video file -> :class:`PyAVReader` with ``backend="auto"`` (or ``"pyav"``), :class:`DecordReader`
  with ``backend="decord"``.

Why PyAV by default, for every container (``benchmarks/bench_readers.py``, one core, real samples):
it was exact on every frame of every sample. decord was exact on the MP4s at the same speed, but on
AVIs only by decoding from the first frame (its sparse reads return wrong frames there, see
:class:`DecordReader`), which makes it slower; it also gave up on a damaged MP4 at frames PyAV decodes.
torchcodec (PyTorch's decoder, ``seek_mode="exact"``) was fastest, and exact on the MP4s, but returned
wrong frames on the AVIs, and it needs FFmpeg's shared libraries installed on the system; pacekit does
not use it. For training speed, ``pacekit prepare`` writes frame packs, an order of magnitude faster
than any decoder on raw videos. The measured figures: docs/performance.md, "Video readers".

``size=(H, W)`` resizes while decoding so that clips from videos of different sizes stack into one
batch. Every reader returns ``torch.uint8`` of shape ``(N, H, W, C)``, RGB, in the order asked for,
decoding each distinct frame once.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from ..errors import PacekitError

FRAME_PACK_SUFFIX = ".jpack"
FRAME_PACK_MAGIC = b"PACEKIT-JPACK\x01\n"
#: A pack's JSON header is a few dozen bytes; one claiming more is damaged.
MAX_PACK_HEADER_BYTES = 1 << 16
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".flv", ".wmv")


class VideoDecodeError(PacekitError, RuntimeError):
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

    decord seeks by timestamp, which matched a full sequential decode on every MP4, MOV and MKV of
    pacekit's test corpus. On AVIs its sparse ``get_batch`` calls return wrong frames: up to 77 grey
    levels off a sequential decode on HMDB51 files with MPEG-4 packed B-frames, whose timestamps it
    reads as garbage (decord issue #195), and some wrong frames on UCF101 files without B-frames too.
    So for AVIs (and any file whose timestamps do not increase) the reader decodes every frame from
    the first one up to the last it needs, which is exact but slower: PyAV is the default there.
    For AVIs the frame count comes from the packets (as in :class:`PyAVReader`): decord takes the
    header's, one too many on most HMDB51 files, and a file cut short must be refused, not shortened.
    decord 0.6 fails to resize to a few widths (16, 24, 48, 72 among them); the reader then decodes at
    the native size and resizes with torch.
    """

    def __init__(self, path, size: Optional[tuple[int, int]] = None, num_threads: int = 1):
        self.path = Path(path)
        self.size = tuple(size) if size is not None else None
        self._num_threads = num_threads
        self._resize_in_torch = False
        counted = _avi_frame_count(self.path) if self.path.suffix.lower() == ".avi" else None
        self._vr = self._open(self.size)
        self.num_frames = len(self._vr) if counted is None else min(counted, len(self._vr))
        self.fps = float(self._vr.get_avg_fps() or 0.0)
        if self.num_frames < 1:
            raise VideoDecodeError(self.path, "no frames")
        self.sequential_only = counted is not None or not self._timestamps_increase()

    def _timestamps_increase(self) -> bool:
        stamps = self._vr.get_frame_timestamp(list(range(len(self._vr))))[:, 0]
        return len(stamps) < 2 or bool(np.all(np.diff(stamps) > 0))

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
            if self.sequential_only:
                # A reused decord reader returned wrong frames on a second call (UCF101 Basketball):
                # decode each request with a fresh one.
                self._vr = self._open(None if self._resize_in_torch else self.size)
                everything = self._vr.get_batch(list(range(int(unique[-1]) + 1))).asnumpy()
                return torch.from_numpy(everything[unique])
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


def _avi_frame_count(path: Path) -> int:
    """The number of frames an AVI decodes to, from its packets; raises if the file is cut short."""
    with PyAVReader(path) as reader:
        return reader.num_frames


def _resize_frames(frames: torch.Tensor, size) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` -> ``(N, size[0], size[1], C)``, antialiased."""
    from torchvision.transforms.v2.functional import resize

    return resize(frames.permute(0, 3, 1, 2), list(size), antialias=True).permute(0, 2, 3, 1).contiguous()


class PartialVideoError(VideoDecodeError):
    """Fewer frames decode than the container holds: a truncated or damaged file.

    ``decodable`` is how many frames are known to decode (a lower bound when the reader stopped early),
    ``expected`` how many the container promises.
    """

    def __init__(self, path, decodable: int, expected: int, reason: str = ""):
        self.decodable, self.expected = int(decodable), int(expected)
        detail = f"only {decodable} of the {expected} frames its container lists decode"
        super().__init__(path, detail + (f" ({reason})" if reason else ""))


def frame_count_tolerance(expected: int) -> int:
    """How many frames a container may over-count before a video counts as partly decodable.

    HMDB51's headers list one frame more than decodes; a few more (2%) are allowed for rounding in
    headers written by other muxers. A video cut short loses far more.
    """
    return max(2, int(0.02 * expected))


class PyAVReader(VideoReader):
    """Exact random access with PyAV: frame ``i`` is the ``i``-th frame a full sequential decode outputs.

    At open the reader demuxes the whole stream once (no decoding: a few milliseconds for a UCF101
    clip) and keeps the compressed packets in memory. Each frame's index then comes from one of two
    sources, chosen per file:

    - **presentation timestamps** (MP4, MOV, MKV, WebM...): a frame's index is the rank of its
      timestamp among all packets' timestamps. Exact with B-frames and variable frame rate alike;
    - **counting** (AVI, and any stream whose timestamps are missing or repeated): AVI stores no
      presentation times, and with MPEG-4 "packed" B-frames (UCF101, HMDB51) the timestamps FFmpeg
      attaches follow decode order. The reader counts the frames the decoder outputs from a keyframe
      whose index it knows: the number of picture-carrying packets before it. HMDB51's 1-byte
      placeholder packets carry no picture, which is why its headers over-count by one.

    To read a clip it restarts the decoder at the last keyframe before the first frame wanted and
    decodes forward, converting only the frames asked for. A frame that does not decode raises
    :class:`PartialVideoError`; no frame is ever filled in from another.
    """

    #: Frames further apart than this are reached by restarting at a later keyframe, if there is one.
    SEEK_GAP = 32

    def __init__(self, path, size: Optional[tuple[int, int]] = None):
        import av

        self.path = Path(path)
        self.size = tuple(size) if size is not None else None
        try:
            # metadata_errors="ignore": some HMDB51 files carry metadata that is not valid UTF-8.
            self._container = av.open(str(self.path), metadata_errors="ignore")
            stream = self._container.streams.video[0]
            packets = [p for p in self._container.demux(stream) if p.size]
        except (av.error.FFmpegError, IndexError, UnicodeDecodeError, OSError) as exc:
            self.close()
            raise VideoDecodeError(self.path, _short(exc)) from None
        self._stream = stream
        self._codec = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        self.fps = float(rate or 0.0)
        self.header_frames = int(stream.frames or 0)
        self._packets = packets
        self._by_timestamp = self._container.format.name != "avi" and _timestamps_usable(packets)
        if self._by_timestamp:
            ranks = {pts: i for i, pts in enumerate(sorted(p.pts for p in packets))}
            self._rank = ranks
            self.num_frames = len(packets)
            # (packet position, index of its frame) of every keyframe
            self._keyframes = [(i, ranks[p.pts]) for i, p in enumerate(packets) if p.is_keyframe]
        else:
            self._rank = None
            carries_picture = [p.size > 1 for p in packets]
            pictures = [p for p, c in zip(packets, carries_picture) if c]
            self.num_frames = len(pictures)
            if _timestamps_usable(pictures):
                # A keyframe's index is the number of pictures shown before it. With an open GOP
                # (FFmpeg's own MPEG-4 writer) B-frames that come after the keyframe in the file are
                # shown before it, so count by timestamp where the timestamps are usable.
                order = {pts: i for i, pts in enumerate(sorted(p.pts for p in pictures))}
                index_of = [order[p.pts] if c else None for p, c in zip(packets, carries_picture)]
            else:
                before = np.concatenate([[0], np.cumsum(carries_picture)])
                index_of = [int(before[i]) for i in range(len(packets))]
            self._keyframes = sorted((i, index_of[i]) for i, p in enumerate(packets)
                                     if p.is_keyframe and carries_picture[i])
        if not self._keyframes or self._keyframes[0][1] != 0:
            self._keyframes.insert(0, (0, 0))
        if self.num_frames < 1:
            self.close()
            raise VideoDecodeError(self.path, "no frames")
        if self.header_frames and self.header_frames - self.num_frames > frame_count_tolerance(self.header_frames):
            expected = self.header_frames
            self.close()
            raise PartialVideoError(self.path, self.num_frames, expected, "the file is cut short")

    def _to_array(self, frame) -> np.ndarray:
        # Colour conversion and resizing cost about 7x the decoding itself. swscale's area filter
        # averages every source pixel (no aliasing when shrinking 2x, as from 240x320 to 128x171).
        if self.size is None:
            return frame.to_ndarray(format="rgb24")
        return frame.reformat(width=int(self.size[1]), height=int(self.size[0]), format="rgb24",
                              interpolation="AREA").to_ndarray()

    def _keyframe_before(self, index: int) -> tuple[int, int]:
        """(packet position, frame index) of the keyframe with the largest frame index <= ``index``."""
        return max((key for key in self._keyframes if key[1] <= index), key=lambda key: key[1])

    def _decode_from(self, key: tuple[int, int]):
        """Restart the decoder at keyframe ``key``; yield ``(frame index, frame)`` in output order."""
        self._codec.flush_buffers()
        position, first_index = key
        count = 0
        for packet in itertools.chain(self._packets[position:], [None]):
            for frame in self._codec.decode(packet):
                if self._rank is not None:
                    index = self._rank.get(frame.pts)
                    if index is None:
                        raise _Desync(f"a frame with an unknown timestamp {frame.pts}")
                else:
                    if count == 0 and first_index > 0 and not frame.key_frame:
                        raise _Desync("the decoder did not restart on the keyframe")
                    index = first_index + count
                count += 1
                yield index, frame

    def get_frames(self, indices):
        import av

        unique, inverse = _unique_with_inverse(indices)
        self._check_range(unique)
        found: dict[int, np.ndarray] = {}
        pending = unique.tolist()
        try:
            while pending:
                first = pending[0]
                key = self._keyframe_before(first)
                try:
                    self._collect(key, pending, found)
                except _Desync:
                    self._collect(self._keyframes[0], pending, found)  # from the very start: always exact
                still = [i for i in pending if i not in found]
                if still and still[0] == first:
                    raise PartialVideoError(self.path, first, self.num_frames,
                                            f"the stream ends before frame {first}")
                pending = still
        except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
            missing = min(i for i in unique.tolist() if i not in found)
            raise PartialVideoError(self.path, missing, self.num_frames,
                                    f"decoding fails before frame {missing}: {_short(exc)}") from None
        frames = torch.from_numpy(np.stack([found[i] for i in unique.tolist()]))
        return _in_order(frames, unique, inverse)

    def _collect(self, key, pending: list, found: dict) -> None:
        """Decode from ``key`` and convert the pending frames met, until a gap to the next pending frame
        is worth a restart at a later keyframe. ``pending`` is sorted."""
        wanted = set(pending)
        next_pending = 0  # position in ``pending`` of the first frame not found yet
        for index, frame in self._decode_from(key):
            if index in wanted and index not in found:
                found[index] = self._to_array(frame)
            while next_pending < len(pending) and pending[next_pending] in found:
                next_pending += 1
            if next_pending == len(pending) or index >= pending[-1]:
                return
            upcoming = pending[next_pending]
            if upcoming - index > self.SEEK_GAP and self._keyframe_before(upcoming)[1] > index + 1:
                return  # a later keyframe is closer: restart there

    def close(self):
        self._packets = []
        if getattr(self, "_container", None) is not None:
            self._container.close()
            self._container = None


class _Desync(Exception):
    """Decoding from a keyframe gave frames the reader cannot place; it restarts from the first frame."""


def _timestamps_usable(packets) -> bool:
    """Every packet has a presentation timestamp and no two share one."""
    stamps = [p.pts for p in packets]
    return bool(stamps) and None not in stamps and len(set(stamps)) == len(stamps)


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
            self.num_frames = int(header["num_frames"])
            self.fps = float(header["fps"])
            self.height, self.width = int(header["height"]), int(header["width"])
            self._crc32 = header.get("crc32")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.close()
            raise VideoDecodeError(self.path, f"unreadable frame pack header ({_short(exc)}); re-run "
                                              "`pacekit prepare`") from None
        size = os.fstat(self._file.fileno()).st_size
        if self.num_frames < 0 or 8 * (self.num_frames + 1) > size:
            self.close()
            raise VideoDecodeError(self.path, f"frame pack header claims {self.num_frames} frames, more than its "
                                              f"{size} bytes can hold; re-run `pacekit prepare`")
        table = self._file.read(8 * (self.num_frames + 1))
        self._offsets = np.frombuffer(table, dtype="<u8").astype(np.int64)
        if len(self._offsets) != self.num_frames + 1:
            raise VideoDecodeError(self.path, "truncated frame pack (offset table)")
        self._data_start = self._file.tell()
        if size != self._data_start + int(self._offsets[-1]):
            self.close()
            raise VideoDecodeError(self.path, f"truncated frame pack ({size} bytes, its table says "
                                              f"{self._data_start + int(self._offsets[-1])}); re-run `pacekit prepare`")

    def verify(self) -> Optional[str]:
        """None when the frames' bytes match the checksum the pack was written with (packs written before
        pacekit stored one pass unchecked), else what is wrong."""
        if self._crc32 is None:
            return None
        self._file.seek(self._data_start)
        crc = 0
        while chunk := self._file.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
        if crc != int(self._crc32):
            return "frame pack data damaged (its checksum does not match); re-run `pacekit prepare`"
        return None

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
    raw = f.read(4)
    if len(raw) != 4:
        raise ValueError("truncated frame pack (header length)")
    (length,) = struct.unpack("<I", raw)
    if length > MAX_PACK_HEADER_BYTES:
        raise ValueError(f"frame pack header length {length} cannot be right")
    header = json.loads(f.read(length).decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("frame pack header is not a JSON object")
    return header


@dataclass
class VideoProbe:
    """What a full decode of one video found: the container's frame count against the frames that decode."""

    path: Path
    listed_frames: int  # what the container says (0 when it does not say, as in Matroska)
    decodable_frames: int
    fps: float
    problem: Optional[str] = None  # why decoding stopped early, if it did

    @property
    def partly_decodable(self) -> bool:
        if self.decodable_frames == 0:
            return False
        short = self.listed_frames - self.decodable_frames
        return self.problem is not None or short > frame_count_tolerance(self.listed_frames)

    @property
    def undecodable(self) -> bool:
        return self.decodable_frames == 0


def probe_video(path) -> VideoProbe:
    """Decode every frame of ``path`` once, without converting it, and count what decodes.

    The ground truth for ``pacekit info``: a video cut short or damaged part-way shows up as
    ``partly_decodable`` with the number of frames that do decode. Frame packs and frame folders are
    checked for completeness instead (their frames were counted when they were made).
    """
    import av

    path = Path(path)
    if path.is_dir() or path.suffix == FRAME_PACK_SUFFIX:
        try:
            with open_video(path) as reader:
                problem = reader.verify() if isinstance(reader, FramePackReader) else None
                if problem:
                    return VideoProbe(path, reader.num_frames, 0, reader.fps, problem)
                return VideoProbe(path, reader.num_frames, reader.num_frames, reader.fps)
        except VideoDecodeError as exc:
            return VideoProbe(path, 0, 0, 0.0, str(exc))
    listed, fps, count, problem = 0, 0.0, 0, None
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.video[0]
            listed = int(stream.frames or 0)
            fps = float(stream.average_rate or stream.guessed_rate or 0.0)
            for _ in container.decode(stream):
                count += 1
    except (av.error.FFmpegError, IndexError, UnicodeDecodeError, OSError) as exc:
        problem = _short(exc)
    return VideoProbe(path, listed, count, fps, problem)


def decord_available() -> bool:
    try:
        import decord  # noqa: F401
    except ImportError:
        return False
    return True


#: The video reader backends of :func:`open_video`.
BACKENDS = ("auto", "pyav", "decord", "memory")


class InMemoryReader(VideoReader):
    """A video's frames already decoded, ``(N, H, W, C)`` uint8, read by index (the ``"memory"`` backend)."""

    def __init__(self, path, frames: torch.Tensor, fps: float):
        self.path, self.frames, self.fps = Path(path), frames, fps
        self.num_frames = int(frames.shape[0])

    def get_frames(self, indices):
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size:
            self._check_range(np.array([idx.min(), idx.max()]))
        return self.frames.index_select(0, torch.from_numpy(idx))  # several times faster than frames[idx]


#: Upper bound, in bytes, of the frames the ``"memory"`` backend keeps per process; a video whose decoded
#: frames (estimated from its frame count and size before decoding) would pass it is read from disk each
#: time instead (correct, only slower), and never decoded whole.
MEMORY_CACHE_BYTES = 4 << 30
_memory_cache: dict[tuple[str, Optional[tuple[int, int]]], tuple[torch.Tensor, float]] = {}
#: (working folder, path as given) -> the path it resolves to, the cache's key: resolving a path costs more
#: than reading a clip from memory.
_resolved_paths: dict[tuple[str, str], str] = {}


def _resolved(path: Path) -> str:
    given = (os.getcwd(), str(path))
    resolved = _resolved_paths.get(given)
    if resolved is None:
        resolved = _resolved_paths[given] = str(path.resolve())
    return resolved


def _memory_reader(path: Path, size: Optional[tuple[int, int]]) -> VideoReader:
    """The ``"memory"`` backend: decode the whole video once with PyAV (a full sequential decode, hence
    exact), keep its frames in this process and serve every later read from them."""
    key = (_resolved(path), tuple(size) if size is not None else None)
    cached = _memory_cache.get(key)
    if cached is None:
        reader = PyAVReader(path, size)
        height, width = size if size is not None else (reader._codec.height, reader._codec.width)
        estimate = reader.num_frames * int(height) * int(width) * 3  # its decoded frames, before decoding them
        used = sum(f.numel() for f, _ in _memory_cache.values())
        if used + estimate > MEMORY_CACHE_BYTES:
            return reader  # too big to keep: read from disk each time (exact, only slower), nothing decoded now
        with reader:
            frames, fps = reader.get_frames(range(reader.num_frames)), reader.fps
        cached = _memory_cache[key] = (frames, fps)
    return InMemoryReader(path, *cached)


def open_video(path, backend: str = "auto", size: Optional[tuple[int, int]] = None) -> VideoReader:
    """Open a video file, frame folder or frame pack with the right reader.

    Args:
        path: the video.
        backend: ``"auto"`` or ``"pyav"`` (exact on every container, the default) or ``"decord"``, or
            ``"memory"``: PyAV, but each video is decoded once, whole, and its frames kept in this process
            (up to :data:`MEMORY_CACHE_BYTES`) -- for small sets read many times, such as the synthetic
            one; ignored for frame folders and frame packs.
        size: ``(H, W)`` to resize every frame to while decoding, or None to keep the native size.

    Raises:
        FileNotFoundError: the path does not exist.
        VideoDecodeError: it exists but cannot be decoded; :class:`PartialVideoError` when it is cut
            short or damaged part-way.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"video not found: {path}")
    if path.is_dir():
        return FrameFolderReader(path, size)
    if path.suffix == FRAME_PACK_SUFFIX:
        return FramePackReader(path, size)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    if backend == "memory":
        return _memory_reader(path, size)
    if backend == "decord":
        if not decord_available():
            raise ImportError("decord is not installed (`pip install decord`; it has no wheels for some "
                              "platforms, e.g. macOS arm64): use backend='pyav', the default")
        return DecordReader(path, size)
    return PyAVReader(path, size)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[-1] if text else type(exc).__name__
    # decord's messages start with "[hh:mm:ss] source.cc:123: "; keep what follows.
    return re.sub(r"^(\[[\d:]+\]\s*\S+:\d+:\s*)+", "", line)[:300] or type(exc).__name__
