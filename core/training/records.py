"""RunRecord: what the app keeps about each run of a session, to compare runs later.

Pure data (no Keras, no processes): the spec and settings the run used, its per-epoch
history, how it ended, its test metrics once evaluated, and where its model file is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.training.outcome import RunResult
from core.training.settings import TrainingSettings


@dataclass
class RunRecord:
    id: str  # the run directory's name
    number: int  # 1, 2, 3 ... within the session ("Run 2")
    spec: dict[str, Any]  # ProjectSpec.to_dict() at the time of the run
    status: str = "running"  # an end status once finished (see core.training.events)
    message: str = ""
    history: list[dict[str, float | None]] = field(default_factory=list)
    best_epoch: int | None = None
    elapsed: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)  # test metrics, filled after evaluation
    model_path: str | None = None  # best.keras of the run
    model_params: int | None = None  # parameters of the model the worker built (its start event)

    @property
    def label(self) -> str:
        return f"Run {self.number}"

    @property
    def settings(self) -> TrainingSettings:
        return TrainingSettings.from_training(self.spec.get("training"))

    @property
    def finished(self) -> bool:
        return self.status != "running"

    def update_from(self, result: RunResult) -> None:
        """Copy a finished run's outcome into the record."""
        self.status = result.status
        self.message = result.message
        self.history = list(result.history)
        self.best_epoch = result.best_epoch
        self.elapsed = result.elapsed
        self.model_path = str(result.best_model_path) if result.best_model_path else None

    def best_logs(self) -> dict:
        """The metrics of the epoch whose weights were kept (the last epoch if unknown)."""
        if not self.history:
            return {}
        if self.best_epoch is not None and 1 <= int(self.best_epoch) <= len(self.history):
            return self.history[int(self.best_epoch) - 1]
        return self.history[-1]

    def summary(self) -> dict[str, Any]:
        """One row of the runs comparison table: settings, outcome, final metrics."""
        settings = self.settings
        return {
            "run": self.label,
            "layers": len(self.spec.get("layers", [])),
            "parameters": self.model_params,
            "optimizer": (self.spec.get("optimizer") or {}).get("type"),
            "learning_rate": (self.spec.get("optimizer") or {}).get("learning_rate"),
            "epochs": settings.epochs,
            "batch_size": settings.batch_size,
            "seed": settings.seed,
            "balance_classes": settings.balance_classes,
            "status": self.status,
            "epochs_run": len(self.history),
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_logs().get("val_loss"),
            "seconds": round(self.elapsed, 1),
            **{f"test_{k}": v for k, v in self.metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
        }

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
