"""Test helpers: tiny videos whose frames carry their own index, and dataset folders in official layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

BITS = 8
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def numbered_frame(index: int, height: int = 64, width: int = 96) -> np.ndarray:
    """An RGB frame whose 8 vertical bands spell ``index`` in binary (white = 1), robust to lossy codecs."""
    frame = np.zeros((height, width, 3), np.uint8)
    band = width // BITS
    for bit in range(BITS):
        if (index >> bit) & 1:
            frame[:, bit * band : (bit + 1) * band] = 255
    return frame


def read_number(frame) -> int:
    """Inverse of :func:`numbered_frame` for a decoded (possibly resized) ``(H, W, C)`` frame."""
    frame = np.asarray(frame, dtype=np.float32)
    width = frame.shape[1]
    value = 0
    for bit in range(BITS):
        lo, hi = round(bit * width / BITS), round((bit + 1) * width / BITS)
        centre = frame[:, lo + (hi - lo) // 4 : hi - (hi - lo) // 4].mean()
        value |= int(centre > 127) << bit
    return value


def write_numbered_video(path, num_frames: int, height: int = 64, width: int = 96, fps: int = 25) -> Path:
    """Write an MPEG-4 AVI (like UCF101) whose frame i shows the number i."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = 2_000_000
        stream.gop_size = 12
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(numbered_frame(i, height, width), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_ucf_layout(root, classes=("ApplyEyeMakeup", "HandstandPushups", "Basketball"), per_class=4,
                    num_frames=40, crlf=True) -> Path:
    """A UCF101-layout dataset: groups 1-2 train, 3-4 test; 'HandstandPushups' videos use 'HandStand'."""
    root = Path(root)
    eol = "\r\n" if crlf else "\n"
    splits = root / "ucfTrainTestlist"
    splits.mkdir(parents=True, exist_ok=True)
    (splits / "classInd.txt").write_bytes(
        "".join(f"{i + 1} {c}{eol}" for i, c in enumerate(classes)).encode())
    train, test = [], []
    for label, cls in enumerate(classes):
        video_cls = "HandStandPushups" if cls == "HandstandPushups" else cls
        for g in range(1, per_class + 1):
            rel = f"{cls}/v_{video_cls}_g{g:02d}_c01.avi"
            write_numbered_video(root / "UCF-101" / rel, num_frames + label * 3)
            (train if g <= per_class // 2 else test).append((rel, label))
    (splits / "trainlist01.txt").write_bytes("".join(f"{r} {l + 1}{eol}" for r, l in train).encode())
    (splits / "testlist01.txt").write_bytes("".join(f"{r}{eol}" for r, _ in test).encode())
    return root
