import re

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


# ------------------------------------------------------------------------------------ checked contents


def _ucf(root, train=None, test=None, classes=("Jump", "Run", "HandstandPushups"), class_ind=None, eol="\n"):
    """A UCF101-layout root whose lists hold exactly ``train`` / ``test`` (lines, or None for no file);
    every listed ``<Class>/<video>`` exists as an empty file."""
    splits = root / "ucfTrainTestlist"
    splits.mkdir(parents=True, exist_ok=True)
    if class_ind is None:
        class_ind = [f"{i} {c}" for i, c in enumerate(classes, 1)]
    (splits / "classInd.txt").write_bytes("".join(line + eol for line in class_ind).encode())
    for name, lines in (("trainlist01.txt", train), ("testlist01.txt", test)):
        if lines is None:
            continue
        (splits / name).write_bytes("".join(line + eol for line in lines).encode())
        for line in lines:
            rel = line.split()[0] if line.split() else ""
            if rel.count("/") == 1 and not rel.startswith("/") and ".." not in rel:
                video = root / "UCF-101" / rel
                video.parent.mkdir(parents=True, exist_ok=True)
                video.touch()
    return root


GOOD_TRAIN = ["Jump/v_Jump_g01_c01.avi 1", "Jump/v_Jump_g02_c01.avi 1", "Run/v_Run_g01_c01.avi 2",
              "Run/v_Run_g02_c01.avi 2", "HandstandPushups/v_HandStandPushups_g01_c01.avi 3"]


def test_ucf101_valid_crlf_bom_blank_lines_parse_and_report_no_duplicates(tmp_path):
    root = _ucf(tmp_path, train=GOOD_TRAIN[:2] + ["", "  "] + [l + "  " for l in GOOD_TRAIN[2:]],
                test=["Run/v_Run_g03_c01.avi", "HandstandPushups/v_HandStandPushups_g02_c01.avi"], eol="\r\n")
    class_ind = root / "ucfTrainTestlist" / "classInd.txt"
    class_ind.write_bytes(b"\xef\xbb\xbf" + class_ind.read_bytes())  # a BOM, as some editors save it
    train, test = read_ucf101(root, "train"), read_ucf101(root, "test")
    assert [r.label for r in train.records] == [0, 0, 1, 1, 2] and train.classes[0] == "Jump"
    assert [r.label for r in test.records] == [1, 2]
    assert train.duplicates == [] and test.duplicates == [] and train.missing == []


@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r"])
def test_ucf101_error_line_numbers_count_blank_lines_whatever_the_line_ends(tmp_path, eol):
    _ucf(tmp_path, train=[GOOD_TRAIN[0], "", GOOD_TRAIN[2], "Run/v_Run_g09_c01.avi two"], eol=eol)
    with pytest.raises(SplitError, match=r"trainlist01\.txt line 4: expected '<Class>/<video>\.avi "
                                         r"<label 1-3>', got 'Run/v_Run_g09_c01\.avi two'"):
        read_ucf101(tmp_path)


