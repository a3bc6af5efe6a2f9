"""Benchmark of the CNN trainer, in one process: one model at a time, K models batched (fp32 eager, the baseline),
and K models on the fast path (bf16 autocast with fp32 weights, channels-last on CUDA, optionally compiled).

    python -m cnn_experiments.bench [--models 64] [--steps 20] [--batch-size 128] [--width 1.0]
                                    [--precision bf16] [--compile]

The last line printed is a JSON object with model-steps per second for each, the ratios against the batched fp32
baseline, and the device.
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace

import torch

from cnn_experiments.data import DatasetError, load
from cnn_experiments.train import Data, Settings, throughput
from sim.cli import Parser, path_arg
from sim import cli


def main(argv=None) -> int:
    parser = Parser(prog="python -m cnn_experiments.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--compile", action="store_true", help="torch.compile the fast path (eager if it fails)")
    parser.add_argument("--data-dir", type=path_arg, default=None)
    args = parser.parse_args(argv)
    problems = [text for bad, text in ((not 1 <= args.models <= 4096, "--models must be in 1..4096"),
                                       (not 1 <= args.steps <= 10 ** 5, "--steps must be in 1..100000"),
                                       (not 1 <= args.batch_size <= 4096, "--batch-size must be in 1..4096"),
                                       (not 0.05 <= args.width <= 4, "--width must be in [0.05, 4]")) if bad]
    if problems:
        print(f"error: {problems[0]}", file=sys.stderr)
        return 2
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        data = Data(load("fashion_mnist", args.data_dir), 10_000, 256, device)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = Settings(batch_size=args.batch_size, budget=args.steps + 2, width=args.width)
    fast = replace(settings, precision=args.precision, compile=args.compile)
    single = throughput(data, settings, 1, args.steps)
    batched = throughput(data, settings, args.models, args.steps)
    if args.compile:
        throughput(data, fast, args.models, 2)  # compile outside the timed steps
    fast_rate = throughput(data, fast, args.models, args.steps)
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
    print(f"one model at a time: {single:,.1f} model-steps/s; {args.models} batched fp32: {batched:,.1f}; "
          f"fast path ({args.precision}{', compiled' if args.compile else ''}): {fast_rate:,.1f} model-steps/s "
          f"(batch {args.batch_size}, width {args.width}, {name})")
    print(json.dumps({"single_model_steps_per_s": round(single, 2), "batched_model_steps_per_s": round(batched, 2),
                      "fast_model_steps_per_s": round(fast_rate, 2), "ratio": round(batched / single, 2),
                      "fast_ratio": round(fast_rate / batched, 2), "precision": args.precision,
                      "compile": args.compile, "n_models": args.models, "batch_size": args.batch_size,
                      "width": args.width, "device": name, "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
