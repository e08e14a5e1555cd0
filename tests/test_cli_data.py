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
    from pacekit.data.synthetic import SYNTHETIC_CLASSES

    out = tmp_path / "syn"
    args = ["make-synthetic", "--out", str(out), "--classes", "3", "--videos-per-class", "4",
            "--width", "64", "--height", "48"]
    assert main(args) == 0
    ds = build_dataset("synthetic", out, "train", mode="pace", clip_len=8, frame_size=(48, 64))
    assert ds.classes == list(SYNTHETIC_CLASSES[:3])
    item = ds[0]
    assert item["video"].shape == (8, 48, 64, 3) and 0 <= item["pace_label"] < 4
    assert main(args) == 0  # the second time it is reused, not regenerated
    assert "cached" in capsys.readouterr().out.lower()


def test_an_unwritable_output_is_one_line_not_a_traceback(ucf_root, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # --out below a file cannot be created
    assert main(["prepare", "--root", str(ucf_root), "--out", str(blocker / "out"), "--workers", "1"]) == 2
    assert "error:" in capsys.readouterr().err
