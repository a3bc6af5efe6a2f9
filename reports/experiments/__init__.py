"""One small file per experiment, each declaring EXPERIMENT = registry.Experiment(...) with its claims."""
