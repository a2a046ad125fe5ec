"""The training settings of a run, read from `ProjectSpec.training`.

The spec validates the values the user typed; this only fills defaults and gives the
trainer typed fields, so the trainer never digs through a dict. The defaults are the
catalog's (core.catalog.TRAINING_PARAMS), the one place they are set.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from core.catalog import TRAINING_PARAMS

DEFAULT_EPOCHS = TRAINING_PARAMS["epochs"].default
DEFAULT_BATCH_SIZE = TRAINING_PARAMS["batch_size"].default


@dataclass(frozen=True)
class TrainingSettings:
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = DEFAULT_BATCH_SIZE
    early_stopping_patience: int | None = None  # None or 0: train every epoch
    seed: int | None = None  # same seed, same machine -> same history
    time_limit_s: float | None = None  # wall-clock budget; the run ends gracefully with "timeout"
    balance_classes: bool = False  # classification: class weights from the training split (core.data.balance)

    @classmethod
    def from_training(cls, training: Mapping[str, Any] | None) -> TrainingSettings:
        training = training or {}

        def optional(key: str, kind: type) -> Any:
            value = training.get(key)
            return None if value is None else kind(value)

        return cls(
            epochs=int(training.get("epochs") or DEFAULT_EPOCHS),
            batch_size=int(training.get("batch_size") or DEFAULT_BATCH_SIZE),
            early_stopping_patience=optional("early_stopping_patience", int) or None,
            seed=optional("seed", int),
            time_limit_s=optional("time_limit_s", float) or None,
            balance_classes=training.get("balance_classes") is True,  # absent (layerlab/1, /2 files): off
        )

    @classmethod
    def from_spec(cls, spec: Any) -> TrainingSettings:
        return cls.from_training(getattr(spec, "training", None))
