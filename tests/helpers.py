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


#: The videos :func:`make_ucf_with_broken_videos` overwrites with garbage: one of the test list (record
#: 2 of 6) and one of the train list (record 4 of 6).
BROKEN_TEST = "HandstandPushups/v_HandStandPushups_g03_c01.avi"
BROKEN_TRAIN = "Basketball/v_Basketball_g01_c01.avi"


def make_ucf_with_broken_videos(root) -> Path:
    """:func:`make_ucf_layout` (3 classes; train and test lists of 6) with :data:`BROKEN_TEST` and
    :data:`BROKEN_TRAIN` replaced by bytes no reader can decode."""
    root = make_ucf_layout(root)
    for rel in (BROKEN_TEST, BROKEN_TRAIN):
        (root / "UCF-101" / rel).write_bytes(b"not a video at all" * 100)
    return root


def make_users_ucf101(root, videos_folder: bool = False) -> Path:
    """A user's own copy of UCF101 at ``root``: ``root/<Class>/*.avi`` (``root/UCF-101/<Class>/`` with
    ``videos_folder``) and ``root/ucfTrainTestlist/`` with the official split files' form (101 classes, CRLF lines).
    The videos are a few bytes each: pacekit must refuse the folder before it reads one."""
    root = Path(root)
    classes = ["ApplyEyeMakeup", "ApplyLipstick", "Archery"] + [f"Class{i:03d}" for i in range(4, 102)]
    train, test = [], []
    for label, name in enumerate(classes[:3], start=1):
        for group in (1, 8):
            rel = f"{name}/v_{name}_g{group:02d}_c01.avi"
            video = root / ("UCF-101" if videos_folder else "") / rel
            video.parent.mkdir(parents=True, exist_ok=True)
            video.write_bytes(b"RIFF" + rel.encode() * 4)
            (test if group == 1 else train).append((rel, label))
    splits = root / "ucfTrainTestlist"
    splits.mkdir(parents=True, exist_ok=True)
    (splits / "classInd.txt").write_bytes("".join(f"{i} {c}\r\n" for i, c in enumerate(classes, start=1)).encode())
    (splits / "trainlist01.txt").write_bytes("".join(f"{r} {label}\r\n" for r, label in train).encode())
    (splits / "testlist01.txt").write_bytes("".join(f"{r}\r\n" for r, _ in test).encode())
    return root


def tree_bytes(root) -> dict:
    """``{relative path: bytes}`` of every file under ``root``, read with the operating system's calls (a test
    that patches ``open`` does not stop it)."""
    import os

    files = {}
    for top, _, names in os.walk(root):
        for name in names:
            path = Path(top) / name
            fd = os.open(path, os.O_RDONLY)
            try:
                chunks = []
                while chunk := os.read(fd, 1 << 20):
                    chunks.append(chunk)
            finally:
                os.close(fd)
            files[path.relative_to(root).as_posix()] = b"".join(chunks)
    return files


#: Command-line flags that keep a linear probe or fine-tuning of :func:`build_tiny_flow`'s set tiny.
TINY_FLAGS = ["--frame-size", "64,80", "--crop", "64", "--clip-len", "8", "--num-workers", "0",
              "--ft-epochs", "1", "--ft-epoch-repeat", "1", "--ft-batch-size", "4", "--eval-batch-size", "4",
              "--labels-per-class", "none", "--device", "cpu", "--no-progress"]


def build_tiny_flow(base) -> dict:
    """A synthetic set (3 classes, 12 train / 12 test videos of 80x64) under ``base`` and one-epoch
    pretraining and fine-tuning checkpoints of the tiny backbone (about 5 s).

    Returns ``dict(base, root, cfg, pre, ft)``: the folder, the dataset root, the pretraining config and
    the two checkpoint paths. The conftest's session fixture ``flow`` builds it once per test session.
    """
    from pacekit.config import get_config
    from pacekit.data.synthetic import make_synthetic
    from pacekit.recipes.train import finetune, pretrain

    if hasattr(base, "mktemp"):  # a pytest tmp_path_factory, as older callers pass
        base = base.mktemp("flow")
    base = Path(base)
    root = make_synthetic(base / "synthetic", num_classes=3, videos_per_class=8, width=80, height=64,
                          duration=(1.6, 2.0), workers=1, progress=False)
    cfg = get_config("cpu-tiny", dataset="synthetic", root=str(root), out_dir=str(base / "runs"), name="pre",
                     frame_size=(64, 80), crop=64, clip_len=8, epochs=1, epoch_repeat=1, batch_size=4,
                     num_workers=0, progress=False, ft_epochs=1, ft_epoch_repeat=1, ft_batch_size=4,
                     labels_per_class=None, eval_batch_size=4)
    pre = pretrain(cfg)
    ft = finetune(cfg.replace(name="ft", pretrained=str(pre.checkpoint)))
    return dict(base=base, root=root, cfg=cfg, pre=pre.checkpoint, ft=ft.checkpoint)


def tiny_config(root, out, **kw):
    """3 classes x 2 train videos of 64x96 frames (conftest's ucf_root), 4-frame 32x32 clips."""
    from pacekit.config import get_config

    values = dict(dataset="ucf101", root=str(root), out_dir=str(out), name="run", backbone="tiny",
                  frame_size=(32, 48), clip_len=4, crop=32, epoch_repeat=2, epochs=1, batch_size=4, lr=0.05,
                  ft_epochs=1, ft_batch_size=3, ft_epoch_repeat=1, ft_lr=0.05, num_workers=0, log_every=1,
                  progress=False, device="cpu", num_clips=2, eval_batch_size=2, threads=1)
    values.update(kw)
    return get_config("cpu-tiny", **values)


# ------------------------------------------------------------------------------------ processes (from /proc)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``."""
    import os

    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def wait_until(condition, limit: float = 20.0) -> bool:
    """Poll ``condition`` until it holds or ``limit`` seconds pass (a wait for an event, not a speed bar)."""
    import time

    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def alive(pid: int) -> bool:
    """Is ``pid`` a running process (a zombie nobody reaps has ended all the same)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")
