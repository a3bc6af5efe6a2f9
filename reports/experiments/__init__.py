"""One file or one small package per experiment, each declaring EXPERIMENT = registry.Experiment(...) with its
claims."""
