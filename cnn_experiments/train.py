"""CNN training under simulated asynchrony, many configurations at once on one device.

Each configuration (M, mu_L, alpha, seed) has M workers holding the parameters they read. The order of writes
comes from `sim.queue.simulate` (the same model as the Monte Carlo). When worker j writes, its gradient — taken
at its own snapshot, on its own fresh mini-batch — is applied to the current parameters with explicit momentum
mu_L at the store, w <- (w - alpha g) + mu_L (w - w_prev); then worker j reads the new parameters. M = 1 is
plain momentum SGD. A run with a `controller` is the closed loop of sim.compensation replayed on its own queue:
(mu_L, alpha) start from the first-order rule at what M says and are reset every 100 updates from the staleness
logged so far (the spec's mu_L and alpha are the synchronous tuning the rule starts from).

All active configurations step together: the K snapshots being read are gathered, one batched forward/backward
(cifar10_quick stacked as convolution groups) gives K gradients, and K updates are applied. Configurations that
reach the last target or diverge are dropped from the batch, so slow ones do not hold the rest.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from cnn_experiments import model, specs, sweep
from sim import compensation
from sim.queue import simulate
from sim.seeds import seed_tree

ROLES = ("queue", "batches")  # one seed tree per run: the queue and the mini-batches never share a stream
CONTROLLERS = specs.CONTROLLERS
RunSpec, Settings = specs.RunSpec, specs.Settings


@dataclass
class RunRecord:
    spec: RunSpec
    eval_steps: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    reached: dict = field(default_factory=dict)   # target -> update count, or None when never reached
    diverged: bool = False
    updates: int = 0
    staleness: np.ndarray | None = None
    controls: tuple | None = None                  # (mu_L, alpha) of the last update made
    stop: int = 0                                  # the update at which this run's batch stopped (its censoring)


class Data:
    """Training images normalised once, on the device; a fixed evaluation subset. `pool` > 1 averages pool x pool
    pixel blocks first (28 x 28 -> 14 x 14 at pool 2: the CPU profile's reduced input size)."""

    def __init__(self, dataset, n_train: int | None, n_eval: int, device, pool: int = 1):
        x = dataset.train_x[:n_train] if n_train else dataset.train_x
        y = dataset.train_y[:n_train] if n_train else dataset.train_y
        xf = torch.from_numpy(np.array(x, dtype=np.float32)) / 255.0  # a writable copy
        if pool > 1:
            xf = torch.nn.functional.avg_pool2d(xf, pool)
        mean, std = xf.mean(dim=(0, 2, 3), keepdim=True), xf.std(dim=(0, 2, 3), keepdim=True)
        self.x = ((xf - mean) / std).to(device)
        self.y = torch.as_tensor(y, dtype=torch.int64).to(device)
        self.eval_x, self.eval_y = self.x[:n_eval], self.y[:n_eval]
        self.channels, self.size, self.n = self.x.shape[1], self.x.shape[2], self.x.shape[0]


def eval_chunk(n_models: int, images: int = 0) -> int:
    """Images of the evaluation set per forward pass of K models: `images`, or (0) the rule the committed batch-16
    chunks were made with (K x chunk images bound the activation memory). The sums differ only by float rounding,
    so the rule is part of a chunk's numerical path."""
    return images if images else min(256, max(8, 32768 // n_models))


def eval_losses(params: dict, data: Data, nhwc: bool = False, images: int = 0) -> torch.Tensor:
    """Training loss of each of the K current models on the fixed evaluation subset: (K,)."""
    K = next(iter(params.values())).shape[0]
    chunk = eval_chunk(K, images)
    total = torch.zeros(K, device=data.x.device)
    with torch.no_grad():
        for start in range(0, data.eval_x.shape[0], chunk):
            xb = data.eval_x[start:start + chunk]
            yb = data.eval_y[start:start + chunk]
            x = xb.unsqueeze(0).expand(K, *xb.shape)
            y = yb.unsqueeze(0).expand(K, yb.shape[0])
            total += model.losses(params, x, y, nhwc) * xb.shape[0]
    return total / data.eval_x.shape[0]


def resolve_device(name: str):
    """"auto": CUDA when there is one, else the CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def load_data(dataset: str, data_dir: str | None, n_train: int, n_eval: int, device: str, pool: int) -> Data:
    """The data set on the device, normalised (a sweep's backend); torch's global seed fixed first."""
    from cnn_experiments.data import load
    torch.manual_seed(0)
    return Data(load(dataset, data_dir or None), n_train, n_eval, resolve_device(device), pool)


def design_data(design) -> Data:
    """The data a CNN design (a config with dataset, data_dir, n_train, n_eval, device, pool, threads) trains on,
    torch's threads set first: the bits depend on them (verify-evidence sets the same)."""
    torch.set_num_threads(design.threads)
    return load_data(design.dataset, design.data_dir, design.n_train, design.n_eval, design.device, design.pool)


def eval_se(params: dict, data: Data, nhwc: bool = False) -> list[float]:
    """Standard error of each of the K models' evaluation loss: the SD of its per-example losses / sqrt(n_eval)."""
    K = next(iter(params.values())).shape[0]
    with torch.no_grad():
        x = data.eval_x.unsqueeze(0).expand(K, *data.eval_x.shape)
        logits = model.forward(params, x, nhwc)
        y = data.eval_y.unsqueeze(0).expand(K, -1)
        per = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                                reduction="none").reshape(K, -1)
    return (per.std(dim=1) / per.shape[1] ** 0.5).tolist()


class _Batch:
    """The state of K configurations trained together."""

    def __init__(self, specs: list[RunSpec], data: Data, settings: Settings, track_staleness: bool,
                 initial: dict | None = None):
        self.specs, self.settings, self.data = specs, settings, data
        device = data.x.device
        inits = [s.seed if s.init_seed is None else s.init_seed for s in specs]
        self.w = ({k: v.to(device).clone() for k, v in initial.items()} if initial is not None else
                  model.init_params(inits, data.channels, data.size, settings.width, device, settings.init))
        self.loss_fn = fast_losses(settings, device)
        self.prev = {k: v.clone() for k, v in self.w.items()}
        sizes = [s.n_workers for s in specs]
        self.offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]]), device=device)
        owner = torch.as_tensor(np.repeat(np.arange(len(specs)), sizes), device=device)
        self.snaps = {k: v[owner].clone() for k, v in self.w.items()}
        self.version = torch.zeros(sum(sizes), dtype=torch.int64, device=device)
        queues = [simulate(s.n_workers, settings.budget, settings.work_time, seed=run_seeds(s.seed)["queue"])
                  for s in specs]
        self.worker = torch.as_tensor(np.stack([q.worker for q in queues]), device=device)
        self.batches = torch.as_tensor(np.stack([minibatches(s.seed, data.n, settings) for s in specs]), device=device)
        mu, lr = zip(*(controls(s, q) for s, q in zip(specs, queues)))
        self.lr = torch.tensor(np.stack(lr), dtype=torch.float32, device=device)   # (K, budget): alpha per update
        self.mu = torch.tensor(np.stack(mu), dtype=torch.float32, device=device)   # (K, budget): mu_L per update
        self.rows = list(range(len(specs)))          # positions in the caller's list
        self.staleness = torch.zeros((len(specs), settings.budget), dtype=torch.int64, device=device) \
            if track_staleness else None

    def step(self, t: int) -> None:
        slot = self.offsets + self.worker[:, t]
        theta = {k: v[slot].requires_grad_(True) for k, v in self.snaps.items()}
        idx = self.batches[:, t]
        loss = self.loss_fn(theta, self.data.x[idx], self.data.y[idx]).sum()
        grads = torch.autograd.grad(loss, list(theta.values()))
        with torch.no_grad():
            for (name, w), g in zip(self.w.items(), grads):
                shape = (-1,) + (1,) * (w.dim() - 1)
                new = (w - self.lr[:, t].view(shape) * g) + self.mu[:, t].view(shape) * (w - self.prev[name])
                self.prev[name] = w
                self.w[name] = new
                self.snaps[name][slot] = new
            if self.staleness is not None:
                self.staleness[:, t] = t - self.version[slot]
            self.version[slot] = t + 1

    def keep(self, mask: list[bool]) -> None:
        """Drop the configurations whose mask is False (finished or diverged)."""
        device = self.lr.device
        keep = torch.as_tensor([i for i, k in enumerate(mask) if k], dtype=torch.int64, device=device)
        sizes = [s.n_workers for s, k in zip(self.specs, mask) if k]
        slots = torch.cat([torch.arange(int(self.offsets[i]), int(self.offsets[i]) + s.n_workers, device=device)
                           for i, (s, k) in enumerate(zip(self.specs, mask)) if k])
        self.w = {k: v[keep] for k, v in self.w.items()}
        self.prev = {k: v[keep] for k, v in self.prev.items()}
        self.snaps = {k: v[slots] for k, v in self.snaps.items()}
        self.version = self.version[slots]
        self.offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]]), device=device)
        self.worker, self.batches = self.worker[keep], self.batches[keep]
        self.lr, self.mu = self.lr[keep], self.mu[keep]
        if self.staleness is not None:
            self.staleness = self.staleness[keep]
        self.specs = [s for s, k in zip(self.specs, mask) if k]
        self.rows = [r for r, k in zip(self.rows, mask) if k]


