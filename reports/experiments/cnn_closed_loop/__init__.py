"""The closed loop on the CNN (beyond the paper): momentum set from the staleness the queue logs, scored on single
runs against the per-M oracle of a quick (mu_L, step) grid on the same seeds. config.py the design, run.py the
chunks, claims.py the check, figures.py the figure."""
from cnn_experiments.data import check_available, input_files
from reports.experiments.cnn_closed_loop import claims, config, figures, run
from reports.registry import Experiment

EXPERIMENT = Experiment(
    name="cnn_closed_loop", kind="cnn", version=1, config=config.Config, profiles=config.PROFILES,
    smoke=config.SMOKE, run=run.run, figures=figures.figures, claims=claims.CLAIMS, needs_gpu=("full",), slow=True,
    resumable=True, preflight=lambda c: check_available(c.dataset, c.data_dir or None),
    inputs=lambda c: input_files(c.dataset, c.data_dir or None))
