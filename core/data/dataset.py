"""The Dataset: loaded, validated data plus what the app understood about it.

Everything a page shows about the data, and everything the builder, trainer and exporter
need, comes from this one object.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


# What a table column is to the model (Feature.kind); "text" is the text a text model reads.
NUMERIC, CATEGORICAL, TEXT, IGNORED = "numeric", "categorical", "text", "ignored"
# The tasks: a class, a number, or the next values of a time series (several steps ahead).
CLASSIFICATION, REGRESSION, FORECAST = "classification", "regression", "forecast"


@dataclass
class Feature:
    """One table column (other than the target) and what the app made of it."""

    name: str
    kind: str  # "numeric" | "categorical" | "text" | "ignored"
    reason: str  # why this kind, in plain words
    missing: int = 0  # empty / NaN cells
    infinite: int = 0  # inf / 1e999 cells and numbers beyond float32 (1e39), handled like missing ones
    categories: list[str] = field(default_factory=list)  # categorical: values in the training split


@dataclass
class SkippedFile:
    file: str  # path inside the archive or folder
    reason: str


class Preprocessor(Protocol):
    """Turns raw table rows into the model's input vector (fitted on the training split)."""

    columns: list[str]
    input_names: list[str]

    def transform(self, frame: Any) -> np.ndarray: ...

    def to_json(self) -> dict: ...


@dataclass
class Dataset:
    name: str
    kind: str  # "table" | "images" | "text" | "series"
    task: str  # "classification" | "regression" | "forecast" (series: the next `horizon` values)
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    target: str | None = None
    classes: list[str] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    preprocessor: Preprocessor | None = None
    image_size: tuple[int, int] | None = None  # (height, width)
    channels: int | None = None
    frame: Any = None  # the raw pandas table as read (preview, re-targeting)
    files_test: list[str] = field(default_factory=list)
    dropped_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    text: Any = None  # core.data.tokens.TextData: the text kind's tokenizer and test texts
    series: Any = None  # core.data.series.SeriesData: the series kind's values, dates and framing

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_outputs(self) -> int:
        if self.task == "classification":
            return len(self.classes)
        return int(np.prod(self.y_train.shape[1:])) if self.y_train.ndim > 1 else 1  # a forecast: its horizon

    @property
    def n_rows(self) -> int:
        return int(len(self.x_train) + len(self.x_val) + len(self.x_test))

    @property
    def split_sizes(self) -> dict[str, int]:
        return {"train": len(self.x_train), "validation": len(self.x_val), "test": len(self.x_test)}

    def describe(self) -> dict:
        """What was understood, as plain JSON (the `python -m core inspect` contract)."""
        from core.data.kinds import kind_of

        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "task": self.task, "target": self.target}
        if self.task == "classification":
            out["classes"] = list(self.classes)
        out.update(kind_of(self).describe(self))
        out["split"] = self.split_sizes
        out["skipped"] = [{"file": s.file, "reason": s.reason} for s in self.skipped]
        out["warnings"] = list(self.warnings)
        return out