def _escapes(tmp_path):
    """(line, regex the error must match) for paths that would open something outside the dataset."""
    secret = tmp_path / "secret.avi"
    secret.touch()
    return [
        ("../../secret.avi 1", r"'\.\./\.\./secret\.avi' is a path that climbs out with '\.\.'"),
        ("Jump/../../../secret.avi 1", r"climbs out with '\.\.'"),
        (f"{secret} 1", r"is an absolute path"),
        ("..\\..\\secret.avi 1", r"climbs out"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_ucf101_rejects_listed_paths_that_leave_the_dataset(tmp_path, case):
    line, why = _escapes(tmp_path)[case]
    root = _ucf(tmp_path / "ds", train=GOOD_TRAIN[:2] + [line])
    with pytest.raises(SplitError, match=rf"trainlist01\.txt line 3: .*{why}.*expected a path relative to "):
        read_ucf101(root)


@pytest.mark.parametrize("link", ["video", "class folder"])
def test_ucf101_rejects_symlinks_leading_out_of_the_dataset(tmp_path, link):
    outside = tmp_path / "elsewhere"
    (outside / "v_Run_g01_c01.avi").parent.mkdir(parents=True)
    (outside / "v_Run_g01_c01.avi").touch()
    root = _ucf(tmp_path / "ds", train=GOOD_TRAIN[:2])
    (root / "ucfTrainTestlist" / "trainlist01.txt").write_text("\n".join(GOOD_TRAIN[:2] + [GOOD_TRAIN[2]]))
    target = root / "UCF-101" / "Run"
    if link == "video":
        target.mkdir()
        (target / "v_Run_g01_c01.avi").symlink_to(outside / "v_Run_g01_c01.avi")
    else:
        target.symlink_to(outside, target_is_directory=True)
    with pytest.raises(SplitError, match=r"trainlist01\.txt line 3: 'Run/v_Run_g01_c01\.avi' resolves to "
                                         r".*elsewhere.*outside the dataset's video folder"):
        read_ucf101(root)


def test_ucf101_symlinked_video_folder_and_links_inside_it_are_fine(tmp_path):
    real = _ucf(tmp_path / "real", train=GOOD_TRAIN[:3])
    linked = tmp_path / "linked"
    (linked / "ucfTrainTestlist").mkdir(parents=True)
    for f in ("classInd.txt", "trainlist01.txt"):
        (linked / "ucfTrainTestlist" / f).write_bytes((real / "ucfTrainTestlist" / f).read_bytes())
    (linked / "UCF-101").symlink_to(real / "UCF-101", target_is_directory=True)
    (real / "UCF-101" / "Run" / "v_Run_g01_c01.avi").unlink()
    (real / "UCF-101" / "Run" / "v_Run_g01_c01.avi").symlink_to(real / "UCF-101" / "Jump" / "v_Jump_g01_c01.avi")
    index = read_ucf101(linked)
    assert [r.label for r in index.records] == [0, 0, 1] and index.duplicates == []


@pytest.mark.parametrize("label, line_no", [(0, 2), (4, 3), (102, 2), (-1, 1)])
def test_ucf101_label_out_of_range_names_file_line_and_range(tmp_path, label, line_no):
    train = list(GOOD_TRAIN)
    rel = train[line_no - 1].split()[0]
    train[line_no - 1] = f"{rel} {label}"
    _ucf(tmp_path, train=train)
    with pytest.raises(SplitError) as err:
        read_ucf101(tmp_path)
    message = str(err.value)
    assert f"trainlist01.txt line {line_no}: label {label} is out of range: expected 1-3" in message
    assert repr(f"{rel} {label}") in message and "classInd.txt" in message


def test_ucf101_single_label_mismatch_names_line_label_and_folder_label(tmp_path):
    train = list(GOOD_TRAIN)
    train[3] = "Run/v_Run_g02_c01.avi 3"  # Run is 2
    _ucf(tmp_path, train=train)
    with pytest.raises(SplitError) as err:
        read_ucf101(tmp_path)
    message = str(err.value)
    assert "trainlist01.txt line 4: label 3 disagrees with the class folder 'Run', which is 2" in message
    assert "expected 'Run/v_Run_g02_c01.avi 2'" in message and "'Run/v_Run_g02_c01.avi 3'" in message


@pytest.mark.parametrize("offset, share, expected", [
    (-1, "all", r"all off by -1 from their class folders \(5 of 5 lines.*the file is 0-based\?"),
    (+1, "all", r"all off by \+1 from their class folders \(5 of 5 lines.*another classInd\.txt"),
    (-1, "nearly", r"nearly all off by -1 from their class folders \(10 of 11 lines.*0-based"),
])
def test_ucf101_labels_all_off_by_one_offset_is_one_error(tmp_path, offset, share, expected):
    lines = GOOD_TRAIN * 2 + GOOD_TRAIN[:1] if share == "nearly" else GOOD_TRAIN
    shifted = [f"{l.split()[0]} {int(l.split()[1]) + offset}" for l in lines]
    if share == "nearly":
        shifted[-1] = lines[-1]  # one line is right
        shifted = [s.replace("g0", f"g{i}") for i, s in enumerate(shifted)]
    _ucf(tmp_path, train=shifted)
    with pytest.raises(SplitError, match=rf"labels of .*trainlist01\.txt are {expected}"):
        read_ucf101(tmp_path)


def test_ucf101_duplicates_are_recorded_dropped_and_warned(tmp_path):
    train = GOOD_TRAIN + [GOOD_TRAIN[1], "HandstandPushups/v_HandstandPushups_g01_c01.avi 3"]
    _ucf(tmp_path, train=train, test=["Run/v_Run_g05_c01.avi", "Jump/v_Jump_g05_c01.avi", "Run/v_Run_g05_c01.avi"])
    # the second HandstandPushups line differs only in letter case: one file on disk
    (tmp_path / "UCF-101" / "HandstandPushups" / "v_HandstandPushups_g01_c01.avi").unlink()
    with pytest.warns(UserWarning, match=r"2 videos are listed more than once .*trainlist01\.txt line 6 "
                                         r"repeats trainlist01\.txt line 2"):
        train_index = read_ucf101(tmp_path, "train")
    assert len(train_index.records) == 5
    assert train_index.duplicates == ["Jump/v_Jump_g02_c01.avi", "HandstandPushups/v_HandstandPushups_g01_c01.avi"]
    with pytest.warns(UserWarning, match="1 videos are listed more than once"):
        test_index = read_ucf101(tmp_path, "test")
    assert [r.name for r in test_index.records] == ["Run/v_Run_g05_c01.avi", "Jump/v_Jump_g05_c01.avi"]
    assert test_index.duplicates == ["Run/v_Run_g05_c01.avi"]


@pytest.mark.parametrize("file, lines, line_no, expected", [
    ("trainlist01.txt", GOOD_TRAIN[:2] + ["foo"], 3, r"expected '<Class>/<video>\.avi <label 1-3>', got 'foo'"),
    ("trainlist01.txt", ["Jump/v_Jump_g01_c01.avi one"], 1, r"expected '<Class>/<video>\.avi <label 1-3>'"),
    ("trainlist01.txt", GOOD_TRAIN[:1] + ["Jump/v_Jump_g01_c01 0 120"], 2,
     r"expected '<Class>/<video>\.avi <label 1-3>', got 'Jump/v_Jump_g01_c01 0 120'"),
    ("trainlist01.txt", ["Jump/sub/v_Jump_g01_c01.avi 1"], 1, r"expected '<Class>/<video>\.avi <label 1-3>'"),
    ("trainlist01.txt", ["Walk/v_Walk_g01_c01.avi 1"], 1, r"class folder 'Walk' .* is not in .*classInd\.txt"),
    ("testlist01.txt", ["Jump/v_Jump_g01_c01.avi", "Jump"], 2, r"expected '<Class>/<video>\.avi', got 'Jump'"),
    ("classInd.txt", ["1 Jump", "2"], 2, r"expected '<number> <ClassName>' such as '1 ApplyEyeMakeup', got '2'"),
    ("classInd.txt", ["1 Jump", "two Run"], 2, r"expected '<number> <ClassName>'"),
    ("classInd.txt", ["1 Jump", "3 Run"], 2, r"expected class number 2"),
    ("classInd.txt", ["1 Jump", "2 jump"], 2, r"class 'jump' is already listed on line 1"),
])
def test_ucf101_malformed_lines_name_file_line_and_expected_form(tmp_path, file, lines, line_no, expected):
    if file == "classInd.txt":
        _ucf(tmp_path, train=GOOD_TRAIN[:1], class_ind=lines)
    elif file == "testlist01.txt":
        _ucf(tmp_path, test=lines)
    else:
        _ucf(tmp_path, train=lines)
    with pytest.raises(SplitError, match=rf"{re.escape(file)} line {line_no}: .*{expected}"):
        read_ucf101(tmp_path, "test" if file == "testlist01.txt" else "train")


def _hmdb(root, lines_by_class, split=1):
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True, exist_ok=True)
    for cls, lines in lines_by_class.items():
        (splits / f"{cls}_test_split{split}.txt").write_text("".join(f"{l}\n" for l in lines))
        for line in lines:
            name = line.split()[0] if line.split() else ""
            if name and "/" not in name and ".." not in name:
                (root / "videos" / cls).mkdir(parents=True, exist_ok=True)
                (root / "videos" / cls / name).touch()
    return root


@pytest.mark.parametrize("line", ["b.avi 3 ", "b.avi ", "b.avi 1 extra", "b.avi x"])
def test_hmdb51_malformed_line_names_file_line_and_form(tmp_path, line):
    _hmdb(tmp_path, {"wave": ["a.avi 1 ", line]})
    got = re.escape(repr(line.strip()))
    with pytest.raises(SplitError, match=rf"wave_test_split1\.txt line 2: expected '<video>\.avi <id>' with id 0 "
                                         rf"\(unused\), 1 \(train\) or 2 \(test\), got {got}"):
        read_hmdb51(tmp_path)


def test_hmdb51_rejects_paths_leaving_the_dataset_and_symlinks_out(tmp_path):
    (tmp_path / "secret.avi").touch()
    _hmdb(tmp_path / "a", {"wave": ["a.avi 1 ", "../../secret.avi 1 "]})
    with pytest.raises(SplitError, match=r"wave_test_split1\.txt line 2: '\.\./\.\./secret\.avi' is a path that "
                                         r"climbs out"):
        read_hmdb51(tmp_path / "a")
    _hmdb(tmp_path / "b", {"wave": ["a.avi 1 "]})
    (tmp_path / "b" / "videos" / "wave" / "a.avi").unlink()
    (tmp_path / "b" / "videos" / "wave" / "a.avi").symlink_to(tmp_path / "secret.avi")
    with pytest.raises(SplitError, match=r"wave_test_split1\.txt line 1: 'wave/a\.avi' resolves to .*secret\.avi, "
                                         r"outside the dataset's video folder"):
        read_hmdb51(tmp_path / "b")


def test_hmdb51_duplicates_recorded_and_conflicting_ids_refused(tmp_path):
    _hmdb(tmp_path / "a", {"wave": ["a.avi 1 ", "b.avi 2 ", "a.avi 1 "], "clap": ["c.avi 1 "]})
    with pytest.warns(UserWarning, match=r"wave_test_split1\.txt line 3 repeats wave_test_split1\.txt line 1"):
        train = read_hmdb51(tmp_path / "a", "train")
    assert [r.name for r in train.records] == ["clap/c.avi", "wave/a.avi"] and train.duplicates == ["wave/a.avi"]
    _hmdb(tmp_path / "b", {"wave": ["a.avi 1 ", "b.avi 2 ", "a.avi 2 "]})
    with pytest.raises(SplitError, match=r"wave_test_split1\.txt line 3: 'a\.avi' has id 2 here but 1 on line 1"):
        read_hmdb51(tmp_path / "b", "test")


def _kinetics(root, lines, subset="train"):
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / f"{subset}.csv").write_text("".join(f"{l}\n" for l in lines))
    return root


