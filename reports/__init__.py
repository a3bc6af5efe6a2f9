"""The report: claims registry, the experiment files, the runner and the builder (reads stored results only)."""
