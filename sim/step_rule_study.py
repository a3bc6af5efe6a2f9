"""The step rules of the later literature under the exponential queue (beyond the paper): every strategy's controls
per replica and update, the per-M oracle beside them, the advice of sim.advise run on fresh queues, and when
asynchrony pays in wall-clock time, simulated and predicted from the theory alone. `config` is the design
(reports.experiments.step_rules.Config)."""
from __future__ import annotations

import numpy as np

from sim import compensation, scoring, step_rules
from sim.queue import simulate, simulate_batch
from sim.seeds import seed_tree
from sim.tuning import Sweep, design_seeds, summary as _summary


def strategies() -> list[str]:
    rules = step_rules.RULES
    return (["no_compensation"] + [f"{r}_alone" for r in rules] + [f"first_order+{r}" for r in rules]
            + [f"theorem7+{r}" for r in rules])


def _cases(config) -> list[tuple[str, int, list]]:
    m, slow = config.straggler_workers, config.straggler_rate
    return [(f"M={m}", m, [1.0] * m) for m in config.workers] + \
        [(f"straggler M={m}", m, [slow] + [1.0] * (m - 1))]


def _controls(config, name: str, schedule, m: int, mu_sync, lr_sync, lr0, mu_law: float | None = None):
    """(mu, lr) per replica and update of a strategy (no per-M grid); `law+rule`: mu_L fixed at `mu_law` (the law's
    own recurrence, as sim.advise says it), the synchronous step scaled per update by the rule."""
    shape = schedule.staleness.shape
    if name == "no_compensation":
        return np.full(shape, mu_sync), np.full(shape, lr_sync)
    if name.startswith("law+"):
        return np.full(shape, mu_law), step_rules.step(name[len("law+"):], lr_sync, schedule.staleness, m)
    if name.endswith("_alone"):
        return np.zeros(shape), step_rules.step(name[:-len("_alone")], lr0, schedule.staleness, m)
    momentum, rule = name.split("+")
    pairs = [compensation.schedule_controls(s, w, config.condition_number if momentum == "theorem7" else None,
                                            mu_sync, lr_sync, "keep", n_workers=m,
                                            mu_sync=mu_sync if momentum == "first_order" else None, per_update=rule)
             for s, w in zip(schedule.staleness, schedule.warmup)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def tables(config) -> dict:
    """The summary: the synchronous tuning, per case the oracle, every strategy, the wall clock and the advice."""
    study = Sweep.of(config)
    roles, noise_seeds = design_seeds(config.seed)
    sync = study.synchronous(config.updates, config.n_seeds, config.noise_std, roles["sync"], noise_seeds[0])
    mu_sync, lr_sync, lr0 = sync["mu_explicit"], sync["lr"], sync["lr_mu0"]
    rng = np.random.default_rng(roles["wall"])
    out = {"synchronous": sync, "cases": {}, "strategies": strategies(),
           "pays_until": _pays_until(study)}
    for k, ((label, m, rates), seed) in enumerate(zip(_cases(config), roles["cases"].spawn(len(_cases(config))))):
        schedule = simulate_batch(m, config.updates, config.n_seeds, "exponential", seed, rates=rates)
        oracle, oracle_runs = study.oracle(schedule, config.noise_std, noise_seeds[1 + 3 * k])
        case = {"n_workers": m, "rates": rates, "oracle": oracle, "strategies": {}}
        for name in strategies():
            mu, lr = _controls(config, name, schedule, m, mu_sync, lr_sync, lr0)
            case["strategies"][name] = _summary(study.runs(schedule, lr, mu, config.noise_std,
                                                           noise_seeds[2 + 3 * k]))
        case["wall"] = _wall(config, study, schedule, oracle_runs, rates, m, noise_seeds[3 + 3 * k], rng)
        case["advice"] = _advice(config, study, m, {"work_time": "exponential", "rates": rates},
                                 (mu_sync, lr_sync, lr0), noise_seeds[ADVICE + 3 * k:])
        out["cases"][label] = case
    out["law_cases"] = _law_cases(config, study, (mu_sync, lr_sync, lr0))
    return out


ADVICE = 40   # the advice's streams: noise_seeds[40 + 3k ...] (the cases use 1..3k+3): queues and noise it was not


def _advice(config, study: Sweep, m: int, law: dict, tuned, streams) -> dict:
    """What `python -m sim.advise` says from one log of this system (4,000 updates of a fresh queue of the work-time
    `law`), run on fresh queues and noise; beside it, the advice it gave before (first-order momentum, the step kept).
    Where the log is not geometric the advice asks for a curvature range: it is then given the study's guess of Q
    (as the theorem7 controllers are) and says the law's own recurrence's momentum, or declines."""
    from sim import advise
    log_seed, queue_seed, noise_seed = streams[:3]
    work, params = law["work_time"], {k: v for k, v in law.items() if k != "work_time"}
    log = simulate(m, 4000, work, log_seed, **params)
    said = advise.advise(log, tuned[0], None, None)["recommended"]
    family = "first_order"
    if said["mu_explicit"] is None:
        said, family = advise.advise(log, tuned[0], None, config.condition_number)["recommended"], "law"
    name = f"{family}+{said['step_rule']}" if said["mu_explicit"] is not None else "no_compensation"
    held = simulate_batch(m, config.updates, config.n_seeds, work, queue_seed, **params)
    runs = {}
    for key, strategy in (("advised", name), ("step_kept", "first_order+constant")):
        mu, lr = _controls(config, strategy, held, m, *tuned, mu_law=said["mu_explicit"])
        runs[key] = _summary(study.runs(held, lr, mu, config.noise_std, noise_seed))
    return {"strategy": name, "mu_explicit": said["mu_explicit"], **runs}


LAW_CASES = ((8, {"work_time": "constant", "value": 1.0}),)   # not memoryless: a pure delay of M - 1 updates


def _law_cases(config, study: Sweep, tuned) -> dict:
    """Work that is not memoryless, for the advice's law route: per case the per-M oracle and the advice, on queues
    and noise of their own stream (the exponential cases' streams are untouched)."""
    out = {}
    streams = seed_tree(config.seed, "law_cases")["law_cases"].spawn(len(LAW_CASES))
    for (m, law), stream in zip(LAW_CASES, streams):
        queue_seed, oracle_noise, *advice_streams = stream.spawn(5)
        params = {k: v for k, v in law.items() if k != "work_time"}
        schedule = simulate_batch(m, config.updates, config.n_seeds, law["work_time"], queue_seed, **params)
        oracle, _ = study.oracle(schedule, config.noise_std, oracle_noise)
        out[f"{law['work_time']} M={m}"] = {"n_workers": m, "law": law["work_time"], "oracle": oracle,
                                            "advice": _advice(config, study, m, law, tuned, advice_streams)}
    return out


def _pays_until(study: Sweep, workers=(2, 4, 8, 16, 32, 64)) -> dict:
    """The theory's wall-clock ratio T_async / T_sync at M equal exponential workers (no run): where it passes 1,
    asynchrony stops paying."""
    return {m: study.predicted_updates(m) / m / (study.predicted_updates(1) * scoring.sync_round_time([1.0] * m))
            for m in workers}


def _wall(config, study: Sweep, schedule, oracle_updates, rates, m: int, noise_seed, rng) -> dict:
    """Time to target of the tuned asynchronous runs (the queue's own clock) and of tuned synchronous training with M
    workers (rounds of M averaged gradients, tuned on the grid; each round waits for the slowest worker), simulated,
    and as HE x SE predicts them."""
    async_times = np.array([schedule.time[s, int(u) - 1] if np.isfinite(u) and u > 0 else np.inf
                            for s, u in enumerate(oracle_updates)])
    one = simulate_batch(1, config.updates, config.sync_seeds, seed=int(rng.integers(2 ** 31)))
    table = study.grid(one, config.noise_std / np.sqrt(m), noise_seed)
    sync_updates = table[study.best(table)]
    sync_times = np.array([scoring.simulated_sync_time(rates, u, rng) if np.isfinite(u) else np.inf
                           for u in sync_updates])
    u_async, u_sync = np.asarray(oracle_updates, dtype=float), np.asarray(sync_updates, dtype=float)
    theory_async, theory_sync = study.predicted_updates(m), study.predicted_updates(1)
    # means over seeds (a censored run makes them infinite): the expected times HE x SE predicts
    return {"async_updates": float(u_async.mean()), "sync_updates": float(u_sync.mean()),
            "async_time": float(async_times.mean()), "sync_time": float(sync_times.mean()),
            "predicted_async_time": float(u_async.mean()) * scoring.async_time_per_update(rates),
            "predicted_sync_time": float(u_sync.mean()) * scoring.sync_round_time(rates),
            "naive_sync_time": float(u_sync.mean()) * float(np.mean(1.0 / np.asarray(rates))),
            # from the theory alone (no run): the expected recurrence's updates, the queue's time per update, and
            # E[max] of the work times per round (a mean worker's time for the naive control)
            "theory_async_updates": theory_async, "theory_sync_updates": theory_sync,
            "theory_ratio": theory_async * scoring.async_time_per_update(rates)
            / (theory_sync * scoring.sync_round_time(rates)),
            "naive_theory_ratio": theory_async * scoring.async_time_per_update(rates)
            / (theory_sync * float(np.mean(1.0 / np.asarray(rates))))}
