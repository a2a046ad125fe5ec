"""Class balance: how skewed a classification dataset's training split is, and the class weights
that make every class count the same in training ("balance the classes").

numpy only: the Data page, the designer's defaults and the trainer all ask. The weights follow the
usual "balanced" rule (scikit-learn's `compute_class_weight("balanced")`): a class with `count`
training examples weighs n_samples / (n_classes × count), so each class contributes the same total
weight and a constant predictor gains nothing by favouring the big class. train_model.py computes
the same numbers (core/script_templates/common.py `class_weights`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from core.data.dataset import CLASSIFICATION

# The largest training class with at least this many times the examples of the smallest is
# "imbalanced": the Data page says so and the training setting starts switched on.
IMBALANCE_RATIO = 3.0


def class_counts(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Examples per class index 0..n_classes-1."""
    return np.bincount(np.asarray(y, dtype=np.int64).reshape(-1), minlength=n_classes)[:n_classes]


def balanced_class_weights(y_train: np.ndarray, n_classes: int) -> dict[int, float]:
    """{class index: weight} for model.fit's `class_weight`, from the training labels only.

    A class with count examples weighs n / (k × count), k the number of classes present; a class
    with no training example (never the case after LayerLab's stratified split) weighs 1."""
    counts = class_counts(y_train, n_classes)
    present = int(np.count_nonzero(counts))
    total = int(counts.sum())
    return {k: (total / (present * int(c)) if c else 1.0) for k, c in enumerate(counts)}


def sample_weights(y: np.ndarray, class_weight: dict[int, float]) -> np.ndarray:
    """Each example's weight (float32) from its class's: what Keras makes of `class_weight` in fit."""
    table = np.array([class_weight.get(k, 1.0) for k in range(max(class_weight) + 1)], dtype=np.float32)
    return table[np.asarray(y, dtype=np.int64).reshape(-1)]


def imbalance_ratio(dataset: Any) -> float | None:
    """Largest ÷ smallest class count in the training split; None when not classification (or no data)."""
    if getattr(dataset, "task", None) != CLASSIFICATION or not getattr(dataset, "classes", None):
        return None
    counts = class_counts(dataset.y_train, len(dataset.classes))
    present = counts[counts > 0]
    if present.size < 2:
        return None
    return float(present.max() / present.min())


def is_imbalanced(dataset: Any) -> bool:
    """True when the largest training class has IMBALANCE_RATIO× (or more) the examples of the smallest."""
    ratio = imbalance_ratio(dataset)
    return ratio is not None and ratio >= IMBALANCE_RATIO


def fit_class_weight(dataset: Any, balance_classes: bool) -> dict[int, float] | None:
    """model.fit's `class_weight` for this dataset: the balanced weights when asked and the task is
    classification, else None (regression and forecasts ignore the setting)."""
    if not balance_classes or getattr(dataset, "task", None) != CLASSIFICATION or not dataset.classes:
        return None
    return balanced_class_weights(dataset.y_train, len(dataset.classes))
