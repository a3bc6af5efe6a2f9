"""Theorem 7 on quadratics: Fig. 6 (optimal mu_L vs mu_S), Fig. 7 (three tuning strategies, against the values the
paper plots), the mu_L = 0 equality gamma = sqrt(mu_S), and the closed-form rate checked against iterating the
store's expected update on a rotated quadratic. Controls: the first-order rule mu* - mu_S, tuning restricted to
mu_L >= 0, momenta that add exactly, Polyak's formula without its square. Cost: about 40 s on one CPU core.
The limit of asynchrony and the first-order prescription live in quadratic_limit.py.
"""
from __future__ import annotations
from reports.registry import Experiment

from reports.experiments.quadratic_rates.claims import CLAIMS
from reports.experiments.quadratic_rates.config import Config
from reports.experiments.quadratic_rates.figures import figures
from reports.experiments.quadratic_rates.run import run

EXPERIMENT = Experiment(
    name="quadratic_rates", method="quadratic", part="quadratic", version=4, config=Config, profiles={"quick": Config(), "full": Config()},
    smoke=Config(fig6_mu_implicit=(0.0, 0.5), fig7_points=4, n_eigenvalues=5,
                 rate_check_cases=2, rate_check_steps=300),
    run=run, figures=figures, claims=CLAIMS, uses_model=False, slow=True)
