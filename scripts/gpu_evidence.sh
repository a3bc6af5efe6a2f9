#!/usr/bin/env bash
# The whole GPU job in one script: benchmark, then the full-profile CNN sweep, written under $OUT.
# Runs with plain python3 (no venv needed: numpy, scipy, sympy, torch, tqdm, matplotlib), repository root on
# PYTHONPATH. Afterwards copy $OUT/evidence/* into reports/evidence/ and $OUT/cnn_bench.json beside it, commit.
#   OUT=/tmp/gpu-out FASHION_MNIST_DIR=data/fashion-mnist DEADLINE=480 bash scripts/gpu_evidence.sh
#
# The sweep is resumable: it stores one chunk per (M, seed) as it finishes and stops cleanly once DEADLINE
# seconds have passed (exit status 3, "k of n chunks stored"); running the script again with the same $OUT
# continues from the stored chunks. DRY_RUN=1 runs the same command on the CPU at the full network (width, batch,
# image size, all 60k images) for two updates per run, one seed, a small evaluation set and 2 x 2 grids at M = 1, 2
# (the full grids cost ~7 CPU minutes a chunk there): it proves the script, its imports (nothing the GPU machine
# lacks) and the dataset path before any GPU time is spent.
set -euo pipefail
OUT=${OUT:-gpu-out}
DEADLINE=${DEADLINE:-480}
PY=${PYTHON:-python3}
# every input checked as plain data before it is used (bash arithmetic would evaluate an expression's text)
[[ $DEADLINE =~ ^[0-9]{1,6}$ ]] || { echo "error: DEADLINE must be a whole number of seconds (at most 999999), got '${DEADLINE:0:40}'" >&2; exit 2; }
[[ ${DRY_RUN:-0} =~ ^[01]$ ]] || { echo "error: DRY_RUN must be 0 or 1" >&2; exit 2; }
[[ -n $OUT && ${#OUT} -le 1024 && $OUT != -* ]] || { echo "error: OUT must be a folder path (at most 1024 characters, not starting with -)" >&2; exit 2; }
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
start=$(date +%s)
EXTRA=()
if [ "${DRY_RUN:-0}" = "1" ]; then
  EXTRA=(--allow-cpu --set cnn_momentum.eval_every=1 --set cnn_momentum.target_updates=[1,2]
         --set cnn_momentum.sync_budget=3 --set cnn_momentum.max_budget=6 --set cnn_momentum.device=cpu
         --set cnn_momentum.n_eval=64 --set cnn_momentum.decision_seeds=[0] --set cnn_momentum.replication_seeds=[]
         --set cnn_momentum.target_seeds=1 --set cnn_momentum.probe_steps=3 --set cnn_momentum.probe_replicas=3
         --set cnn_momentum.probe_examples=64 --set cnn_momentum.warm_updates=2 --set cnn_momentum.warm_budget=3
         --set cnn_momentum.warm_target_updates=[1] --set cnn_momentum.workers=[1,2] --set cnn_momentum.mu_grid=[0.0,0.9]
         --set cnn_momentum.lr_grid=[0.01,0.1] --set cnn_momentum.warm_workers=[1,2] --set cnn_momentum.warm_mu_grid=[0.0]
         --set cnn_momentum.warm_lr_grid=[0.1] --set cnn_momentum.probe_workers=[1,2] --set cnn_momentum.loop_workers=[2])
  BENCH=(--models 2 --steps 2)
else
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader > "$OUT/device.txt" 2>/dev/null || true
  BENCH=(--models 256 --steps 20 --precision bf16)
fi
if [ ! -s "$OUT/cnn_bench.json" ]; then
  "$PY" -m cnn_experiments.bench "${BENCH[@]}" | tee "$OUT/cnn_bench.log"
  tail -n 1 "$OUT/cnn_bench.log" > "$OUT/cnn_bench.json"
fi
left=$(( DEADLINE - ($(date +%s) - start) ))
if [ "$left" -le 10 ]; then
  echo "gpu_evidence: no time left for the sweep after the benchmark; run again to continue" >&2
  exit 3
fi
# SWEEP_DEADLINE (seconds) stops the sweep sooner than DEADLINE says (the first chunk is always stored): the tests
# use it to stop after one chunk whatever the machine's speed
sweep=${SWEEP_DEADLINE:-$left}
[[ $sweep =~ ^[0-9]{1,6}(\.[0-9]{1,6})?$ ]] || { echo "error: SWEEP_DEADLINE must be a number of seconds" >&2; exit 2; }
set +e
"$PY" -m reports.run --profile full --only cnn_momentum --results "$OUT/evidence" --deadline "$sweep" \
  "${EXTRA[@]}" 2>&1 | tee -a "$OUT/run.log"
status=${PIPESTATUS[0]}
set -e
if [ "$status" = "3" ]; then
  echo "gpu_evidence: stopped at the deadline with chunks stored; run the same command again to continue" >&2
fi
exit "$status"
