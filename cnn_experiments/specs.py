"""What one CNN run is and how the trainer runs it: plain frozen dataclasses, no torch (the experiment layer and the
sweep plan import them without loading torch)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sim import compensation

CONTROLLERS = compensation.LOOP_CONTROLLERS  # the closed loop's step rules that need no curvature range
LAYOUTS = ("auto", "nchw", "nhwc")


@dataclass(frozen=True)
class RunSpec:
    n_workers: int                 # M
    mu_explicit: float             # mu_L
    lr: float                      # alpha
    seed: int                      # schedule, mini-batches and (unless init_seed is given) the initial weights
    init_seed: int | None = None
    controller: str | None = None  # a step rule of CONTROLLERS: the closed loop from (mu_explicit, lr) at M = 1

    def validate(self) -> None:
        if isinstance(self.n_workers, bool) or not isinstance(self.n_workers, int) or self.n_workers < 1:
            raise ValueError(f"n_workers (M) must be an integer >= 1, got {self.n_workers!r}")
        if not math.isfinite(self.mu_explicit) or not -1 < self.mu_explicit < 1:
            raise ValueError(f"mu_explicit must be in (-1, 1), got {self.mu_explicit!r}")
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {self.lr!r}")
        if self.controller is not None and self.controller not in CONTROLLERS:
            raise ValueError(f"controller must be one of {', '.join(CONTROLLERS)} or None, got {self.controller!r}")


@dataclass(frozen=True)
class Settings:
    batch_size: int = 128
    budget: int = 200            # updates per run at most
    eval_every: int = 10         # training loss of the current iterate every this many updates
    width: float = 1.0
    work_time: str = "exponential"
    targets: tuple = ()          # loss targets; a run stops once it reaches the lowest (or diverges)
    stop_factor: float = 0.0     # > 0: every run stops at stop_factor x the update at which the first run of the
    #                              batch reached the lowest target (the budget of an (M, seed) chunk: a multiple of
    #                              its own best time, so slow configurations are censored there)
    diverge_factor: float = 3.0  # a loss above this multiple of the initial loss counts as diverged
    max_batch: int = 64          # configurations trained at once
    init: str = "he"             # weight initialisation (model.INITS)
    precision: str = "fp32"      # "bf16": autocast forward/backward in bfloat16, fp32 weights and momentum
    compile: bool = False        # torch.compile the loss (falls back to eager when compilation fails)
    eval_images: int = 0         # images per evaluation forward pass: 0 is the rule the committed batch-16 chunks were
    #                              made with (min(256, max(8, 32768 // K))); 32 is 2.3x faster on the 2-core CPU at
    #                              K = 56 (the activations stay in cache) and equal to it within float rounding
    layout: str = "auto"         # activations: "nhwc" (channels-last: 1.7x faster on this CPU for this network),
    #                              "nchw", or "auto" (channels-last on CUDA with bf16 only, as before)

    def validate(self) -> None:
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be fp32 or bf16, got {self.precision!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if not (math.isfinite(self.stop_factor) and (self.stop_factor == 0 or self.stop_factor >= 1)):
            raise ValueError(f"stop_factor must be 0 (off) or >= 1, got {self.stop_factor!r}")
        if not 0 <= self.eval_images <= 4096:
            raise ValueError(f"eval_images must be in 0..4096 (0: the committed chunks' rule), got {self.eval_images!r}")
        if self.stop_factor and not self.targets:
            raise ValueError("stop_factor needs loss targets (it counts from the first run to reach the lowest)")
