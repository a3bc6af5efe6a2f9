"""The closed loop on the CNN (beyond the paper): momentum set from the staleness the queue logs, scored on single
runs against the per-M oracle of a quick (mu_L, step) grid on the same seeds; computed once and committed chunk by
chunk (reports/evidence/). config.py the design, claims.py the check, figures.py the figure,
run.py what the harness runs (the chunks' numerics: cnn_experiments.closed_loop_chunks)."""
from cnn_experiments import closed_loop_chunks as chunked
from reports.experiments.cnn_closed_loop import claims, config, figures, run
from reports.experiments.cnn_common import committed_cnn
from reports.registry import Chunked, Experiment

CHUNKED = Chunked(plan=chunked.plan, first=chunked.first, compute=run.compute, assemble=run.assemble,
                  numbers=chunked.numbers,
                  version=1)   # no seed fields: the targets are read on every seed

EXPERIMENT = Experiment(
    name="cnn_closed_loop", method="cnn", part="cnn", seeded=True, version=1, config=config.Config, profiles=config.PROFILES,
    smoke=config.SMOKE, run=run.run, figures=figures.figures, claims=claims.CLAIMS, chunked=CHUNKED, **committed_cnn())
