"""torch: data, the CNN, training under simulated asynchrony (driven by sim.queue), real asynchrony on Dask."""
