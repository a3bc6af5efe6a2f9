"""Figs. 4 and 8 across batch sizes (16, 64, 128), with the regime each rung trains in: committed CPU evidence.

Why: the committed batch-16 evidence fails Figs. 4 and 8's effect sizes; theory (recurrence (19)) and the batch-size
literature say that at small batch momentum acts only as a larger step. The ladder measures where the paper's effect
appears. config.py the design (pre-registered), claims.py the checks, figures.py the figure, run.py what
the harness runs (the chunks' numerics: cnn_experiments.ladder_chunks).
Cost (2-core CPU, one torch thread per process, kernels pinned to AVX2): see each chunk's provenance.
"""
from cnn_experiments import ladder_chunks as chunked
from reports.experiments.cnn_batch_ladder import claims, config, figures, run
from reports.experiments.cnn_common import committed_cnn
from reports.registry import Chunked, Experiment

CHUNKED = Chunked(plan=chunked.plan, first=chunked.first, compute=run.compute, assemble=run.assemble,
                  numbers=chunked.numbers,
                  seed_fields=config.SEED_FIELDS, version=1)

EXPERIMENT = Experiment(
    name="cnn_batch_ladder", method="cnn", part="cnn", seeded=True, version=1, config=config.Config, profiles=config.PROFILES,
    smoke=config.SMOKE, run=run.run, figures=figures.figures, claims=claims.CLAIMS, chunked=CHUNKED, **committed_cnn())