def controls(spec: RunSpec, queue) -> tuple[np.ndarray, np.ndarray]:
    """(mu_L, alpha) for every update of a run: the spec's, or its closed loop replayed on its queue (the first-order
    rule mu_L = mu_sync - mu_S from the logged staleness; the step by the controller's rule: reset with the loop, or
    kept and scaled per update by a rule of sim.step_rules)."""
    n = queue.worker.shape[-1]
    if spec.controller is None:
        return np.full(n, spec.mu_explicit), np.full(n, spec.lr)
    reset, per_update = ((spec.controller, "constant") if spec.controller in compensation.FIRST_ORDER_STEP_RULES
                         else ("keep", spec.controller))
    return compensation.schedule_controls(queue.staleness, queue.warmup, None, spec.mu_explicit, spec.lr, reset,
                                          n_workers=spec.n_workers, mu_sync=spec.mu_explicit, per_update=per_update)


def channels_last(settings: Settings, device) -> bool:
    """Whether activations are laid out channels-last (NHWC): as asked, or on CUDA with bf16 ("auto")."""
    if settings.layout != "auto":
        return settings.layout == "nhwc"
    return settings.precision == "bf16" and torch.device(device).type == "cuda"


def fast_losses(settings: Settings, device):
    """model.losses as the settings ask: in bf16 autocast (fp32 weights; the loss is returned in fp32), compiled,
    channels-last. Compilation errors fall back to eager with a note on stderr."""
    settings.validate()
    fn = model.losses
    if settings.compile:
        if "compiled" not in _COMPILED:  # one compiled function per process (static shapes: a graph per shape)
            _COMPILED["compiled"] = _compiled(fn)
        fn = _COMPILED["compiled"]
    nhwc = channels_last(settings, device)
    if settings.precision == "fp32":
        return (lambda params, x, y: fn(params, x, y, True)) if nhwc else fn
    device_type = torch.device(device).type

    def bf16_losses(params, x, y):
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            return fn(params, x, y, nhwc).float()
    return bf16_losses


