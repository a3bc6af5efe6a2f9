"""Beyond the paper: the step rules and controllers of the queue study replayed on the real Dask parameter server.

config.py holds the design, run.py the chunks (the queue's tuning, then one chunk per (M, strategy) of single
server runs) and the pure assembly, claims.py the check, its control and the figure. The evidence is committed
(reports/evidence/real_async/real_step_rules/): the runs are timed, so `make verify-evidence` recomputes a chunk
and compares the law of its runs (bit for bit only for the deterministic queue chunk).

Cost (2-core CPU, one server, M worker processes): see the provenance of each committed chunk.
"""
from reports.experiments.real_step_rules import claims, config, run
from reports.registry import Chunked, Experiment

CHUNKED = Chunked(plan=run.plan, first=run.first, compute=run.compute, assemble=run.assemble, numbers=run.numbers,
                  agree=run.agree, version=1)

EXPERIMENT = Experiment(
    name="real_step_rules", method="real_async", part="real-asynchrony", seeded=True, version=1, config=config.Config, profiles=config.PROFILES,
    smoke=config.SMOKE, run=run.run, figures=claims.figures, claims=claims.CLAIMS, deterministic=False, slow=True,
    resumable=True, committed=("quick",), chunked=CHUNKED)
