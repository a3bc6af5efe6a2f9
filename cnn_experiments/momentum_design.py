"""The checks of the CNN evidence design (reports.experiments.cnn_momentum.config.Config): every field in its range,
the grids consistent with each other (pure; ValueError with what to change)."""
from __future__ import annotations

from typing import Any

from cnn_experiments.specs import CONTROLLERS

Config = Any   # the design: a frozen dataclass with the fields read here


def validate(c: Config, work_times: tuple) -> None:
    _check_choices(c, work_times)
    _check_sizes(c)
    _check_grids(c)


def _check_choices(c: Config, work_times: tuple) -> None:
    if c.dataset not in ("fashion_mnist", "cifar10"):
        raise ValueError(f"dataset must be fashion_mnist or cifar10, got {c.dataset!r}")
    if c.work_time not in work_times:
        raise ValueError(f"work_time must be one of {', '.join(work_times)}, got {c.work_time!r}")
    if not (c.device in ("auto", "cpu", "cuda") or (c.device.startswith("cuda:") and c.device[5:].isdigit())):
        raise ValueError(f"device must be auto, cpu, cuda or cuda:N, got {c.device[:40]!r}")
    if c.precision not in ("fp32", "bf16") or c.init not in ("he", "torch") or c.layout not in ("auto", "nchw",
                                                                                                 "nhwc"):
        raise ValueError("precision must be fp32 or bf16, init he or torch, layout auto, nchw or nhwc")
    if len(c.data_dir) > 4096:
        raise ValueError("data_dir is longer than 4096 characters")


def _check_sizes(c: Config) -> None:
    if not (1 <= c.batch_size <= 4096 and 100 <= c.n_train <= 10 ** 6 and 1 <= c.n_eval <= min(10 ** 5, c.n_train)
            and 0.05 <= c.width <= 4 and c.eval_every >= 1 and 1 <= c.pool <= 4 and 1 <= c.threads <= 64):
        raise ValueError("batch_size must be in 1..4096, n_train in 100..10^6, n_eval in 1..min(10^5, n_train), "
                         "width in [0.05, 4], pool in 1..4, threads in 1..64, eval_every >= 1")
    if not (0 <= c.eval_exponent <= 1 and c.stop_factor >= 1 and c.max_budget <= 10 ** 6):
        raise ValueError("eval_exponent must be in [0, 1], stop_factor >= 1 and max_budget <= 10^6")
    if not (max(c.target_updates) < c.sync_budget <= c.max_budget and 0 <= c.warm_updates <= 10 ** 6
            and max(c.warm_target_updates) < c.warm_budget <= 10 ** 6):
        raise ValueError("the targets' updates must lie below sync_budget (<= max_budget) and the warm targets' "
                         "below warm_budget")
    if not (3 <= c.probe_replicas <= 1024 and 3 <= c.probe_steps <= 10 ** 4 and 1 <= c.probe_examples <= c.n_eval
            and 0 < c.probe_step < 10):
        raise ValueError("probe_replicas must be in 3..1024, probe_steps in 3..10^4, probe_examples in 1..n_eval, "
                         "probe_step in (0, 10)")


def _check_grids(c: Config) -> None:
    grids = (c.workers, c.mu_grid, c.lr_grid, c.decision_seeds, c.target_updates, c.warm_workers, c.warm_mu_grid,
             c.warm_lr_grid, c.warm_target_updates, c.probe_workers)
    if not all(grids):
        raise ValueError("workers, mu_grid, lr_grid, decision_seeds, the targets and the warm and probe grids must "
                         "be non-empty")
    if any(len(set(g)) != len(g) for g in grids + (c.replication_seeds, c.loop_workers, c.loop_rules)):
        raise ValueError("grid and seed lists must not repeat a value")
    if set(c.decision_seeds) & set(c.replication_seeds):
        raise ValueError("replication_seeds must be fresh: no seed of decision_seeds")
    if not 1 <= c.target_seeds <= len(c.decision_seeds):
        raise ValueError("target_seeds must be in 1..len(decision_seeds)")
    if min(c.workers) < 1 or 1 not in c.workers or 1 not in c.warm_workers or max(c.workers + c.warm_workers +
                                                                                    c.probe_workers) > 1024:
        raise ValueError("workers must be in 1..1024 and include 1 (the synchronous baseline), as warm_workers")
    if any(not -1 < mu < 1 for mu in c.mu_grid + c.warm_mu_grid):
        raise ValueError("every momentum in mu_grid and warm_mu_grid must be in (-1, 1)")
    if any(not 0 < lr < 10 for lr in c.lr_grid + c.warm_lr_grid):
        raise ValueError("every step in lr_grid and warm_lr_grid must be in (0, 10)")
    if not (set(c.warm_workers) <= set(c.workers) and set(c.warm_mu_grid) <= set(c.mu_grid)
            and set(c.warm_lr_grid) <= set(c.lr_grid)):
        raise ValueError("warm_workers, warm_mu_grid and warm_lr_grid must be drawn from workers, mu_grid and lr_grid "
                         "(the cold start is compared at the same configurations)")
    if not set(c.loop_workers) <= set(c.workers) - {1} or any(r not in CONTROLLERS for r in c.loop_rules):
        raise ValueError(f"loop_workers must be drawn from workers above 1, loop_rules from {', '.join(CONTROLLERS)}")
    if list(c.target_updates) != sorted(c.target_updates) or list(c.warm_target_updates) != sorted(
            c.warm_target_updates):
        raise ValueError("target_updates and warm_target_updates must increase (targets later in training)")
