"""Real asynchronous SGD: a parameter server over Dask futures.

The server (this process) holds the parameters, a version counter and the explicit momentum (the previous
parameters: momentum lives at the server, as in the paper's model w <- (w - alpha g) + mu_L (w - w_prev)).
It submits one gradient task per worker slot with the current parameters and their version, takes whichever
finishes first, applies it, records staleness = current version - version read, and resubmits that slot with
the new parameters. Work times are natural, or injected: the server draws a time from a named law (e.g.
exponential: the paper's Assumption 4, realised physically) and the task returns when that time has passed since
its slot's previous task ended (on the server's clock), so the cycle time itself follows the law.

Faults: a task whose worker dies or that raises is counted in `lost_updates` and its slot resubmitted; a
gradient that is not finite is recorded and skipped; every task is applied at most once. A run whose lost plus
skipped tasks exceed the updates asked (or 2M + 10 in a row) stops with RunAborted instead of resubmitting forever.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from cnn_experiments import workloads
from sim import step_rules
from sim.seeds import int_seed, seed_tree
from sim.laws import make_sampler


MAX_WORK_S = 60.0        # one drawn work time is capped at a minute (a run stays a local experiment)
MAX_WORKERS = 256        # worker processes on one machine or a small cluster
MAX_UPDATES = 10 ** 6    # a day of updates at 10 per second
MAX_BATCH = 10 ** 6      # larger than the workloads' data: the full gradient


class RunAborted(RuntimeError):
    """Too many tasks were lost or gave non-finite gradients: the run stops instead of resubmitting forever."""


@dataclass(frozen=True)
class RealConfig:
    n_workers: int = 4
    n_updates: int = 400
    model: str = "logreg"
    lr: float = 0.5
    mu_explicit: float = 0.0
    batch_size: int = 32
    work_time: str = "exponential"  # "natural" or a law of sim.laws
    work_mean: float = 0.02         # seconds: mean of the injected work time
    seed: int = 0                   # injected work times and mini-batches
    data_seed: int = 0              # the workload: data set and initial parameters
    record_trajectory: bool = False
    compensate_every: int = 0       # > 0: closed loop, (mu_L, alpha) reset from the logged staleness this often
    condition_number: float = 100.0  # the closed loop's curvature range Q (a guess: the user's)
    step_rule: str = "keep"         # closed loop: the step tuned at M = 1 kept, or scaled (sim.compensation.STEP_RULES)
    momentum_rule: str = "theorem7"  # closed loop: mu_L from Theorem 7 and Q, or "first_order": mu_explicit - mu_S
    per_update: str = "constant"    # the step of each update scaled by its own staleness (sim.step_rules.RULES)
    examples: int = 4096            # logreg: the data set's size (the queue-model studies use 512)
    noise_std: float = 0.0          # Gaussian noise added to each gradient, per coordinate (seeded per task)

    def validate(self) -> None:
        if isinstance(self.n_workers, bool) or not isinstance(self.n_workers, int) or not 1 <= self.n_workers <= MAX_WORKERS:
            raise ValueError(f"n_workers (M) must be an integer in 1..{MAX_WORKERS} (one process each), "
                             f"got {self.n_workers!r}")
        if not 1 <= self.n_updates <= MAX_UPDATES:
            raise ValueError(f"updates must be in 1..{MAX_UPDATES}, got {self.n_updates!r}")
        if not 1 <= self.batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be in 1..{MAX_BATCH} (>= the data size: the full gradient), "
                             f"got {self.batch_size!r}")
        if not 0 <= self.seed < 2 ** 32 or not 0 <= self.data_seed < 2 ** 32:
            raise ValueError(f"seed and data_seed must be in 0..2^32-1, got {self.seed!r}, {self.data_seed!r}")
        if self.model not in ("logreg", "cnn"):
            raise ValueError(f"model must be logreg or cnn, got {self.model!r}")
        if not np.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a positive finite number, got {self.lr!r}")
        if not np.isfinite(self.mu_explicit) or not -1 < self.mu_explicit < 1:
            raise ValueError(f"mu_explicit must be in (-1, 1), got {self.mu_explicit!r}")
        if not 0 <= self.compensate_every <= MAX_UPDATES or not 1 < self.condition_number <= 10 ** 6:
            raise ValueError("compensate_every must be in 0..10^6 (0: off) and condition_number in (1, 10^6]")
        from sim.compensation import MOMENTUM_RULES, STEP_RULES
        if self.step_rule not in STEP_RULES or self.momentum_rule not in MOMENTUM_RULES:
            raise ValueError(f"step_rule must be one of {', '.join(STEP_RULES)} and momentum_rule one of "
                             f"{', '.join(MOMENTUM_RULES)}, got {self.step_rule!r}, {self.momentum_rule!r}")
        from sim.step_rules import RULES
        if self.per_update not in RULES:
            raise ValueError(f"per_update must be one of {', '.join(RULES)}, got {self.per_update!r}")
        if self.momentum_rule == "first_order" and self.step_rule == "theorem7":
            raise ValueError("the theorem7 step rule needs Theorem 7's momentum rule (the first-order rule has no "
                             "curvature range); choose --step-rule keep or delay")
        if not 16 <= self.examples <= 10 ** 5 or not (np.isfinite(self.noise_std) and 0 <= self.noise_std <= 1):
            raise ValueError(f"examples must be in 16..10^5 and noise_std in [0, 1], got {self.examples!r}, "
                             f"{self.noise_std!r}")
        if self.work_time != "natural" and (not np.isfinite(self.work_mean) or not 0 < self.work_mean <= MAX_WORK_S):
            raise ValueError(f"work_mean must be a positive number of seconds, at most {MAX_WORK_S:g}, "
                             f"got {self.work_mean!r}")


@dataclass
class RealRun:
    staleness: list = field(default_factory=list)
    slot: list = field(default_factory=list)
    time: list = field(default_factory=list)
    cycle: list = field(default_factory=list)      # server-side time from submit to result, per applied task
    compute: list = field(default_factory=list)    # worker-side time inside the task
    losses: list = field(default_factory=list)     # (update, loss, seconds) every `loss_every` updates
    events: list = field(default_factory=list)
    lost_updates: int = 0
    skipped_nonfinite: int = 0
    applied_tasks: list = field(default_factory=list)
    trajectory: list = field(default_factory=list)
    full_gradients: list = field(default_factory=list)
    wall_seconds: float = 0.0
    final_params: np.ndarray | None = None
    controls: list = field(default_factory=list)   # closed loop: (update, mu_S estimate, mu_L, lr) per reset


def gradient_task(params: np.ndarray, version: int, task_id: int, model: str, seed: int, batch_seed: int,
                  batch_size: int, finish_at: float, poison: bool = False, examples: int = 4096,
                  noise_std: float = 0.0) -> dict:
    """What a worker does: a mini-batch gradient at `params`, then (injected work times) wait until `finish_at`.

    `finish_at` is on the server's clock (time.time(); the worker processes share this machine's clock): the end
    of the slot's previous task plus the drawn work time, so the times between a slot's results follow the law
    exactly: the Dask round trip, the server's own work and the gradient are inside the drawn time, not added to
    it. 0: natural work time, no wait.
    """
    start = time.perf_counter()
    grad = workloads.get(model, seed, examples).gradient(params, batch_seed, batch_size)
    if noise_std:
        grad = grad + noise_std * np.random.default_rng([batch_seed, 1]).standard_normal(grad.shape)
    if poison:
        grad = grad * np.nan
    if finish_at > 0:
        time.sleep(max(0.0, min(finish_at - time.time(), MAX_WORK_S)))
    return {"grad": grad, "version": version, "task_id": task_id, "compute_s": time.perf_counter() - start,
            "pid": os.getpid()}


def _sleep_sampler(config: RealConfig):
    if config.work_time == "natural":
        return lambda: 0.0
    law_params = {"exponential": {"rate": 1 / config.work_mean}, "constant": {"value": config.work_mean},
                  "gamma": {"shape": 10.0, "scale": config.work_mean / 10}, "lognormal": {"sigma": 1.0,
                  "mean": float(np.log(config.work_mean) - 0.5)}}.get(config.work_time)
    if law_params is None:
        raise ValueError(f"unknown work time {config.work_time!r}; choose natural, exponential, constant, gamma "
                         "or lognormal")
    sampler = make_sampler(config.work_time, config.n_workers, **law_params)
    rng = np.random.default_rng(seed_tree(config.seed, "work-times")["work-times"])
    return lambda: float(sampler(rng, (1, 1, 1))[0, 0, 0])


class _Server:
    """The parameter server's state during a run: the parameters, the tasks in flight, the log."""

    def __init__(self, client, config: RealConfig, poison_tasks, loss_every: int):
        self.client, self.config, self.poison, self.loss_every = client, config, poison_tasks, loss_every
        self.work = workloads.get(config.model, config.data_seed, config.examples)
        self.w = self.work.init()
        self.previous = self.w.copy()
        self.version, self.next_task, self.failures, self.in_a_row = 0, 0, 0, 0
        self.sleep = _sleep_sampler(config)
        self.out = RealRun()
        self.pending = {}     # future key -> (slot, submit time, task id, future)
        self.slot_clock = {}  # slot -> when its current task ends on the server's clock (injected work times)
        self.start, self.wall_start = time.perf_counter(), time.time()
        self.mu_explicit, self.lr = config.mu_explicit, config.lr
        self.loop = _closed_loop(config) if config.compensate_every else None
        if self.loop is not None:  # before the first reset: what M alone says (as sim.compensation's replay)
            self.mu_explicit, self.lr = _loop_start(config)
        self.limit = max_failures(config)
        self.record()

    def record(self) -> None:
        if self.config.record_trajectory:
            self.out.trajectory.append(self.w.copy())
            self.out.full_gradients.append(self.work.full_gradient(self.w))

    def submit(self, slot: int):
        c, task_id = self.config, self.next_task
        self.next_task += 1
        drawn = self.sleep()
        if drawn > 0:  # the slot's logical clock: its previous task's end (not when the server got to it) + drawn
            self.slot_clock[slot] = self.slot_clock.get(slot, self.wall_start) + drawn
        future = self.client.submit(gradient_task, self.w, self.version, task_id, c.model, c.data_seed,
                                    int_seed(c.seed, f"task-{task_id}"), c.batch_size,
                                    self.slot_clock[slot] if drawn > 0 else 0.0, task_id in self.poison, c.examples,
                                    c.noise_std, pure=False, key=f"grad-{c.seed}-{task_id}")
        self.pending[future.key] = (slot, time.perf_counter(), task_id, future)
        return future

    def cancel(self) -> None:
        self.client.cancel([entry[3] for entry in self.pending.values()])

    def failed(self, event: str, slot: int, task_id: int, stream) -> None:
        """A lost or non-finite gradient: logged, the slot resubmitted; too many abort the run."""
        self.out.events.append({"update": self.version, "slot": slot, "task": task_id, "event": event})
        self.failures, self.in_a_row = self.failures + 1, self.in_a_row + 1
        if self.failures > self.limit or self.in_a_row > 2 * self.config.n_workers + 10:
            self.cancel()
            raise RunAborted(f"{self.failures} tasks lost or non-finite ({self.in_a_row} in a row; last: {event}) "
                             f"after {self.version} updates; check the workers, the data and the step size (--lr)")
        stream.add(self.submit(slot))

    def apply(self, result: dict, slot: int, submitted: float, now: float) -> None:
        """One write: the gradient taken at the version the worker read, applied with explicit momentum."""
        c, out = self.config, self.out
        self.in_a_row = 0
        staleness = self.version - result["version"]
        step = self.lr if c.per_update == "constant" else float(step_rules.step(c.per_update, self.lr, staleness,
                                                                                c.n_workers))
        self.w, self.previous = (self.w - step * result["grad"]) + self.mu_explicit * (self.w - self.previous), self.w
        self.version += 1
        out.staleness.append(staleness)
        out.slot.append(slot)
        out.time.append(now - self.start)
        out.cycle.append(now - submitted)
        out.compute.append(result["compute_s"])
        out.applied_tasks.append(result["task_id"])
        self.record()
        if self.loss_every and self.version % self.loss_every == 0:
            out.losses.append((self.version, self.work.loss(self.w), now - self.start))
        if self.loop is not None and self.version % c.compensate_every == 0:
            self.mu_explicit, self.lr = self.loop(out)


