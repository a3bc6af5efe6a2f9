"""Real asynchrony on Dask: a parameter server with M worker processes on this machine (LocalCluster).

Logistic regression keeps the computation small, so the measured staleness reflects the system: injected
exponential work times (Assumption 4 realised physically: each task returns when its drawn time has passed since its
slot's previous task ended, on the server's clock) or natural ones. Timings are real, so results are not
bit-reproducible: the quick profile is computed once and committed phase by phase (reports/evidence/), and
`make verify-evidence` confirms a recomputed phase by its law. Cost (quick): about 3 min.
"""
from cnn_experiments import real_async_phases as phases
from reports.experiments.real_async import claims, config, figures, run
from reports.registry import Chunked, Experiment

CHUNKED = Chunked(plan=run.plan, first=run.first, compute=run.compute, assemble=run.assemble, numbers=phases.numbers,
                  agree=phases.agree, version=1)

EXPERIMENT = Experiment(
    name="real_async", method="real_async", part="real-asynchrony", seeded=True, version=7, config=config.Config, profiles=config.PROFILES,
    smoke=config.SMOKE, run=run.run, figures=figures.figures, claims=claims.CLAIMS, deterministic=False, slow=True,
    resumable=True, committed=("quick",), chunked=CHUNKED)
