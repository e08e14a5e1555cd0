import pytest

from helpers import write_numbered_video
from pacekit.data.splits import SplitError, kinetics_filename, read_folder, read_hmdb51, read_kinetics400, read_ucf101


def test_ucf101_train_and_test_lists_with_crlf(ucf_root):
    train = read_ucf101(ucf_root, "train", 1)
    test = read_ucf101(ucf_root, "test", 1)
    assert train.classes == ["ApplyEyeMakeup", "HandstandPushups", "Basketball"]
    assert len(train.records) == 6 and len(test.records) == 6
    assert [r.label for r in train.records] == [0, 0, 1, 1, 2, 2]
    # test lines carry no label: it comes from the class folder, despite the HandStand spelling
    handstand = [r for r in test.records if "HandStand" in r.name]
    assert handstand and all(r.label == 1 for r in handstand)
    assert all(r.path.is_file() and "\r" not in r.name for r in train.records + test.records)


def test_ucf101_missing_split_file_and_missing_root(tmp_path, ucf_root):
    with pytest.raises(SplitError, match="dataset root not found"):
        read_ucf101(tmp_path / "nope")
    with pytest.raises(SplitError, match="classInd.txt"):
        read_ucf101(tmp_path)
    with pytest.raises(SplitError, match="trainlist02.txt"):
        read_ucf101(ucf_root, "train", 2)


def test_ucf101_listed_video_absent_names_it(tmp_path):
    (tmp_path / "ucfTrainTestlist").mkdir()
    (tmp_path / "ucfTrainTestlist" / "classInd.txt").write_text("1 Jump\n")
    (tmp_path / "ucfTrainTestlist" / "trainlist01.txt").write_text("Jump/v_Jump_g01_c01.avi 1\n")
    with pytest.raises(SplitError, match=r"v_Jump_g01_c01.avi.*expected UCF101 videos"):
        read_ucf101(tmp_path)


def test_ucf101_video_name_case_differences_resolve(tmp_path):
    (tmp_path / "ucfTrainTestlist").mkdir()
    (tmp_path / "ucfTrainTestlist" / "classInd.txt").write_text("1 HandstandPushups\n")
    (tmp_path / "ucfTrainTestlist" / "testlist01.txt").write_text("HandstandPushups/v_HandStandPushups_g01_c01.avi\n")
    folder = tmp_path / "UCF-101" / "HandstandPushups"
    folder.mkdir(parents=True)
    (folder / "v_HandstandPushups_g01_c01.avi").touch()
    assert read_ucf101(tmp_path, "test").records[0].path.name == "v_HandstandPushups_g01_c01.avi"


def test_ucf101_prefers_prepared_pack_when_only_it_exists(tmp_path):
    (tmp_path / "ucfTrainTestlist").mkdir()
    (tmp_path / "ucfTrainTestlist" / "classInd.txt").write_text("1 Jump\r\n")
    (tmp_path / "ucfTrainTestlist" / "trainlist01.txt").write_text("Jump/v_Jump_g01_c01.avi 1\r\n")
    pack = tmp_path / "UCF-101" / "Jump" / "v_Jump_g01_c01.jpack"
    pack.parent.mkdir(parents=True)
    pack.write_bytes(b"x")
    assert read_ucf101(tmp_path).records[0].path == pack


def test_official_ucf101_files_parse_exactly(shared_data, tmp_path):
    # Use the real split files over a folder of empty stand-in videos.
    import shutil

    splits = tmp_path / "ucfTrainTestlist"
    shutil.copytree(shared_data / "splits" / "ucf101", splits)
    for name in ("trainlist01.txt", "testlist01.txt"):
        for line in (splits / name).read_text().splitlines():
            if line.strip():
                video = tmp_path / "UCF-101" / line.split()[0]
                video.parent.mkdir(parents=True, exist_ok=True)
                video.touch()
    train, test = read_ucf101(tmp_path, "train"), read_ucf101(tmp_path, "test")
    assert len(train.classes) == 101 and train.classes[36] == "HandstandPushups"
    assert (len(train.records), len(test.records)) == (9537, 3783)
    assert set(r.label for r in test.records) == set(range(101))
    # the authors' list agrees with the official labels
    authors = {}
    for line in (splits / "video-pace_train_ucf101_split1.list").read_text().splitlines():
        name, label, _ = line.split()
        authors[name.lower() + ".avi"] = int(label)  # the authors spell v_HandstandPushups
    assert all(authors[r.name.lower()] == r.label for r in train.records)