def run(client, config: RealConfig, on_update=None, poison_tasks=(), loss_every: int = 0, stop=None) -> RealRun:
    """Run the parameter-server loop on a Dask client; `on_update(version, run)` is called after each update, and
    the run ends early when `stop(version, params)` is true (a target reached, or a diverged run)."""
    from distributed import as_completed
    config.validate()
    server = _Server(client, config, poison_tasks, loss_every)
    if loss_every:
        server.out.losses.append((0, server.work.loss(server.w), 0.0))
    stream = as_completed([server.submit(slot) for slot in range(config.n_workers)])
    for future in stream:
        slot, submitted, task_id, _ = server.pending.pop(future.key)
        now = time.perf_counter()
        try:
            result = future.result()
        except Exception as exc:  # the worker died or the task raised: the gradient is lost, the slot goes on
            server.out.lost_updates += 1
            server.failed(f"lost: {type(exc).__name__}: {str(exc)[:120]}", slot, task_id, stream)
            continue
        if not np.all(np.isfinite(result["grad"])):
            server.out.skipped_nonfinite += 1
            server.failed("non-finite gradient skipped", slot, task_id, stream)
            continue
        server.apply(result, slot, submitted, now)
        if on_update is not None:
            on_update(server.version, server.out)
        if server.version >= config.n_updates or (stop is not None and stop(server.version, server.w)):
            break
        stream.add(server.submit(slot))
    server.cancel()  # tasks still in flight when the run ends
    server.out.wall_seconds = time.perf_counter() - server.start
    server.out.final_params = server.w
    return server.out