_COMPILED: dict = {}


def _compiled(fn):
    import sys
    try:
        compiled = torch.compile(fn, dynamic=False)
    except Exception as exc:  # noqa: BLE001 - any failure to build the compiled function means eager
        print(f"note: torch.compile unavailable ({type(exc).__name__}: {exc}); eager mode", file=sys.stderr)
        return fn
    state = {"fn": compiled}

    def call(params, x, y, nhwc=False):
        try:
            return state["fn"](params, x, y, nhwc)
        except Exception as exc:  # noqa: BLE001 - a compile failure shows at the first call; eager from then on
            if state["fn"] is fn:
                raise
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            print(f"note: torch.compile failed ({type(exc).__name__}: {first}); eager mode", file=sys.stderr)
            state["fn"] = fn
            return fn(params, x, y, nhwc)
    call.eager = lambda: state["fn"] is fn   # True once the compiled function has fallen back to eager
    return call


def compile_fell_back() -> bool:
    """Whether this process asked for torch.compile and runs eager instead (compilation failed)."""
    fn = _COMPILED.get("compiled")
    return fn is not None and getattr(fn, "eager", lambda: True)()


def warm_start(spec: RunSpec, data: Data, settings: Settings, n_updates: int) -> dict[str, torch.Tensor]:
    """The weights after n_updates of spec (synchronous warm-up for Fig. 5), shape (1, ...) per tensor."""
    batch = _Batch([spec], data, replace(settings, budget=n_updates), track_staleness=False)
    for t in range(n_updates):
        batch.step(t)
    return {k: v.detach().clone() for k, v in batch.w.items()}


def train(specs: list[RunSpec], data: Data, settings: Settings, progress=None,
          track_staleness: bool = False, initial: dict | None = None) -> list[RunRecord]:
    """Train every configuration; returns one record per spec, in order. `progress(n_done)` is called as runs end.
    `initial` (tensors of shape (1, ...)) starts every configuration from the same weights instead of its seed's.
    With `settings.stop_factor` every run stops at that multiple of the first time a run reached the lowest target
    (all specs are then trained as one batch, so that the stop is the same for all of them)."""
    settings.validate()
    for s in specs:
        s.validate()
    if settings.stop_factor and len(specs) > settings.max_batch:
        raise ValueError(f"stop_factor needs every run in one batch: {len(specs)} runs > max_batch "
                         f"{settings.max_batch}")
    records = [RunRecord(spec=s) for s in specs]
    targets = sorted(settings.targets, reverse=True)
    nhwc = channels_last(settings, data.x.device)
    for start in range(0, len(specs), settings.max_batch):
        chunk = list(range(start, min(start + settings.max_batch, len(specs))))
        start_w = None if initial is None else {k: v.expand(len(chunk), *v.shape[1:]) for k, v in initial.items()}
        batch = _Batch([specs[i] for i in chunk], data, settings, track_staleness, start_w)
        batch.rows = chunk
        _train_batch(batch, records, data, settings, targets, nhwc, progress)
    for rec in records:
        for target in targets:
            rec.reached.setdefault(target, None)
    return records


