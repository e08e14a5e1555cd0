import subprocess
import sys

from pacekit.cli import main


def test_info_counts_splits_and_classes(ucf_root, capsys):
    assert main(["info", "--dataset", "ucf101", "--root", str(ucf_root)]) == 0
    out = capsys.readouterr().out
    assert "[train] 6 videos in 3 of 3 classes" in out and "[test] 6 videos" in out
    assert "frames per video: min 40" in out and "fps: 25 (6)" in out
    assert "HandstandPushups" in out


def test_info_reports_undecodable_files(ucf_root, tmp_path, capsys):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(ucf_root, root)
    (root / "UCF-101" / "Basketball" / "v_Basketball_g04_c01.avi").write_bytes(b"broken" * 100)
    assert main(["info", "--dataset", "ucf101", "--root", str(root)]) == 0
    assert "undecodable: 1" in capsys.readouterr().out


def test_info_names_a_partly_decodable_video_with_its_decodable_frame_count(tmp_path, capsys):
    from helpers import make_ucf_layout, write_numbered_video

    root = make_ucf_layout(tmp_path / "root", per_class=2)
    video = root / "UCF-101" / "Basketball" / "v_Basketball_g02_c01.avi"
    write_numbered_video(video, 120, height=120, width=160)
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])  # cut short: the header still lists 120 frames
    assert main(["info", "--dataset", "ucf101", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "partly decodable (left out of training and evaluation): 1" in out
    line = next(l for l in out.splitlines() if "v_Basketball_g02_c01.avi:" in l)
    decodable = int(line.split(": ")[1].split(" of ")[0])
    assert 0 < decodable < 100 and "of 120 frames decode" in line
    assert "frames per video: min 40" in out  # the broken one is not counted as a short video


def test_info_shows_totals_and_only_classes_with_videos_unless_asked(tmp_path, capsys):
    from helpers import make_ucf_layout

    root = make_ucf_layout(tmp_path / "root", per_class=2)
    classes = (root / "ucfTrainTestlist" / "classInd.txt").read_text()
    (root / "ucfTrainTestlist" / "classInd.txt").write_text(classes + "4 EmptyClass\r\n")
    assert main(["info", "--dataset", "ucf101", "--root", str(root), "--no-decode"]) == 0
    out = capsys.readouterr().out
    assert "6 videos listed in 2 subsets; 0 missing" in out
    assert "EmptyClass" not in out and "1 classes with no video here not shown" in out
    assert main(["info", "--dataset", "ucf101", "--root", str(root), "--no-decode", "--all-classes"]) == 0
    assert "EmptyClass" in capsys.readouterr().out


def test_wrong_root_is_one_clear_line_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pacekit.cli", "info", "--dataset", "ucf101",
                             "--root", str(tmp_path / "missing")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "dataset root not found" in result.stderr and "missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_split_file_names_what_was_expected(tmp_path, capsys):
    assert main(["info", "--dataset", "hmdb51", "--root", str(tmp_path)]) == 2
    assert "testTrainMulti_7030_splits" in capsys.readouterr().err


def test_prepare_command(ucf_root, tmp_path, capsys):
    assert main(["prepare", "--root", str(ucf_root), "--out", str(tmp_path / "p"), "--workers", "1",
                 "--short-side", "32"]) == 0
    assert "prepared 12 videos" in capsys.readouterr().out
    assert main(["info", "--dataset", "ucf101", "--root", str(tmp_path / "p")]) == 0


def test_make_synthetic_then_read_it_back(tmp_path, capsys):
    from pacekit.data import build_dataset
    from pacekit.data.synthetic import synthetic_classes

    out = tmp_path / "syn"
    args = ["make-synthetic", "--out", str(out), "--classes", "3", "--videos-per-class", "4",
            "--width", "64", "--height", "48"]
    assert main(args) == 0
    ds = build_dataset("synthetic", out, "train", mode="pace", clip_len=8, frame_size=(48, 64))
    assert ds.classes == list(synthetic_classes()[:3])   # the default version's
    item = ds[0]
    assert item["video"].shape == (8, 48, 64, 3) and 0 <= item["pace_label"] < 4
    assert main(args) == 0  # the second time it is reused, not regenerated
    assert "cached" in capsys.readouterr().out.lower()


def test_an_unwritable_output_is_one_line_not_a_traceback(ucf_root, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # --out below a file cannot be created
    assert main(["prepare", "--root", str(ucf_root), "--out", str(blocker / "out"), "--workers", "1"]) == 2
    assert "error:" in capsys.readouterr().err


def test_prepare_bad_flags_are_one_line_naming_the_flag(ucf_root, tmp_path, capsys):
    for flag, value in [("--short-side", "0"), ("--quality", "101"), ("--workers", "0")]:
        args = ["prepare", "--root", str(ucf_root), "--out", str(tmp_path / "p"), "--workers", "1", flag, value]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert f"pacekit prepare: error: {flag} must be" in err and "Traceback" not in err
    assert not (tmp_path / "p").exists()


def test_ctrl_c_in_prepare_says_to_re_run_it_not_resume(ucf_root, tmp_path, capsys, monkeypatch):
    from pacekit.commands import data as commands

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "prepare_dataset", interrupted)
    assert main(["prepare", "--root", str(ucf_root), "--out", str(tmp_path / "p")]) == 130
    err = capsys.readouterr().err
    assert "re-run the same `pacekit prepare` command" in err and "--resume" not in err
