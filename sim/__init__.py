"""The asynchrony model and its numerics (numpy only): the queue of M workers, asynchronous SGD, estimators.

Nothing of the report: the harness (store, config, provenance) lives in reports.harness. The only files it touches
are a user's: staleness logs and work-time traces (sim.queue, sim.laws), read through sim.files.
"""

# Folded into the stored key of every experiment that uses the model (Experiment.uses_model): bump when the queue
# or the simulators change what they draw or compute, so results cached by older code are recomputed.
MODEL_VERSION = 3