HEADER = "label,youtube_id,time_start,time_end,split"


@pytest.mark.parametrize("row, expected", [
    ("abseiling,bbb,0", r"expected 5 fields \(label,youtube_id,time_start,time_end,split\), got 'abseiling,bbb,0'"),
    ("abseiling,bbb,0,10,train,extra", r"expected 5 fields"),
    ("abseiling,,0,10,train", r"the youtube_id field is empty"),
    (",bbb,0,10,train", r"the label field is empty"),
    ("abseiling,bbb,zero,10,train", r"time_start 'zero' / time_end '10': expected whole seconds"),
    ("../../etc,bbb,0,10,train", r"label '\.\./\.\./etc' contains a path separator"),
    ("abseiling,../bbb,0,10,train", r"youtube_id '\.\./bbb' contains a path separator"),
])
def test_kinetics_malformed_rows_name_file_and_line(tmp_path, row, expected):
    _kinetics(tmp_path, [HEADER, "abseiling,aaa,0,10,train", row])
    with pytest.raises(SplitError, match=rf"train\.csv line 3: .*{expected}"):
        read_kinetics400(tmp_path)


def test_kinetics_unknown_label_names_the_row_even_when_its_video_is_missing(tmp_path):
    _kinetics(tmp_path, [HEADER, "abseiling,aaa,0,10,val", "juggling pins,bbb,0,10,val"], "val")
    with pytest.raises(SplitError, match=r"val\.csv line 3: label 'juggling pins' is not among the 2 classes "
                                         r"given.*'juggling pins,bbb,0,10,val'"):
        read_kinetics400(tmp_path, "val", classes=["abseiling", "air drumming"])


