import numpy as np
import pytest
import torch
from helpers import read_number, write_numbered_video

from pacekit.data import readers
from pacekit.data.prepare import prepare_video
from pacekit.data.readers import PartialVideoError, VideoDecodeError, open_video


@pytest.fixture(scope="module")
def numbered(tmp_path_factory):
    return write_numbered_video(tmp_path_factory.mktemp("v") / "numbered.avi", 50)


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_reader_returns_the_frames_asked_for_in_order(numbered, backend):
    with open_video(numbered, backend) as reader:
        assert reader.num_frames == 50 and reader.fps == pytest.approx(25)
        frames = reader.get_frames([10, 13, 16, 19, 22, 10])
    assert frames.dtype == torch.uint8 and frames.shape == (6, 64, 96, 3)
    assert [read_number(f) for f in frames] == [10, 13, 16, 19, 22, 10]


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_far_apart_and_looping_indices_need_several_seeks(numbered, backend):
    with open_video(numbered, backend) as reader:
        wanted = [45, 0, 46, 1, 30, 49, 2]
        assert [read_number(f) for f in reader.get_frames(wanted)] == wanted
        assert [read_number(f) for f in reader.get_frames([48, 49, 0, 1])] == [48, 49, 0, 1]


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_reader_resizes_while_decoding(numbered, backend):
    with open_video(numbered, backend, size=(128, 171)) as reader:
        frames = reader.get_frames([0, 49])
    assert frames.shape == (2, 128, 171, 3)
    assert [read_number(f) for f in frames] == [0, 49]


def test_frame_pack_reader_matches_the_video(numbered, tmp_path):
    frames_written, warning = prepare_video(numbered, tmp_path / "numbered.jpack", short_side=64)
    assert frames_written == 50 and warning is None
    with open_video(tmp_path / "numbered.jpack") as reader:
        assert reader.num_frames == 50 and (reader.height, reader.width) == (64, 96)
        frames = reader.get_frames([3, 1, 3, 49])
        assert [read_number(f) for f in frames] == [3, 1, 3, 49]
    with open_video(tmp_path / "numbered.jpack", size=(112, 112)) as reader:
        assert reader.get_frames([0]).shape == (1, 112, 112, 3)


def test_frame_folder_reader_reads_the_authors_layout(tmp_path):
    from helpers import numbered_frame
    from torchvision.io import encode_jpeg

    folder = tmp_path / "v_X_g01_c01"
    folder.mkdir()
    for i in range(12):
        jpg = encode_jpeg(torch.from_numpy(numbered_frame(i)).permute(2, 0, 1), quality=95)
        (folder / f"frame{i + 1:06d}.jpg").write_bytes(jpg.numpy().tobytes())
    with open_video(folder) as reader:
        assert reader.num_frames == 12
        assert [read_number(f) for f in reader.get_frames([11, 0, 5])] == [11, 0, 5]


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.avi"):
        open_video(tmp_path / "nothing.avi")


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_garbage_file_is_a_decode_error_naming_the_file(tmp_path, backend):
    bad = tmp_path / "garbage.avi"
    bad.write_bytes(b"RIFF" + bytes(range(256)) * 20)
    with pytest.raises(VideoDecodeError, match="garbage.avi"):
        with open_video(bad, backend) as reader:
            reader.get_frames([0])


def test_out_of_range_indices_are_refused(numbered):
    with open_video(numbered) as reader, pytest.raises(IndexError, match="out of range"):
        reader.get_frames([0, 50])


def test_auto_backend_is_pyav_for_every_container_and_decord_only_when_asked(numbered, tmp_path):
    assert isinstance(open_video(numbered), readers.PyAVReader)
    mp4 = tmp_path / "numbered.mp4"
    mp4.write_bytes(numbered.read_bytes())  # an MPEG-4 AVI under another name: containers are probed
    assert isinstance(open_video(mp4), readers.PyAVReader)
    assert isinstance(open_video(mp4, "decord"), readers.DecordReader)


def test_asking_for_decord_where_it_is_missing_says_how_to_fix_it(numbered, monkeypatch):
    monkeypatch.setattr(readers, "decord_available", lambda: False)
    with pytest.raises(ImportError, match="backend='pyav'"):
        open_video(numbered, "decord")


