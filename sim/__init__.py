"""The asynchrony model and its numerics (numpy only): the queue of M workers, asynchronous SGD, estimators.

No file I/O and nothing of the report: the harness (store, config, provenance) lives in reports.harness.
"""

# Folded into the stored key of every experiment that uses the model (Experiment.uses_model): bump when the queue
# or the simulators change what they draw or compute, so results cached by older code are recomputed.
MODEL_VERSION = 3