def test_kinetics_bom_header_duplicates_and_symlink_escape(tmp_path):
    root = _kinetics(tmp_path / "k", ["\ufeff" + HEADER, "abseiling,aaa,0,10,train", "abseiling,ccc,0,10,train",
                                      "abseiling,aaa,0,10,train", "abseiling,ccc,0,10,train"])
    (root / "train" / "abseiling").mkdir(parents=True)
    (root / "train" / "abseiling" / "aaa_000000_000010.mp4").touch()
    with pytest.warns(UserWarning, match="2 videos are listed more than once"):
        index = read_kinetics400(root)
    assert index.classes == ["abseiling"] and [r.label for r in index.records] == [0]
    assert index.missing == ["ccc_000000_000010.mp4"]  # once, though listed twice
    assert index.duplicates == ["aaa_000000_000010.mp4", "ccc_000000_000010.mp4"]
    (tmp_path / "out.mp4").touch()
    (root / "train" / "ccc_000000_000010.mp4").symlink_to(tmp_path / "out.mp4")
    with pytest.raises(SplitError, match=r"train\.csv line 3: 'ccc_000000_000010\.mp4' resolves to .*out\.mp4"):
        read_kinetics400(root)


def test_folder_dataset_one_video_in_several_forms_counts_once(tmp_path):
    jump = tmp_path / "train" / "jump"
    jump.mkdir(parents=True)
    for name in ("a.avi", "a.jpack", "b.jpack", "c.mp4"):
        (jump / name).touch()
    (jump / "b").mkdir()
    (jump / "b" / "frame000001.jpg").touch()
    index = read_folder(tmp_path, "train")
    assert [r.name for r in index.records] == ["jump/a.avi", "jump/b.jpack", "jump/c.mp4"]
    assert index.duplicates == ["jump/a.jpack", "jump/b"]


