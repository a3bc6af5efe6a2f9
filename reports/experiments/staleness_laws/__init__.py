"""Beyond the paper: work times that are not memoryless. What asynchrony begets instead of momentum.

Theorem 2 gives the expected update for any staleness law q; theory.laws turns it into a recurrence, its rate and
its tuned explicit momentum. Here, for each law (exponential — the paper's case —, constant — round-robin, a pure
delay —, gamma with shape 2 and 10, lognormal with sigma 0.5 and 1, heterogeneous exponential rates) and M workers:
the stationary pmf of the queue (sim.queue.queue_pmf: exact for exponential and constant, estimated otherwise),
the Monte Carlo of asynchronous SGD on a quadratic (Q = 10) driven by that law's queue, against the law's own
recurrence: the mean trajectory in standard errors, and the best mu_L on a grid (the expected iterate's decay rate,
as in mc_tuning, among configurations whose runs converge in mean square). The mean trajectory is run twice: from a
cold queue (every worker reads w_0 at time 0) and from a stationary one (the queue has run 60 writes per worker;
the workers in flight read w_0), which separates the start transient from the delays' dependence. The momentum
picture as an approximation: the best two-term fit to each law's expected trajectory (theory.laws.two_term_fit), its
error against the fit's noise floor (the exponential law's pmf estimated like the others'), and what tuning by it
costs. The wrong model each is checked against is the paper's momentum picture: the geometric law with the same mean
staleness. Laws include "trace": work times measured on a real Dask parameter server (data/traces/). Deterministic
claims: (19) as the geometric case (SymPy and numbers), the classical stability bound of a pure delay.
Cost (quick): about 35 s on one core.
"""
from __future__ import annotations
from reports.registry import Experiment
from sim.laws import MEASURED_TRACE
from reports.experiments.staleness_laws.claims import CLAIMS
from reports.experiments.staleness_laws.config import Config, PROFILES
from reports.experiments.staleness_laws.figures import figures
from reports.experiments.staleness_laws.run import run

EXPERIMENT = Experiment(
    name="staleness_laws", method="monte_carlo", part="beyond", seeded=True, version=6, config=Config, profiles=PROFILES,
    smoke=Config(laws=("exponential", "constant", "gamma-2"), workers=(2, 4), n_replicas=40, n_steps=30,
                 pmf_updates=300, pmf_replicas=4, max_delay=3, mu_explicit_grid=(-0.3, 0.0, 0.3, 0.6),
                 lr_per_worker_grid=(0.1, 0.3), fit_steps=40, stationary_rounds=2),
    run=run, figures=figures, claims=CLAIMS, power_seeds=10, slow=True,
    inputs=lambda c: [MEASURED_TRACE] if "trace" in c.laws else [])