def _hmdb_fixture(root, classes=("wave", "cartwheel")):
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True)
    for c in classes:
        for split in (1, 2, 3):
            lines = [f"{c}_{i}.avi {(i + split) % 3} " for i in range(6)]
            (splits / f"{c}_test_split{split}.txt").write_text("\n".join(lines) + "\n")
        for i in range(6):
            write_numbered_video(root / "videos" / c / f"{c}_{i}.avi", 20)
    return root


def test_hmdb51_ids_trailing_spaces_and_alphabetical_labels(tmp_path):
    root = _hmdb_fixture(tmp_path)
    train = read_hmdb51(root, "train", 1)
    test = read_hmdb51(root, "test", 1)
    unused = read_hmdb51(root, "unused", 1)
    assert train.classes == ["cartwheel", "wave"]
    # id = (i + 1) % 3 for split 1: train (1) is i in {0, 3}; test (2) is i in {1, 4}
    assert sorted(r.name for r in train.records) == ["cartwheel/cartwheel_0.avi", "cartwheel/cartwheel_3.avi",
                                                     "wave/wave_0.avi", "wave/wave_3.avi"]
    assert len(test.records) == 4 and len(unused.records) == 4
    assert {r.label for r in train.records if r.name.startswith("wave")} == {1}


def test_hmdb51_missing_splits_dir(tmp_path):
    with pytest.raises(SplitError, match="testTrainMulti_7030_splits"):
        read_hmdb51(tmp_path)


def test_official_hmdb51_split_files(shared_data, tmp_path):
    import shutil

    shutil.copytree(shared_data / "splits" / "hmdb51" / "testTrainMulti_7030_splits",
                    tmp_path / "testTrainMulti_7030_splits")
    for f in (tmp_path / "testTrainMulti_7030_splits").glob("*_split1.txt"):
        cls = f.name[: -len("_test_split1.txt")]
        for line in f.read_text().splitlines():
            video = tmp_path / "videos" / cls / line.split()[0]
            video.parent.mkdir(parents=True, exist_ok=True)
            video.touch()
    train, test, unused = (read_hmdb51(tmp_path, s, 1) for s in ("train", "test", "unused"))
    assert len(train.classes) == 51
    assert len(train.records) + len(test.records) + len(unused.records) == 6766
    assert (len(train.records), len(test.records)) == (3570, 1530)  # 70 / 30 per class
    classind = (shared_data / "splits" / "hmdb51" / "derived" / "classInd.txt").read_text().split()
    assert train.classes == classind[1::2]


def test_kinetics_csv_nested_and_flat_with_missing_reported(tmp_path):
    ann = tmp_path / "annotations"
    ann.mkdir()
    rows = [("abseiling", "aaa", 0, 10), ("air drumming", "bbb", 12, 22), ("abseiling", "ccc", 5, 15)]
    (ann / "train.csv").write_text("label,youtube_id,time_start,time_end,split\n" +
                                   "".join(f"{l},{y},{s},{e},train\n" for l, y, s, e in rows))
    write_numbered_video(tmp_path / "train" / "abseiling" / kinetics_filename("aaa", 0, 10).replace(".mp4", ".avi"), 5)
    (tmp_path / "train" / "abseiling" / kinetics_filename("aaa", 0, 10)).write_bytes(b"x")
    (tmp_path / "train" / kinetics_filename("bbb", 12, 22)).write_bytes(b"x")  # flat
    index = read_kinetics400(tmp_path, "train")
    assert index.classes == ["abseiling", "air drumming"]
    assert [r.name for r in index.records] == ["aaa_000000_000010.mp4", "bbb_000012_000022.mp4"]
    assert [r.label for r in index.records] == [0, 1]
    assert index.missing == ["ccc_000005_000015.mp4"]


def test_kinetics_missing_csv(tmp_path):
    with pytest.raises(SplitError, match=r"annotations.*train.csv"):
        read_kinetics400(tmp_path)


def test_folder_dataset(tmp_path):
    for c in ("b_run", "a_jump"):
        for i in range(2):
            write_numbered_video(tmp_path / "train" / c / f"{i}.avi", 5)
    index = read_folder(tmp_path, "train")
    assert index.classes == ["a_jump", "b_run"] and len(index.records) == 4
    with pytest.raises(SplitError, match="no class folders"):
        read_folder(tmp_path / "train" / "a_jump", None)
