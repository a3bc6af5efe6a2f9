"""What every committed CNN experiment declares alike: the CPU profile is committed evidence computed chunk by chunk
(resumable), the full profile needs a GPU, and the dataset is checked (and a user's CIFAR-10 files keyed) first."""
from cnn_experiments.data import DatasetError, check_available, input_files
from reports.registry import PreflightError


def _dataset_there(config) -> None:
    try:
        check_available(config.dataset, config.data_dir or None)
    except DatasetError as exc:
        raise PreflightError(str(exc)) from exc


def committed_cnn() -> dict:
    """The Experiment fields shared by the CNN experiments (spread into Experiment(...))."""
    return {"needs_gpu": ("full",), "slow": True, "resumable": True, "committed": ("quick",),
            "preflight": _dataset_there,
            "inputs": lambda c: input_files(c.dataset, c.data_dir or None)}
