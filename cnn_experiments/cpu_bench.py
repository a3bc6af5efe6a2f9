"""The CNN trainer on the CPU against the machine's own matrix-multiply peaks, in one process, on the same data.

    python -m cnn_experiments.cpu_bench [--batches 16,64,128] [--models 56] [--steps 20] [--updates 80]
                                        [--compile] [--skip VARIANT,...] [--data-dir DIR]

At the committed profile's shapes (K = 56 configurations, cifar10_quick at width 0.25 on 14 x 14 Fashion-MNIST,
M = 4) and at batch 64 and 128, for each variant: model-steps per second of the training step alone, and of a short
chunk-like run (the step plus the training loss on the 1024 evaluation images every 40 updates, the committed cadence
at M = 4), the achieved GFLOP/s (FLOPs counted from the network's shapes: forward, and backward at twice the forward
but for the first layer's input gradient) and the fraction of the matching peak (fp32 or bf16 `torch.mm`, measured
here with the same number of threads). Variants: the committed chunks' path (baseline); the evaluation in small
passes (eval_images 32); channels-first layout; bf16 autocast (fp32 weights and updates); torch.compile (--compile);
two threads in one process; two processes of one thread each (their summed rate). The last line is one JSON object.
Run it with nothing else on the machine: the ratios are measured in this process, the rates are the machine's.
"""
from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import replace
from multiprocessing import get_context

import torch

from cnn_experiments import model
from cnn_experiments.data import DatasetError
from cnn_experiments.specs import RunSpec, Settings
from cnn_experiments.train import compile_fell_back
from sim import cli
from sim.cli import Parser, path_arg

MU = (-0.675, -0.45, -0.225, 0.0, 0.225, 0.45, 0.675, 0.9)
LR = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
BASE = Settings(width=0.25, layout="nhwc", eval_every=40)
VARIANTS = {"baseline": {}, "small-eval": {"eval_images": 32}, "nchw": {"eval_images": 32, "layout": "nchw"},
            "bf16": {"eval_images": 32, "precision": "bf16"}, "compile": {"eval_images": 32, "compile": True}}


def gemm_gflops(dtype, threads: int, n: int = 2048, reps: int = 5) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    return 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9


def forward_flops(channels: int, size: int, width: float) -> tuple[float, float]:
    """(forward FLOPs per image, of which the first convolution's)."""
    s = model.shapes(channels, size, width)
    sides, total, first = [size], 0.0, 0.0
    for _ in range(3):
        sides.append(model._pooled(sides[-1]))
    for i, name in enumerate(("conv1", "conv2", "conv3")):
        c_out, c_in, k, _ = s[f"{name}.w"]
        flops = 2.0 * c_in * k * k * c_out * sides[i] ** 2
        total, first = total + flops, first if i else flops
    for name in ("fc1", "fc2"):
        total += 2.0 * s[f"{name}.w"][0] * s[f"{name}.w"][1]
    return total, first


def step_flops(data, settings: Settings, batch: int) -> tuple[float, float]:
    """(FLOPs of one model-step, of one evaluation of one model)."""
    fwd, first = forward_flops(data.channels, data.size, settings.width)
    return batch * (3 * fwd - first), data.eval_x.shape[0] * fwd