def _train_batch(batch: _Batch, records: list, data: Data, settings: Settings, targets: list, nhwc: bool,
                 progress) -> None:
    initial = eval_losses(batch.w, data, nhwc, settings.eval_images)
    for r, loss in zip(batch.rows, initial.tolist()):
        records[r].eval_steps.append(0)
        records[r].losses.append(loss)
    initial_by_row = dict(zip(batch.rows, initial.tolist()))
    rows, stop = list(batch.rows), settings.budget
    for t in range(settings.budget):
        batch.step(t)
        last = t + 1 == stop
        if (t + 1) % settings.eval_every and not last:
            continue
        losses = eval_losses(batch.w, data, nhwc, settings.eval_images).tolist()
        now = zip(batch.mu[:, t].tolist(), batch.lr[:, t].tolist())
        mask = []
        for r, loss, control in zip(batch.rows, losses, now):
            rec = records[r]
            rec.controls = control
            rec.eval_steps.append(t + 1)
            rec.losses.append(loss)
            rec.updates = t + 1
            for target in targets:
                if target not in rec.reached and math.isfinite(loss) and loss <= target:
                    rec.reached[target] = t + 1
            rec.diverged = not math.isfinite(loss) or loss > settings.diverge_factor * initial_by_row[r]
            done = rec.diverged or (targets and targets[-1] in rec.reached)
            if settings.stop_factor and stop == settings.budget and targets and targets[-1] in rec.reached:
                stop = min(settings.budget, max(t + 1, math.ceil(settings.stop_factor * (t + 1))))
            mask.append(not done and not last)
        if stop == t + 1:  # the stop was set at this very evaluation: nothing runs past it
            mask = [False] * len(mask)
        if batch.staleness is not None and (not all(mask)):
            for i, r in enumerate(batch.rows):
                if not mask[i]:
                    records[r].staleness = batch.staleness[i, :t + 1].cpu().numpy()
        if progress is not None:
            progress(sum(not m for m in mask))
        if not any(mask):
            break
        if not all(mask):
            batch.keep(mask)
    for r in rows:
        records[r].stop = stop


def chunk_payload(specs: list[RunSpec], data: Data, settings: Settings) -> dict:
    """One chunk of a sweep: every spec trained in one batch (paired: one start, one mini-batch stream and one queue
    per seed), as the JSON payload of cnn_experiments.sweep."""
    records = train(specs, data, replace(settings, max_batch=len(specs)))
    return sweep.payload(records, max(r.stop for r in records))


def run_seeds(seed: int) -> dict:
    """The run's seed tree: {'queue': SeedSequence, 'batches': SeedSequence}."""
    return seed_tree(seed, *ROLES)


def minibatches(seed: int, n_examples: int, settings: Settings) -> np.ndarray:
    """The mini-batch indices of one run, from the run's own 'batches' stream (not the queue's)."""
    return np.random.default_rng(run_seeds(seed)["batches"]).integers(
        0, n_examples, size=(settings.budget, settings.batch_size))


def sgd_reference(spec: RunSpec, data: Data, settings: Settings, n_steps: int) -> dict[str, torch.Tensor]:
    """M = 1 with torch.optim.SGD(momentum=mu_L) on the same batches: the reference for the M = 1 test.

    torch's buffer form b <- mu b + g, w <- w - alpha b is the same recursion as w <- w - alpha g + mu (w - w_prev).
    """
    params = {k: v[0].clone().requires_grad_(True)
              for k, v in model.init_params([spec.seed], data.channels, data.size, settings.width,
                                            init=settings.init).items()}
    opt = torch.optim.SGD(list(params.values()), lr=spec.lr, momentum=spec.mu_explicit)
    batches = minibatches(spec.seed, data.n, settings)
    for t in range(n_steps):
        idx = torch.as_tensor(batches[t])
        stacked = {k: v.unsqueeze(0) for k, v in params.items()}
        loss = model.losses(stacked, data.x[idx].unsqueeze(0), data.y[idx].unsqueeze(0)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {k: v.detach() for k, v in params.items()}


def throughput(data: Data, settings: Settings, n_models: int, n_steps: int) -> float:
    """Model-steps per second of the batched trainer with n_models configurations (M = 4)."""
    specs = [RunSpec(4, 0.5, 0.01, seed) for seed in range(n_models)]
    batch = _Batch(specs, data, settings, track_staleness=False)
    batch.step(0)
    if data.x.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for t in range(1, n_steps + 1):
        batch.step(t)
    if data.x.is_cuda:
        torch.cuda.synchronize()
    return n_models * n_steps / (time.perf_counter() - start)
