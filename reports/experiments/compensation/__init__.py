"""Beyond the paper: closed-loop momentum compensation on the quadratic model.

One asynchronous run per M (exponential queue, 2,000 updates) logs its staleness; the system-side estimator
(sim.compensation) reads the implicit momentum off it every 100 updates; a controller sets (mu_L, alpha) from the
estimate and the curvature range Q, with no per-M grid. Every strategy is scored by the updates its expected
iterate needs to shrink the error by 1e-3 at the model's true mu_S = 1 - 1/M (Theorem 7's exact rates): the
closed loop, the per-M oracle (Theorem 7 at the true mu_S), the first-order rule mu_L = mu* - mu_S, mu_L fixed at
0.9 (step tuned), and the synchronous tuning reused at every M (no compensation). The Omnivore rule (halve the
workers while the best momentum is 0) is compared in wall-clock time with the exhaustive optimum over M under a
synthetic hardware efficiency: time per update 1 / min(M, M_sat). Also: the estimators compared on one run per
(law, M) where the truth is known, and the closed loop on logistic regression under the queue against a per-M grid
oracle. Cost (quick): about 45 s on one core.
"""
from __future__ import annotations
from reports.registry import Experiment
from reports.experiments.compensation.claims import CLAIMS
from reports.experiments.compensation.config import Config, PROFILES
from reports.experiments.compensation.figures import figures
from reports.experiments.compensation.run import run

EXPERIMENT = Experiment(
    name="compensation", method="monte_carlo", part="beyond", seeded=True, version=4, config=Config, profiles=PROFILES,
    smoke=Config(workers=(2, 4), n_updates=200, every=50, max_workers=4, condition_number=10.0,
                 estimator_laws=("exponential", "constant"), estimator_workers=(1, 4), estimator_replicas=8,
                 logreg_workers=(4,), logreg_updates=200, logreg_replicas=2, logreg_mu_grid=(0.0, 0.9),
                 logreg_lr_grid=(0.5, 2.0)),
    run=run, figures=figures, claims=CLAIMS, power_seeds=10, slow=True)