def test_folder_dataset_missing_subset_folder_is_an_error_not_a_class(tmp_path):
    (tmp_path / "train" / "jump").mkdir(parents=True)
    (tmp_path / "train" / "jump" / "a.avi").touch()
    with pytest.raises(SplitError, match=r"no test/ folder in .* \(it has train/\): expected .*test/<class>/<video>"):
        read_folder(tmp_path, "test")
    assert read_folder(tmp_path / "train", "test").classes == ["jump"]  # no subset folders: the root itself


def _official_copy(shared_data, tmp_path):
    """The real UCF101 and HMDB51 split files over empty stand-in videos for every listed name."""
    import shutil

    shutil.copytree(shared_data / "splits" / "ucf101", tmp_path / "ucf" / "ucfTrainTestlist")
    for f in (tmp_path / "ucf" / "ucfTrainTestlist").glob("*list0*.txt"):
        for line in f.read_text().splitlines():
            if line.strip():
                video = tmp_path / "ucf" / "UCF-101" / line.split()[0]
                video.parent.mkdir(parents=True, exist_ok=True)
                video.touch()
    hmdb = tmp_path / "hmdb" / "testTrainMulti_7030_splits"
    shutil.copytree(shared_data / "splits" / "hmdb51" / "testTrainMulti_7030_splits", hmdb)
    for f in hmdb.glob("*.txt"):
        folder = tmp_path / "hmdb" / "videos" / f.name.rsplit("_test_split", 1)[0]
        folder.mkdir(parents=True, exist_ok=True)
        for line in f.read_text().splitlines():
            (folder / line.split()[0]).touch()
    return tmp_path / "ucf", tmp_path / "hmdb"


def test_official_files_pass_every_check_with_the_same_counts(shared_data, tmp_path):
    ucf, hmdb = _official_copy(shared_data, tmp_path)
    counts = {}
    for split in (1, 2, 3):
        train, test = read_ucf101(ucf, "train", split), read_ucf101(ucf, "test", split)
        assert train.duplicates == test.duplicates == [] and train.missing == test.missing == []
        assert {r.name for r in train.records}.isdisjoint(r.name for r in test.records)
        counts[f"ucf101 {split}"] = (len(train.records), len(test.records))
        subsets = [read_hmdb51(hmdb, s, split) for s in ("train", "test", "unused")]
        assert all(s.duplicates == [] for s in subsets) and len(subsets[0].classes) == 51
        counts[f"hmdb51 {split}"] = tuple(len(s.records) for s in subsets)
    assert counts == {"ucf101 1": (9537, 3783), "ucf101 2": (9586, 3734), "ucf101 3": (9624, 3696),
                      "hmdb51 1": (3570, 1530, 1666), "hmdb51 2": (3570, 1530, 1666),
                      "hmdb51 3": (3570, 1530, 1666)}
