"""What a search reports: one TrialRow per trial, and the search's trials.json.

A trial's score is the validation score of the model it keeps (the epoch with the lowest
validation loss, core.training.monitor): accuracy for classification (higher is better), the
loss otherwise (lower is better). The test split never takes part in choosing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RUNNING, FINISHED, PRUNED, FAILED = "running", "finished", "pruned", "failed"
TRIAL_STATES = (RUNNING, FINISHED, PRUNED, FAILED)
# The search as a whole
SEARCH_STARTING, SEARCH_RUNNING, SEARCH_DONE, SEARCH_STOPPED, SEARCH_FAILED = (
    "starting", "running", "done", "stopped", "failed")
FORMAT = "layerlab-search/1"


@dataclass
class TrialRow:
    id: int
    settings: dict[str, Any]
    state: str = RUNNING
    epochs: int = 0
    score: float | None = None  # best validation score so far (of the epoch the trial keeps)
    curve: list[float | None] = field(default_factory=list)  # the validation score after each epoch
    message: str = ""  # why it failed or was stopped, in words
    seconds: float = 0.0
    best_epoch: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialRow:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def objective(task: str | None) -> tuple[str, str]:
    """(the validation metric that scores a trial, "maximize" or "minimize")."""
    return ("val_accuracy", "maximize") if task == "classification" else ("val_loss", "minimize")


def kept_score(curve: list[float | None], losses: list[float | None], metric: str) -> tuple[float | None, int | None]:
    """The score of the epoch a run keeps (lowest validation loss; core.training.monitor) and that epoch (1-based)."""
    best, best_epoch = None, None
    for epoch, loss in enumerate(losses, start=1):
        if loss is not None and (best is None or loss < best):
            best, best_epoch = loss, epoch
    if best_epoch is None:
        return None, None
    return (best if metric == "val_loss" else curve[best_epoch - 1]), best_epoch


def best_row(rows: list[TrialRow], direction: str) -> TrialRow | None:
    """The best trial with a score (finished first; a pruned trial's partial score never wins over a finished one)."""
    scored = [r for r in rows if r.score is not None and r.state == FINISHED]
    if not scored:
        return None
    sign = 1 if direction == "maximize" else -1
    return max(scored, key=lambda r: (sign * r.score, -r.id))
