"""The harness around the experiments: the results store, strict config overrides, provenance. No numerics."""