def _specs(n_models: int) -> list[RunSpec]:
    grid = [(mu, lr) for mu in MU for lr in LR]
    return [RunSpec(4, mu, lr, 0) for mu, lr in (grid * (n_models // len(grid) + 1))[:n_models]]


def measure(data, settings: Settings, n_models: int, steps: int, updates: int) -> dict:
    """Model-steps/s of the step alone and of a chunk-like run with evaluation (one process)."""
    from cnn_experiments.train import _Batch, eval_losses
    from cnn_experiments.train import channels_last
    batch = _Batch(_specs(n_models), data, replace(settings, budget=max(steps, updates) + 4), False)
    batch.step(0)
    start = time.perf_counter()
    for t in range(1, steps + 1):
        batch.step(t)
    step_rate = n_models * steps / (time.perf_counter() - start)
    nhwc = channels_last(settings, data.x.device)
    start = time.perf_counter()
    eval_losses(batch.w, data, nhwc, settings.eval_images)
    for t in range(1, updates + 1):
        batch.step(t)
        if t % settings.eval_every == 0:
            eval_losses(batch.w, data, nhwc, settings.eval_images)
    chunk_rate = n_models * updates / (time.perf_counter() - start)
    return {"step": step_rate, "chunk": chunk_rate, "evals": 1 + updates // settings.eval_every}


def _worker(args):
    settings, n_models, steps, updates, data_dir = args
    torch.set_num_threads(1)
    from cnn_experiments.train import load_data
    return measure(load_data("fashion_mnist", data_dir, 12_000, 1024, "cpu", 2), settings, n_models, steps, updates)


def two_processes(settings, n_models, steps, updates, data_dir) -> dict:
    with get_context("spawn").Pool(2) as pool:
        rates = pool.map(_worker, [(settings, n_models, steps, updates, data_dir)] * 2)
    return {"step": sum(r["step"] for r in rates), "chunk": sum(r["chunk"] for r in rates), "evals": rates[0]["evals"]}


def _row(name, batch, rates, flops, updates, peak) -> dict:
    per_step, per_eval = flops
    chunk_flops = per_step + per_eval * rates["evals"] / updates   # per model-step, evaluation included
    gflops_step, gflops_chunk = rates["step"] * per_step / 1e9, rates["chunk"] * chunk_flops / 1e9
    return {"variant": name, "batch": batch, "step_model_steps_per_s": round(rates["step"], 1),
            "chunk_model_steps_per_s": round(rates["chunk"], 1), "step_gflops": round(gflops_step, 1),
            "chunk_gflops": round(gflops_chunk, 1), "step_fraction_of_peak": round(gflops_step / peak, 3),
            "chunk_fraction_of_peak": round(gflops_chunk / peak, 3)}


def table(data, batches, args, peaks, skip) -> list[dict]:
    """Every variant at every batch, printed as it is measured."""
    variants = {k: v for k, v in VARIANTS.items() if (k != "compile" or args.compile) and k not in skip}
    rows = []
    for batch in batches:
        for name, change in list(variants.items()) + [("two-threads", {"eval_images": 32}),
                                                      ("two-processes", {"eval_images": 32})]:
            if name in skip:
                continue
            settings = replace(BASE, batch_size=batch, **change)
            dtype = torch.bfloat16 if settings.precision == "bf16" else torch.float32
            threads = 2 if name in ("two-threads", "two-processes") else 1
            torch.set_num_threads(threads if name == "two-threads" else 1)
            rates = (two_processes(settings, args.models, args.steps, args.updates, args.data_dir)
                     if name == "two-processes" else measure(data, settings, args.models, args.steps, args.updates))
            row = _row(name, batch, rates, step_flops(data, settings, batch), args.updates, peaks[(dtype, threads)])
            if settings.compile and compile_fell_back():
                print(f"batch {batch:4d} {name:14s} not measured: torch.compile failed and the trainer ran eager",
                      flush=True)
                continue   # an eager run is not the compiled variant
            rows.append(row)
            print(f"batch {batch:4d} {name:14s} step {row['step_model_steps_per_s']:8.1f} model-steps/s "
                  f"({row['step_gflops']:.1f} GFLOP/s, {row['step_fraction_of_peak']:.0%} of peak); with evaluation "
                  f"{row['chunk_model_steps_per_s']:8.1f} ({row['chunk_fraction_of_peak']:.0%})", flush=True)
    return rows


def main(argv=None) -> int:
    parser = Parser(prog="python -m cnn_experiments.cpu_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="16,64,128")
    parser.add_argument("--models", type=int, default=56)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--updates", type=int, default=80)
    parser.add_argument("--compile", action="store_true", help="also torch.compile the loss (slow to build)")
    parser.add_argument("--skip", default="", help="variants not to measure, comma-separated (e.g. bf16 under the "
                        "AVX2 pin, where its kernels take a reference path)")
    parser.add_argument("--data-dir", type=path_arg, default=None)
    args = parser.parse_args(argv)
    try:
        batches = [int(b) for b in args.batches.split(",")]
    except ValueError:
        batches = []
    if not batches or not all(1 <= b <= 1024 for b in batches) or not 1 <= args.models <= 512 \
            or not 1 <= args.steps <= 10 ** 4 or not 40 <= args.updates <= 10 ** 4:
        print("error: --batches must list sizes in 1..1024, --models be in 1..512, --steps in 1..10^4 and --updates "
              "in 40..10^4", file=sys.stderr)
        return 2
    from cnn_experiments.train import load_data
    try:
        data = load_data("fashion_mnist", args.data_dir, 12_000, 1024, "cpu", 2)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pinned = torch.backends.cpu.get_cpu_capability() == "AVX2"
    peaks = {(dt, th): gemm_gflops(dt, th, reps=1 if pinned and dt == torch.bfloat16 else 5)
             for dt in (torch.float32, torch.bfloat16) for th in (1, 2)}
    print(f"torch.mm 2048^2: fp32 {peaks[(torch.float32, 1)]:.0f} / {peaks[(torch.float32, 2)]:.0f} GFLOP/s, bf16 "
          f"{peaks[(torch.bfloat16, 1)]:.0f} / {peaks[(torch.bfloat16, 2)]:.0f} GFLOP/s (1 / 2 threads; CPU "
          f"capability {torch.backends.cpu.get_cpu_capability()})", flush=True)
    rows = table(data, batches, args, peaks, set(filter(None, args.skip.split(","))))
    first = batches[0]
    base = next(r for r in rows if r["variant"] == "baseline" and r["batch"] == first)
    # per process (the 1-thread variants); two-processes is the machine's total, compared with two baselines
    best = max((r for r in rows if r["batch"] == first),
               key=lambda r: r["chunk_model_steps_per_s"] / (2 if r["variant"] in ("two-threads", "two-processes")
                                                             else 1))
    per_process = best["chunk_model_steps_per_s"] / (2 if best["variant"] in ("two-threads", "two-processes") else 1)
    top = max(rows, key=lambda r: r["batch"])
    print(json.dumps({"baseline_model_steps_per_s": base["chunk_model_steps_per_s"],
                      "best_model_steps_per_s": round(per_process, 1), "best_variant": best["variant"],
                      "speedup": round(per_process / base["chunk_model_steps_per_s"], 3),
                      "per": "process of one thread, at the committed profile's shapes (batch %d)" % first,
                      "gemm_gflops": round(peaks[(torch.float32, 1)], 1),
                      "gemm_bf16_gflops": round(peaks[(torch.bfloat16, 1)], 1),
                      "gemm_gflops_two_threads": round(peaks[(torch.float32, 2)], 1),
                      "best_fraction_of_gemm_peak": best["chunk_fraction_of_peak"],
                      "largest_batch_step_fraction_of_peak": max(r["step_fraction_of_peak"] for r in rows
                                                                 if r["batch"] == top["batch"]),
                      "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch": torch.__version__,
                      "rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
