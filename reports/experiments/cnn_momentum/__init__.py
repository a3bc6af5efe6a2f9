"""CNN training under simulated asynchrony: Figs. 3, 4, 5 and 8 decided on committed CPU evidence.

cifar10_quick on Fashion-MNIST, the queue of sim.queue (exponential work times), explicit momentum at the store.
config.py holds the design (and what differs from the paper), claims.py the claims, run.py and sizing.py what the
harness runs; the numerics are in cnn_experiments: momentum_chunks (the chunks), momentum_views (typed views and the
controls' wrong models), momentum_checks (the deciding statistics), momentum_power (seeds needed) and
momentum_figures.

Cost (2-core CPU, one torch thread per process, two processes): see the provenance of each committed chunk.
"""
from cnn_experiments import momentum_chunks, momentum_figures
from reports.experiments.cnn_momentum import claims, config, run, sizing
from reports.experiments.cnn_common import committed_cnn
from reports.registry import Chunked, Experiment

CHUNKED = Chunked(plan=momentum_chunks.plan, first=momentum_chunks.first, compute=run.compute, assemble=run.assemble,
                  numbers=momentum_chunks.numbers,
                  seed_fields=config.SEED_FIELDS, version=1)
PILOT = 4   # the first decision seeds: their spread sized the number of seeds (sizing.seeds_needed)


def _power(claim_id: str):
    def power(result, tol):
        claim = next(c for c in CLAIMS if c.id == claim_id)
        if claim.check(result, tol).passed is None:
            return {"seeds": 0, "note": "not run: the evidence does not cover this claim"}
        return sizing.record(claim, result, min(PILOT, result.arrays["times_decision"].shape[-1]))
    return power


CLAIMS = claims.claims(_power)

EXPERIMENT = Experiment(
    name="cnn_momentum", method="cnn", part="cnn", seeded=True, version=8, config=config.Config, profiles=config.PROFILES, smoke=config.SMOKE,
    run=run.run, figures=momentum_figures.figures, claims=CLAIMS, chunked=CHUNKED, **committed_cnn())
