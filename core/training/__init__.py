"""Training: runs in worker processes with progress events, stop, best-weight keeping.

Importing this package does not import Keras/TensorFlow (the server side never does);
`train_in_process` imports them when called.
"""
from core.training.events import DIVERGED, EARLY_STOPPED, END_STATUSES, FAILED, FINISHED, STOPPED, TIMEOUT
from core.training.outcome import RunResult
from core.training.records import RunRecord
from core.training.service import RunHandle, TrainingService
from core.training.settings import TrainingSettings
from core.training.trainer import train_in_process

__all__ = [
    "DIVERGED",
    "EARLY_STOPPED",
    "END_STATUSES",
    "FAILED",
    "FINISHED",
    "RunHandle",
    "RunRecord",
    "RunResult",
    "STOPPED",
    "TIMEOUT",
    "TrainingService",
    "TrainingSettings",
    "train_in_process",
]
