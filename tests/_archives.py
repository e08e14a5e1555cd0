"""Test helpers that build small archives in the real datasets' layouts.

No `rar` writer ships with Debian or PyPI, so `write_rar4` writes a RAR 4.x ("RAR 2.9" format)
archive by hand with the "store" method (no compression). The format is public (RARLAB's
technote.txt): a 7-byte marker block, a main archive header, one file header per member (each
header carries the low 16 bits of the CRC32 of its own bytes, the member carries the CRC32 of its
data), and an end-of-archive block. The archives it writes are read by unar, bsdtar, unrar and the
`rarfile` package, so the extraction code under test is the one users run.
"""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RAR4_MARKER = b"Rar!\x1a\x07\x00"
_HEAD_MAIN, _HEAD_FILE, _HEAD_END = 0x73, 0x74, 0x7B
_FLAG_LONG_BLOCK = 0x8000  # "always set" on file headers: the data follows the header
_FLAG_DIRECTORY = 0x00E0  # dictionary-size bits 111 mean "this entry is a directory"
_HOST_WIN32 = 2
_METHOD_STORE = 0x30
_DOS_TIME_2020 = ((2020 - 1980) << 25) | (1 << 21) | (1 << 16)  # 2020-01-01 00:00:00


def _block(head_type: int, flags: int, body: bytes) -> bytes:
    """One RAR4 block header: HEAD_CRC(2) HEAD_TYPE(1) HEAD_FLAGS(2) HEAD_SIZE(2) body."""
    head = struct.pack("<BHH", head_type, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head


def rar4_bytes(entries: dict[str, bytes | None]) -> bytes:
    """A stored RAR4 archive holding `entries` (name -> data; None makes a directory entry).

    Names are given with "/" and stored with RAR4's "\\" path separator, as WinRAR writes
    them (UCF101.rar and HMDB51's rars were made on Windows); so a test can put `../` in one.
    """
    out = io.BytesIO()
    out.write(RAR4_MARKER)
    out.write(_block(_HEAD_MAIN, 0, struct.pack("<HI", 0, 0)))
    for name, data in entries.items():
        raw_name = name.replace("/", "\\").encode("utf-8")
        is_dir = data is None
        payload = b"" if is_dir else data
        attr = 0x10 if is_dir else 0x20  # DOS attributes: directory / archive
        flags = _FLAG_LONG_BLOCK | (_FLAG_DIRECTORY if is_dir else 0)
        body = struct.pack(
            "<IIBIIBBHI",
            len(payload),  # PACK_SIZE
            len(payload),  # UNP_SIZE
            _HOST_WIN32,
            zlib.crc32(payload),  # FILE_CRC
            _DOS_TIME_2020,
            20,  # UNP_VER: 2.0 is enough to read stored data
            _METHOD_STORE,
            len(raw_name),
            attr,
        ) + raw_name
        out.write(_block(_HEAD_FILE, flags, body))
        out.write(payload)
    out.write(_block(_HEAD_END, 0x4000, b""))
    return out.getvalue()


def with_parent_dirs(files: dict[str, bytes]) -> dict[str, bytes | None]:
    """`files` preceded by a directory entry for every parent folder, as archivers write them."""
    entries: dict[str, bytes | None] = {}
    for name in files:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            entries.setdefault("/".join(parts[:i]), None)
    for name, data in files.items():
        entries[name] = data
    return entries


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip of `files`; the same input gives the same bytes (fixed timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def tar_gz_bytes(files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    """A gzipped tar of `files` (and of `symlinks`: name -> link target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buf.getvalue()


def tiny_video_bytes(
    suffix: str = ".avi", frames: int = 6, width: int = 48, height: int = 32, fps: int = 25, seed: int = 0
) -> bytes:
    """A real, decodable clip (MPEG-4 Part 2, like UCF101's Xvid) of random-noise frames."""
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    fmt = {".avi": "avi", ".mp4": "mp4"}[suffix]
    with av.open(buf, "w", format=fmt) as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for i in range(frames):
            img = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
