#!/usr/bin/env bash
# The whole GPU job in one script: benchmark, then the full-profile CNN sweep, written under $OUT.
# Runs with plain python3 (no venv needed: numpy, scipy, sympy, torch, tqdm, matplotlib), repository root on
# PYTHONPATH. Afterwards copy $OUT/evidence/* into reports/evidence/ and $OUT/cnn_bench.json beside it, commit.
#   OUT=/tmp/gpu-out FASHION_MNIST_DIR=data/fashion-mnist bash scripts/gpu_evidence.sh
set -euo pipefail
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$OUT/device.txt" 2>/dev/null || true
"${PYTHON:-python3}" -m cnn_experiments.bench --models 256 --steps 20 | tee "$OUT/cnn_bench.log"
tail -n 1 "$OUT/cnn_bench.log" > "$OUT/cnn_bench.json"
"${PYTHON:-python3}" -m reports.run --profile full --only cnn_momentum --results "$OUT/evidence" 2>&1 | tee "$OUT/run.log"
