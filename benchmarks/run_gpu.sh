#!/usr/bin/env bash
# The GPU figures of the training benchmark in one command, run from the repository root on a machine
# with one CUDA GPU and 16 cores. It needs a prepared (frame-pack) dataset in UCF101 layout; make a small
# synthetic one first (anywhere, then copy it over):
#   pacekit make-synthetic --out data/bench_synthetic --classes 5 --videos-per-class 16
#   pacekit prepare --root data/bench_synthetic --out data/bench_prepared
# Then:  bash benchmarks/run_gpu.sh [data/bench_prepared] [cuda] > results.jsonl
# On a CPU, `bash benchmarks/run_gpu.sh DATA cpu` runs the same steps at tiny sizes (a smoke test: about
# 20 s on a 2-core machine with a 5-class x 16-video prepared synthetic set).
set -euo pipefail
data=${1:-data/bench_prepared}
device=${2:-cuda}
if [ "$device" = cpu ]; then
  small=(--tiny --workers 1)
  python benchmarks/bench_train.py --device cpu --data "$data" "${small[@]}" --backbones tiny
  exit 0
fi
# R(2+1)D, the goal: all modes, model-only and end to end with data on 16 loader workers.
python benchmarks/bench_train.py --device "$device" --data "$data" --workers 16 --backbones r21d
# The other backbones: eager fp32 against the bf16 + channels_last fast path.
python benchmarks/bench_train.py --device "$device" --data "$data" --workers 16 \
  --backbones r3d,c3d,r3d_18,s3d_g --modes fp32-eager,bf16+cl --pipelines model-only,with-data
