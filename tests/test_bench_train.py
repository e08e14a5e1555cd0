"""benchmarks/bench_train.py runs end to end (a smoke run: what it measures is reported, not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_train_alternates_rounds_and_reports_the_with_data_ratio_per_round():
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_train.py"), "--device", "cpu", "--tiny", "--steps", "1",
         "--rounds", "3", "--warmup", "1", "--clip-len", "4"],
        capture_output=True, text=True, timeout=600, check=True,
    ).stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert "machine" in lines[0]
    rows = {row["pipeline"]: row for row in lines[1:]}
    assert set(rows) == {"model-only", "with-data", "data-only"} and not any("error" in r for r in rows.values())
    for row in rows.values():
        assert row["rounds"] == 3 and row["steps_per_round"] == 1 and row["clip"] == [4, 56, 56]  # --clip-len
        assert 0 < row["clips_per_s_min"] <= row["clips_per_s"] <= row["clips_per_s_max"]
    ratios = rows["with-data"]["of_model_only_per_round"]
    assert len(ratios) == 3 and all(r > 0 for r in ratios)
    assert sorted(ratios)[1] == rows["with-data"]["of_model_only"]  # the median round