def _closed_loop(config: RealConfig):
    """The server-side controller (sim.compensation): from the staleness logged so far (after the warm-up), the lower
    bound of the implicit momentum; mu_L from Theorem 7 for it and Q, or by the first-order rule mu_L = mu_explicit -
    mu_S (momentum_rule); the step tuned at M = 1 (config.lr) kept, scaled by Theorem 7's ratio alpha(mu_S) / alpha(0)
    (about 6 at M = 8, Q = 100), or by the pure delay's stability bound at the mean staleness (step_rule). Measured on
    the logistic regression, M = 8, 2,000 updates: the Theorem-7-scaled step ends at loss 0.72 (noisy: Theorem 7 tunes
    the expected iterate, not its variance), the kept step at 0.23, like mu_L = 0 (0.22) and unlike mu_L = 0.9 (1.57).
    Returns out -> (mu_L, lr), recorded in out.controls."""
    from sim import compensation
    from sim.queue import warmup_mask

    def reset(out: RealRun) -> tuple[float, float]:
        staleness = np.asarray(out.staleness)
        steady = staleness[~warmup_mask(np.asarray(out.slot), config.n_workers)]
        if steady.size < compensation.MIN_DELAYS:  # too few delays to estimate: keep the user's settings
            out.controls.append((len(staleness), None, config.mu_explicit, config.lr))
            return config.mu_explicit, config.lr
        mu, lr = compensation.control(steady, config.condition_number, config.mu_explicit, config.lr, config.step_rule,
                                      mu_sync=config.mu_explicit if config.momentum_rule == "first_order" else None)
        out.controls.append((len(staleness), float(steady.mean() / (1 + steady.mean())), mu, lr))
        return mu, lr
    return reset


def _loop_start(config: RealConfig) -> tuple[float, float]:
    """The closed loop's (mu_L, alpha) before it has logged enough delays: its rule at what M alone says."""
    from sim import compensation
    return compensation.start_controls(config.n_workers, config.condition_number, config.mu_explicit, config.lr,
                                       config.step_rule, config.momentum_rule == "first_order")


def max_failures(config: RealConfig) -> int:
    """Lost plus non-finite tasks a run tolerates before it stops: as many as the updates asked (and at least 10)."""
    return max(config.n_updates, 10)


