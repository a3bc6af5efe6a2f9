"""The batch ladder's design (Figs. 4 and 8 across batch sizes), every knob with its unit and why.

The committed batch-16 evidence fails Fig. 4's and Fig. 8's effect sizes. The ladder asks whether that is the regime:
the same network and input (cifar10_quick at width 0.25 on Fashion-MNIST 14 x 14, 12k images) at batch 16, 64 and
128 (the paper's), M in {1, 16}, Fig. 8's whole momentum grid (with -0.9) and one half-decade step grid for every
batch, mu_L and M. Targets are set the same way at every batch: the best synchronous mean loss after the same number
of examples (1 and 2 epochs; the second is past the first epoch at the largest batch). Examples, not updates, because
the batch-size literature compares training stages by data seen, and a share of each rung's own loss drop would make
the target depend on the curve it judges. Each rung also measures its regime on the first decision seeds: the
sharpness and gradient noise scale at the targets of its best synchronous configuration (regime chunks).

quick = the committed CPU ladder (fp32, the fast evaluation path, kernels pinned to AVX2). full = the GPU ladder at
width 1 and 28 x 28 (needs a GPU).
"""
from __future__ import annotations

from dataclasses import dataclass

FIG8_MU = tuple(round(-0.9 + 0.225 * i, 3) for i in range(9))   # Fig. 8's momentum grid (docs/paper.md section 3)
LR_HALF_DECADES = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # alpha: the pilot's best steps lie inside at
#     every batch, M and mu_L (0.001 for mu_L = 0.9 at M = 16, 0.1 at batch 128 synchronously; 1.0 never converged)
SEED_FIELDS = ("decision_seeds", "replication_seeds", "regime_seeds")
SIZING = """Pilot (seed 900, in neither seed set; 2-core CPU, kernels pinned to AVX2, three processes at once): chunk
times 157 and 415 s (batch 16, M = 1 and 16), 165 and 994 s (64), 195 and 1,134 s (128); best synchronous
configuration mu_L 0.9 at every batch (alpha 0.03, 0.1, 0.1); at M = 16 the ratio T(0.9) / T(tuned mu_L >= 0) was
1.49 at batch 16 and at least 2.5 and 1.9 (censored) at 64 and 128, the gain of negative mu_L 1.61, 1.03 and 1.31
(one seed: the sizing below takes its spread from the committed batch-16 evidence). Seeds: the
per-seed SD of the log ratios on the committed batch-16 evidence is 0.23-0.29 (decision and replication sets); at
SD 0.3 and the paper's effect, 6 seeds give power 1.00 (Fig. 4's bar at batch 128) and 0.99 (Fig. 8's), and about
0.65 for the trend's slope if the rungs' errors were independent (they share each seed's start, so more in fact).
Cost at 6 + 6 seeds: about 12 x 2,600 CPU-seconds, the 8 CPU-hour budget."""


@dataclass(frozen=True)
class Config:
    dataset: str = "fashion_mnist"
    data_dir: str = ""
    n_train: int = 12_000
    n_eval: int = 1024              # images the training loss is measured on (a fixed subset)
    pool: int = 2                   # 14 x 14 inputs, as the committed batch-16 evidence
    width: float = 0.25
    init: str = "he"
    batches: tuple = (16, 64, 128)
    workers: tuple = (1, 16)        # Figs. 4 and 8 decide at 16 groups
    mu_grid: tuple = FIG8_MU
    lr_grid: tuple = LR_HALF_DECADES
    decision_seeds: tuple = (0, 1, 2, 3, 4, 5)          # sized by the pilot (SIZING above)
    replication_seeds: tuple = (1000, 1001, 1002, 1003, 1004, 1005)
    regime_seeds: tuple = (0, 1)    # regime chunks (sharpness, noise scale) per batch
    target_seeds: int = 2           # the first decision seeds' synchronous runs set each batch's targets
    target_epochs: tuple = (1.0, 2.0)
    sync_factor: float = 1.5        # M = 1 runs train 1.5 x the last target's updates (full curves for the targets)
    stop_factor: float = 2.0        # M = 16: runs stop at 2 x the update the seed's first run reached the last target
    #                                 (a censored mu_L = 0.9 still shows a ratio >= 2, above Fig. 4's bar 1.63)
    max_budget: int = 40_000        # a hard cap on updates per run
    eval_examples: int = 640        # loss evaluated every this many examples seen (40 updates at batch 16, 5 at
    #                                 128: about 5 % of the first target at M = 1, read by interpolation) ...
    eval_exponent: float = 0.5      # ... times M^0.5 at M workers (times to target grow with M)
    eval_images: int = 32           # images per evaluation forward pass: the fast path (equal within float rounding)
    sharpness_iterations: int = 20  # power iterations on Hessian-vector products
    work_time: str = "exponential"
    device: str = "auto"
    precision: str = "fp32"         # bf16 was measured slower at batch 16 and 10x slower under the AVX2 pin
    layout: str = "nhwc"
    threads: int = 1

    def validate(self) -> None:
        if self.dataset not in ("fashion_mnist", "cifar10") or self.precision not in ("fp32", "bf16"):
            raise ValueError("dataset must be fashion_mnist or cifar10, precision fp32 or bf16")
        if not (self.batches and all(1 <= b <= 4096 for b in self.batches) and 1 in self.workers
                and all(1 <= m <= 1024 for m in self.workers)):
            raise ValueError("batches must be in 1..4096 and workers in 1..1024, with M = 1 (the baseline)")
        if not (self.mu_grid and all(-1 < m < 1 for m in self.mu_grid) and self.lr_grid
                and all(0 < a < 10 for a in self.lr_grid)):
            raise ValueError("every mu_L must be in (-1, 1) and every alpha in (0, 10)")
        if not (self.decision_seeds and 1 <= self.target_seeds <= len(self.decision_seeds)
                and not set(self.decision_seeds) & set(self.replication_seeds)
                and set(self.regime_seeds) <= set(self.decision_seeds)):
            raise ValueError("decision_seeds must be non-empty, target_seeds in 1..len(decision_seeds), replication "
                             "seeds fresh, regime_seeds drawn from decision_seeds")
        if not (list(self.target_epochs) == sorted(self.target_epochs) and self.target_epochs[0] > 0
                and self.sync_factor >= 1 and self.stop_factor >= 1 and self.eval_examples >= 1
                and 0 <= self.eval_exponent <= 1 and 0 <= self.eval_images <= 4096 and self.max_budget <= 10 ** 6):
            raise ValueError("target_epochs must increase from > 0; sync_factor, stop_factor >= 1; eval_examples >= 1")


QUICK = Config()
FULL = Config(n_train=60_000, pool=1, width=1.0, precision="bf16", layout="auto", eval_images=0,
              decision_seeds=tuple(range(8)), replication_seeds=tuple(range(1000, 1008)))
PROFILES = {"quick": QUICK, "full": FULL}
SMOKE = Config(n_train=256, n_eval=64, width=0.125, batches=(8, 16), mu_grid=(0.0, 0.9), lr_grid=(0.01, 0.1),
               decision_seeds=(0, 1), replication_seeds=(5,), regime_seeds=(0,), target_seeds=1,
               target_epochs=(0.25, 0.5), eval_examples=16, sharpness_iterations=3, max_budget=200)
