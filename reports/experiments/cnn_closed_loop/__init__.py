"""The closed loop on the CNN (beyond the paper): momentum set from the staleness the queue logs, scored on single
runs against the per-M oracle of a quick (mu_L, step) grid on the same seeds; computed once and committed chunk by
chunk (reports/evidence/). config.py the design, run.py the chunks, claims.py the check, figures.py the figure."""
from reports.experiments.cnn_closed_loop import claims, config, figures, run
from reports.experiments.cnn_common import committed_cnn
from reports.registry import Chunked, Experiment

CHUNKED = Chunked(plan=run.plan, first=run.first, compute=run.compute, assemble=run.assemble, numbers=run.numbers,
                  version=1)   # no seed fields: the targets are read on every seed

EXPERIMENT = Experiment(
    name="cnn_closed_loop", method="cnn", part="cnn", seeded=True, version=1, config=config.Config, profiles=config.PROFILES,
    smoke=config.SMOKE, run=run.run, figures=figures.figures, claims=claims.CLAIMS, chunked=CHUNKED, **committed_cnn())