# ----------------------------------------------------------------------------- real clips (optional)


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_real_ucf101_hmdb51_kinetics_clips_decode(shared_data, backend):
    names = ["ucf101/v_ApplyEyeMakeup_g01_c01.avi", "hmdb51/TrumanShow_wave_f_nm_np1_fr_med_26.avi",
             "kinetics/abseiling_k400.mp4", "other/decord_flipping_a_pancake.mkv"]
    for name in names:
        with open_video(shared_data / "videos" / name, backend, size=(128, 171)) as reader:
            n = reader.num_frames
            frames = reader.get_frames(np.arange(0, n, max(n // 8, 1)))
            assert frames.shape[1:] == (128, 171, 3) and frames.float().std() > 5


@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_hmdb51_header_overcount_does_not_crash(shared_data, backend):
    # RATRACE says 73 frames in its header; 72 decode.
    with open_video(shared_data / "videos" / "hmdb51" / "RATRACE_wave_f_nm_np1_fr_goo_37.avi", backend) as reader:
        frames = reader.get_frames([0, reader.num_frames - 1])
        assert frames.shape[0] == 2
        assert reader.num_frames == 72  # counted from the packets: the header's 73rd frame does not exist


def test_hmdb51_non_utf8_metadata_reads_with_pyav(shared_data):
    path = shared_data / "videos" / "hmdb51" / "hmdb51_Turnk_r_Pippi_Michel_cartwheel_f_cm_np2_le_med_6.avi"
    with open_video(path, "pyav") as reader:
        assert reader.get_frames([0]).shape == (1, 240, 320, 3)


def test_three_frame_video_reads_and_a_broken_stream_raises_past_the_break(shared_data):
    with open_video(shared_data / "videos" / "other" / "decord_video_0.mov") as reader:
        assert reader.num_frames == 3
        assert reader.get_frames([0, 1, 2, 0]).shape[0] == 4
    with open_video(shared_data / "videos" / "other" / "decord_corrupted_truncated.mp4", "pyav") as reader:
        assert reader.get_frames([0, 5]).shape[0] == 2  # before the break: fine
        with pytest.raises(PartialVideoError, match="of the 50 frames"):
            reader.get_frames([0, reader.num_frames - 1])  # never filled in from an earlier frame


def test_corrupt_video_is_a_decode_error_with_decord(shared_data):
    path = shared_data / "videos" / "other" / "decord_corrupted_truncated.mp4"
    with pytest.raises(VideoDecodeError, match="decord_corrupted_truncated.mp4"):
        with open_video(path, "decord") as reader:
            reader.get_frames([reader.num_frames - 1])


def test_memory_backend_serves_every_frame_of_one_full_decode_and_decodes_each_video_once(tmp_path, monkeypatch):
    path = write_numbered_video(tmp_path / "numbered.avi", 40)
    monkeypatch.setattr(readers, "_memory_cache", {})
    opened = []
    real = readers.PyAVReader
    monkeypatch.setattr(readers, "PyAVReader", lambda *a, **k: opened.append(a) or real(*a, **k))
    for indices in ([0, 1, 2], [39, 5, 5, 17], list(range(0, 40, 4))):
        with readers.open_video(path, "memory") as reader:
            assert reader.num_frames == 40
            assert [read_number(f) for f in reader.get_frames(indices).numpy()] == indices
    assert len(opened) == 1                     # decoded once, served from memory afterwards
    with readers.open_video(path, "memory") as reader, pytest.raises(IndexError):
        reader.get_frames([40])
    with pytest.raises(ValueError, match="'memory'"):
        readers.open_video(path, "nope")


def test_memory_backend_never_decodes_whole_a_video_too_big_to_keep(tmp_path, monkeypatch):
    """The decoded size is estimated from the frame count and size before decoding: a video over the cap is
    read from disk frame by frame (exactly), and is never decoded whole."""
    path = write_numbered_video(tmp_path / "numbered.avi", 40)
    monkeypatch.setattr(readers, "_memory_cache", {})
    with readers.open_video(path, "pyav") as reader:
        one_video = 40 * int(reader.get_frames([0]).numel())
    monkeypatch.setattr(readers, "MEMORY_CACHE_BYTES", one_video - 1)
    whole = []
    real_get = readers.PyAVReader.get_frames
    monkeypatch.setattr(readers.PyAVReader, "get_frames",
                        lambda self, idx: whole.append(len(list(idx))) or real_get(self, idx))
    with readers.open_video(path, "memory") as reader:
        assert [read_number(f) for f in reader.get_frames([3, 39]).numpy()] == [3, 39]
    assert whole == [2] and readers._memory_cache == {}  # only the two frames asked for were decoded
    monkeypatch.setattr(readers, "MEMORY_CACHE_BYTES", one_video)
    with readers.open_video(path, "memory") as reader:
        assert [read_number(f) for f in reader.get_frames([3]).numpy()] == [3]
    assert whole[-1] == 40 and len(readers._memory_cache) == 1  # fits: decoded once, whole, and kept


def test_memory_backend_keys_a_relative_path_by_the_folder_it_was_given_in(tmp_path, monkeypatch):
    # Paths are resolved once per (working folder, spelling): the same relative name in two folders is two
    # videos, and an absolute and a relative spelling of one video share one decode.
    one = write_numbered_video(tmp_path / "a" / "clip.avi", 12)
    two = write_numbered_video(tmp_path / "b" / "clip.avi", 30)
    monkeypatch.setattr(readers, "_memory_cache", {})
    monkeypatch.setattr(readers, "_resolved_paths", {})
    monkeypatch.chdir(one.parent)
    with readers.open_video("clip.avi", "memory") as reader:
        assert reader.num_frames == 12
    with readers.open_video(one, "memory") as reader:
        assert reader.num_frames == 12
    assert len(readers._memory_cache) == 1
    monkeypatch.chdir(two.parent)
    with readers.open_video("clip.avi", "memory") as reader:
        assert reader.num_frames == 30 and read_number(reader.get_frames([29])[0].numpy()) == 29
    assert len(readers._memory_cache) == 2
