"""Golden-frame tests: every reader's frames equal the same indices of one full sequential decode.

The ground truth is PyAV decoding a file from its first packet to its last and numbering the frames as
they come out (``enumerate(container.decode(stream))``), the order every player shows them in. Readers
are checked against it on random pace clips (a fresh reader per clip, as the datasets use them, and
one reader reused across clips), on a generated corpus of the hard cases and on the real samples
beside the repository (skipped when they are absent):

- ``pyav``: exact equality at the native size;
- ``decord``: mean absolute difference at most ``DECORD_TOLERANCE`` grey levels (its MPEG-4 IDCT
  rounds a few pixels differently), and the frame must be nearer its own golden frame than either
  neighbour;
- the prepared format (JPEG frame packs at short side 128) and resized reads: at most
  ``LOSSY_TOLERANCE`` grey levels from the golden frame resized with torch's antialiased bilinear
  filter (the readers resize with swscale's area filter or JPEG-compress, so not bit-exact; the
  corpus' noise texture is the worst case), and again nearer its own golden frame than a neighbour.

No reader is compared with another reader.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import SHARED_DATA

from pacekit.data.prepare import prepare_video, short_side_size
from pacekit.data.readers import (
    PartialVideoError,
    VideoDecodeError,
    _resize_frames,
    decord_available,
    open_video,
    probe_video,
)
from pacekit.pace import sample_indices

DECORD_TOLERANCE = 0.5
LOSSY_TOLERANCE = 8.0
CLIPS_PER_FILE = 6
CLIP_LEN = 16


# ------------------------------------------------------------------------------------ ground truth


def golden_frames(path, keep: set[int], size=None) -> tuple[int, dict[int, np.ndarray]]:
    """(number of frames a sequential decode outputs before it stops, {index: RGB frame} for ``keep``)."""
    import av

    frames, count = {}, 0
    with av.open(str(path), metadata_errors="ignore") as container:
        try:
            for count, frame in enumerate(container.decode(video=0), start=1):
                if count - 1 in keep:
                    rgb = frame.to_ndarray(format="rgb24")
                    if size is not None:
                        rgb = _resize_frames(torch.from_numpy(rgb)[None], size)[0].numpy()
                    frames[count - 1] = rgb
        except (av.error.FFmpegError, OSError):
            pass  # a damaged stream: the frames before the break are the truth
    return count, frames


def pace_clips(num_frames: int, seed: int) -> list[list[int]]:
    """Random clips at paces 1/2 .. 4 (the paper's relative set plus a slow one), all inside the video."""
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(CLIPS_PER_FILE):
        pace = Fraction(int(rng.choice([1, 2, 3, 4])), 1) if rng.random() < 0.8 else Fraction(1, 2)
        span = int(np.ceil((CLIP_LEN - 1) * pace)) + 1
        if span > num_frames:
            pace, span = Fraction(1), min(CLIP_LEN, num_frames)
        start = int(rng.integers(0, num_frames - span + 1))
        clips.append([int(i) for i in sample_indices(num_frames, min(CLIP_LEN, span), pace, start)])
    clips.append([0, num_frames - 1, num_frames // 2])  # first, last and a jump back
    return clips


def assert_frames_match(frames, golden: dict, indices, tolerance: float, what: str) -> None:
    frames = frames.numpy()
    for j, i in enumerate(indices):
        if tolerance == 0:
            assert np.array_equal(frames[j], golden[i]), f"{what}: frame {i} differs from the sequential decode"
            continue
        diff = np.abs(frames[j].astype(np.float32) - golden[i]).mean()
        assert diff <= tolerance, f"{what}: frame {i} is {diff:.2f} grey levels off the sequential decode"
        for other in (i - 1, i + 1):  # and it is frame i, not a neighbour that looks alike
            if other in golden and np.abs(golden[other].astype(np.float32) - golden[i]).mean() > 2 * tolerance:
                assert diff < np.abs(frames[j].astype(np.float32) - golden[other]).mean(), \
                    f"{what}: frame {i} is nearer frame {other} of the sequential decode"


def check_reader(path, backend: str, tolerance: float, seed: int = 0) -> None:
    """Random pace clips of ``path`` read with ``backend`` equal the sequential decode."""
    total, _ = golden_frames(path, set())
    with open_video(path, backend) as reader:
        assert reader.num_frames == total, f"{backend} counts {reader.num_frames} frames, {total} decode"
    clips = pace_clips(total, seed)
    wanted = {i + d for clip in clips for i in clip for d in (-1, 0, 1)}
    _, golden = golden_frames(path, wanted)
    for clip in clips:  # a fresh reader per clip, as the datasets open them
        with open_video(path, backend) as reader:
            assert_frames_match(reader.get_frames(clip), golden, clip, tolerance, f"{Path(path).name} [{backend}]")
    with open_video(path, backend) as reader:  # one reader for every clip
        for clip in clips:
            assert_frames_match(reader.get_frames(clip), golden, clip, tolerance,
                                f"{Path(path).name} [{backend}, reused]")


def check_resized(path, size=(128, 171), seed: int = 1) -> None:
    total, _ = golden_frames(path, set())
    clips = pace_clips(total, seed)[:3]
    wanted = {i + d for clip in clips for i in clip for d in (-1, 0, 1)}
    _, golden = golden_frames(path, wanted, size)
    with open_video(path, "pyav", size=size) as reader:
        for clip in clips:
            assert_frames_match(reader.get_frames(clip), golden, clip, LOSSY_TOLERANCE, f"{Path(path).name} resized")


def check_prepared(path, tmp_path, seed: int = 2) -> None:
    pack = tmp_path / (Path(path).stem + ".jpack")
    written, _ = prepare_video(path, pack, short_side=128)
    total, first = golden_frames(path, {0})
    assert written == total
    size = short_side_size(*first[0].shape[:2], 128)
    clips = pace_clips(total, seed)[:3]
    wanted = {i + d for clip in clips for i in clip for d in (-1, 0, 1)}
    _, golden = golden_frames(path, wanted, size)
    with open_video(pack) as reader:
        assert reader.num_frames == total
        for clip in clips:
            assert_frames_match(reader.get_frames(clip), golden, clip, LOSSY_TOLERANCE, f"{pack.name} prepared")


# ---------------------------------------------------------------------------------- generated corpus


def _content(i: int, height: int, width: int) -> np.ndarray:
    """A frame with a moving textured square over a drifting gradient: B-frames get used, frames differ."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.empty((height, width, 3), np.uint8)
    frame[..., 0] = (x * 3 + i * 5) % 256
    frame[..., 1] = (y * 4 + i * 3) % 256
    frame[..., 2] = 128
    side = max(8, min(height, width) // 3)
    top, left = (i * 2) % max(1, height - side), (i * 3) % max(1, width - side)
    rng = np.random.default_rng(7)
    frame[top : top + side, left : left + side] = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    # the frame's number in 8 bands along the top, so a wrong frame is also visibly wrong
    band = width // 8
    for bit in range(8):
        frame[:6, bit * band : (bit + 1) * band] = 255 if (i >> bit) & 1 else 0
    return frame


def write_video(path, codec: str, num_frames: int, height: int = 48, width: int = 64, fps: int = 25,
                options=None, bframes: int = 0, gop: int = 12, durations=None, pix_fmt="yuv420p") -> Path:
    """Write ``num_frames`` frames with PyAV. ``durations`` (in 1/1000 s) makes a variable frame rate."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps, options=options or {})
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.gop_size = gop
        if bframes:
            stream.codec_context.max_b_frames = bframes
        if durations is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(_content(i, height, width), format="rgb24")
            if durations is not None:
                frame.pts, frame.time_base = pts, Fraction(1, 1000)
                pts += int(durations[i % len(durations)])
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return Path(path)


CORPUS = {
    # MPEG-4 Part 2 in AVI with B-frames, as UCF101 and HMDB51 store them
    "mpeg4_bframes.avi": dict(codec="mpeg4", num_frames=90, bframes=2, gop=12, height=120, width=160),
    # H.264 with B-frames and keyframes 250 frames apart, as many Kinetics clips
    "h264_distant_keyframes.mp4": dict(codec="libx264", num_frames=160, gop=250,
                                       options={"bf": "3", "keyint": "250", "preset": "ultrafast", "tune": "zerolatency"}),
    "h264_bframes.mp4": dict(codec="libx264", num_frames=120, gop=30, options={"bf": "3", "preset": "veryfast"}),
    # H.264 inside AVI, as the NTU RGB+D sample
    "h264_in.avi": dict(codec="libx264", num_frames=80, gop=40, options={"bf": "2", "preset": "veryfast"}),
    # variable frame rate in Matroska: frames 20, 40 and 80 ms apart
    "h264_vfr.mkv": dict(codec="libx264", num_frames=90, gop=30, options={"bf": "2", "preset": "veryfast"},
                         durations=[20, 40, 80, 40, 20]),
    "mjpeg.avi": dict(codec="mjpeg", num_frames=60, pix_fmt="yuvj420p"),
    # an odd frame size
    "odd_size.mkv": dict(codec="libx264", num_frames=70, height=57, width=99, options={"preset": "veryfast"},
                         pix_fmt="yuv444p"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("golden")
    return {name: write_video(folder / name, **spec) for name, spec in CORPUS.items()}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_pyav_reader_equals_the_sequential_decode_on_the_generated_corpus(corpus, name):
    check_reader(corpus[name], "pyav", 0)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_decord_reader_equals_the_sequential_decode_on_the_generated_corpus(corpus, name):
    if not decord_available():
        pytest.skip("decord is not installed")
    check_reader(corpus[name], "decord", DECORD_TOLERANCE)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_prepared_format_equals_the_sequential_decode_on_the_generated_corpus(corpus, name, tmp_path):
    check_prepared(corpus[name], tmp_path)


def test_resized_reads_equal_the_resized_sequential_decode(corpus):
    check_resized(corpus["mpeg4_bframes.avi"], size=(40, 56))
    check_resized(corpus["h264_vfr.mkv"], size=(40, 56))


def test_every_frame_of_a_variable_frame_rate_video_is_reachable(corpus):
    path = corpus["h264_vfr.mkv"]
    total, golden = golden_frames(path, set(range(90)))
    assert total == 90
    with open_video(path, "pyav") as reader:
        frames = reader.get_frames(list(range(90)))
    assert_frames_match(frames, golden, list(range(90)), 0, "vfr")


def test_a_pace_2_clip_of_a_b_frame_avi_is_at_pace_2(corpus):
    """The case that was wrong: indices 60, 62, ... 90 of an AVI with B-frames."""
    path = corpus["mpeg4_bframes.avi"]
    clip = list(range(58, 90, 2))
    _, golden = golden_frames(path, set(range(50, 90)))
    with open_video(path, "pyav") as reader:
        assert_frames_match(reader.get_frames(clip), golden, clip, 0, "pace-2 clip")


# ------------------------------------------------------------------------------ partly decodable


def cut(path, fraction: float, out: Path) -> Path:
    data = Path(path).read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


@pytest.mark.parametrize("backend", ["pyav", "decord"])
def test_a_video_cut_short_is_refused_by_every_reader(corpus, tmp_path, backend):
    if backend == "decord" and not decord_available():
        pytest.skip("decord is not installed")
    broken = cut(corpus["mpeg4_bframes.avi"], 0.5, tmp_path / "cut.avi")
    with pytest.raises(PartialVideoError, match=r"only \d+ of the 90 frames"):
        open_video(broken, backend)


def test_a_video_cut_short_is_named_by_the_probe_and_refused_by_prepare(corpus, tmp_path):
    broken = cut(corpus["mpeg4_bframes.avi"], 0.5, tmp_path / "cut.avi")
    probe = probe_video(broken)
    assert probe.partly_decodable and 0 < probe.decodable_frames < 60 and probe.listed_frames == 90
    with pytest.raises(PartialVideoError):
        prepare_video(broken, tmp_path / "cut.jpack")
    assert not (tmp_path / "cut.jpack").exists()
    assert not probe_video(corpus["mpeg4_bframes.avi"]).partly_decodable


def test_a_truncated_frame_pack_is_refused(corpus, tmp_path):
    pack = tmp_path / "v.jpack"
    prepare_video(corpus["mjpeg.avi"], pack)
    cut(pack, 0.8, tmp_path / "short.jpack")
    with pytest.raises(VideoDecodeError, match="truncated frame pack"):
        open_video(tmp_path / "short.jpack")


# ----------------------------------------------------------------------------------- real samples


def real_videos() -> list[Path]:
    folder = SHARED_DATA / "videos"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*/*") if p.suffix.lower() in (".avi", ".mp4", ".mkv", ".mov"))


REAL = real_videos()
REAL_IDS = [p.name[:40] for p in REAL]
skip_without_samples = pytest.mark.skipif(not REAL, reason="real dataset samples (../shared/data) are absent")
DAMAGED = "decord_corrupted_truncated.mp4"  # breaks part-way: frames past the break must raise


def _check_real(path: Path, backend: str, tolerance: float) -> None:
    if path.name == DAMAGED:
        total, golden = golden_frames(path, set(range(10)))
        with open_video(path, backend) as reader:
            assert_frames_match(reader.get_frames(list(range(0, 10, 2))), golden, list(range(0, 10, 2)),
                                tolerance, path.name)
        with pytest.raises(VideoDecodeError):
            with open_video(path, backend) as reader:
                reader.get_frames(list(range(30, 46)))
        return
    if "ntu_rgbd" in path.name and backend == "decord":
        pytest.skip("1080p H.264 in AVI from the first frame each time: minutes with decord")
    check_reader(path, backend, tolerance, seed=len(path.name))


@skip_without_samples
@pytest.mark.parametrize("path", REAL, ids=REAL_IDS)
def test_pyav_reader_equals_the_sequential_decode_on_the_real_samples(path):
    _check_real(path, "pyav", 0)


@skip_without_samples
@pytest.mark.parametrize("path", REAL, ids=REAL_IDS)
def test_decord_reader_equals_the_sequential_decode_on_the_real_samples(path):
    if not decord_available():
        pytest.skip("decord is not installed")
    _check_real(path, "decord", DECORD_TOLERANCE)


@skip_without_samples
@pytest.mark.parametrize("path", [p for p in REAL if p.name != DAMAGED and "ntu_rgbd" not in p.name],
                         ids=[i for p, i in zip(REAL, REAL_IDS) if p.name != DAMAGED and "ntu_rgbd" not in p.name])
def test_prepared_format_equals_the_sequential_decode_on_the_real_samples(path, tmp_path):
    check_prepared(path, tmp_path)


@skip_without_samples
def test_a_real_avi_cut_at_30_percent_is_named_not_shortened(tmp_path):
    source = SHARED_DATA / "videos" / "ucf101" / "v_ApplyEyeMakeup_g01_c01.avi"
    broken = cut(source, 0.3, tmp_path / "v_ApplyEyeMakeup_cut.avi")
    probe = probe_video(broken)
    assert probe.listed_frames == 164 and probe.partly_decodable and probe.decodable_frames < 60
    for backend in ("pyav", "decord") if decord_available() else ("pyav",):
        with pytest.raises(PartialVideoError, match="of the 164 frames"):
            open_video(broken, backend)
    with pytest.raises(PartialVideoError):
        prepare_video(broken, tmp_path / "cut.jpack")


@skip_without_samples
def test_hmdb51_one_frame_over_count_is_not_partly_decodable():
    for path in (SHARED_DATA / "videos" / "hmdb51").glob("*.avi"):
        probe = probe_video(path)
        assert not probe.partly_decodable, path.name
        with open_video(path, "pyav") as reader:
            assert reader.num_frames == probe.decodable_frames
