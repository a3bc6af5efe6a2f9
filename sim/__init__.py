"""The asynchrony model (queue of M workers), asynchronous SGD, estimators and the results store."""

# Folded into every stored result's key: bump when the queue or the simulators change what they draw or compute,
# so that results cached by older code are recomputed rather than reused (keys hold no git SHA by design).
MODEL_VERSION = 2
