"""How good is the trained model? Metrics on the held-out test split, computed with numpy.

Classification: loss (cross-entropy), accuracy, per-class precision/recall/F1, the confusion
matrix and the test items the model got most confidently wrong. Regression: loss (mean
squared error), MAE, RMSE, R², the residuals and the largest errors. Forecasts: MAE, RMSE and
MAPE overall and per step ahead, next to the naive baselines (core.forecast).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.dataset import FORECAST, Dataset
from core.data.kinds import kind_of

WORST_MISTAKES = 10
# evaluation.json's layout; a run folder written with another number is evaluated again
EVALUATION_FORMAT = 1
_EPSILON = 1e-7  # keeps log(0) finite, the same clipping Keras uses for cross-entropy


@dataclass
class ClassMetrics:
    name: str
    precision: float
    recall: float
    f1: float
    support: int  # test items whose true class is this one


@dataclass
class Mistake:
    """One test item shown for inspection."""

    index: int  # position in the test split
    source: str  # image file, or "test row N"
    true: str | float
    predicted: str | float
    confidence: float | None = None  # classification: probability given to the wrong answer
    error: float | None = None  # regression: |true - predicted|
    inputs: dict[str, float | str] = field(default_factory=dict)  # tables: the row's values (categories by name)


@dataclass
class Evaluation:
    task: str
    n_test: int
    loss: float
    classes: list[str] = field(default_factory=list)
    accuracy: float | None = None
    per_class: list[ClassMetrics] = field(default_factory=list)
    confusion: np.ndarray | None = None  # rows: true class, columns: predicted class
    probabilities: np.ndarray | None = None  # (n_test, n_classes)
    predicted: np.ndarray | None = None  # class index, or value in target units
    y_true: np.ndarray | None = None
    mae: float | None = None
    rmse: float | None = None
    r2: float | None = None
    residuals: np.ndarray | None = None  # true - predicted
    worst: list[Mistake] = field(default_factory=list)
    forecast: dict[str, Any] | None = None  # forecasts: core.forecast.forecast_scores (per step, baselines, verdict)

    def metrics(self) -> dict[str, Any]:
        """The headline numbers, as written to metrics.json."""
        if self.task == "classification":
            return {
                "task": self.task,
                "n_test": self.n_test,
                "loss": self.loss,
                "accuracy": self.accuracy,
                "classes": list(self.classes),
                "macro_f1": _mean([c.f1 for c in self.per_class]),
                # the worst-found class: what balancing the classes raises (the runs table compares it)
                "min_recall": min((c.recall for c in self.per_class if c.support), default=None),
            }
        if self.task == FORECAST:
            return {"task": self.task, "n_test": self.n_test, "loss": self.loss, **(self.forecast or {})}
        return {"task": self.task, "n_test": self.n_test, "loss": self.loss, "mae": self.mae, "rmse": self.rmse, "r2": self.r2}

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (numbers as plain floats/ints, arrays as lists)."""
        out = self.metrics()
        if self.task == "classification":
            out["per_class"] = [vars(c).copy() for c in self.per_class]
            out["confusion_matrix"] = self.confusion.tolist() if self.confusion is not None else []
        out["worst_mistakes"] = [vars(m).copy() for m in self.worst]
        return out

    def to_json(self) -> dict[str, Any]:
        """What the Evaluate page draws, for evaluation.json: to_dict plus the regression plots'
        points. The per-item class probabilities stay out (n_test × n_classes, drawn nowhere)."""
        out = {"format": EVALUATION_FORMAT, **self.to_dict()}
        if self.task == "regression":
            out["y_true"] = _floats(self.y_true)
            out["predicted"] = _floats(self.predicted)
        if self.task == FORECAST:  # the test period's one-step and last-step forecasts (the plot's lines)
            out["predicted_first_step"] = _floats(self.predicted[:, 0])
            out["predicted_last_step"] = _floats(self.predicted[:, -1])
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evaluation:
        common = dict(task=data["task"], n_test=int(data["n_test"]), loss=float(data["loss"]),
                      worst=[Mistake(**m) for m in data.get("worst_mistakes", [])])
        if data["task"] == "classification":
            return cls(**common, classes=list(data["classes"]), accuracy=data["accuracy"],
                       per_class=[ClassMetrics(**c) for c in data["per_class"]],
                       confusion=np.asarray(data["confusion_matrix"], dtype=np.int64).reshape(len(data["classes"]), -1))
        if data["task"] == FORECAST:
            keys = {"task", "n_test", "loss", "worst_mistakes", "format", "predicted_first_step", "predicted_last_step"}
            predicted = np.stack([np.asarray(data["predicted_first_step"], dtype=np.float64),
                                  np.asarray(data["predicted_last_step"], dtype=np.float64)], axis=1)
            scores = {k: v for k, v in data.items() if k not in keys}
            return cls(**common, mae=data["mae"], rmse=data["rmse"], predicted=predicted, forecast=scores)
        y_true = np.asarray(data["y_true"], dtype=np.float64)
        predicted = np.asarray(data["predicted"], dtype=np.float64)
        return cls(**common, mae=data["mae"], rmse=data["rmse"], r2=data["r2"],
                   y_true=y_true, predicted=predicted, residuals=y_true - predicted)


def evaluate(model: Any, dataset: Dataset, *, worst: int = WORST_MISTAKES) -> Evaluation:
    """Score `model` on `dataset`'s test split."""
    if len(dataset.x_test) == 0:
        from core.errors import UserError

        raise UserError(
            "evaluate.no_test_data",
            "There is no test data to evaluate on: the dataset is too small to keep a test split. Add more rows or images.",
        )
    outputs = np.asarray(model.predict(_model_inputs(dataset.x_test), verbose=0), dtype=np.float64)
    if dataset.task == "classification":
        return classification_evaluation(outputs, np.asarray(dataset.y_test, dtype=np.int64), dataset, worst)
    if dataset.task == FORECAST:
        return forecast_evaluation(outputs, np.asarray(dataset.y_test, dtype=np.float64), dataset)
    return regression_evaluation(outputs.reshape(-1), np.asarray(dataset.y_test, dtype=np.float64), dataset, worst)


def classification_evaluation(probabilities: np.ndarray, y_true: np.ndarray, dataset: Dataset, worst: int) -> Evaluation:
    n_classes = len(dataset.classes)
    predicted = probabilities.argmax(axis=1)
    confusion = confusion_matrix(y_true, predicted, n_classes)
    true_probability = np.clip(probabilities[np.arange(len(y_true)), y_true], _EPSILON, 1.0)
    wrong = np.flatnonzero(predicted != y_true)
    # most confidently wrong first: the probability the model gave to its (wrong) answer
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:worst]
    kind = kind_of(dataset)
    mistakes = [
        Mistake(
            index=int(i),
            source=kind.mistake_source(dataset, int(i)),
            true=dataset.classes[y_true[i]],
            predicted=dataset.classes[predicted[i]],
            confidence=float(probabilities[i, predicted[i]]),
            inputs=kind.mistake_inputs(dataset, int(i)),
        )
        for i in wrong
    ]
    return Evaluation(
        task="classification",
        n_test=int(len(y_true)),
        loss=float(-np.mean(np.log(true_probability))),
        classes=list(dataset.classes),
        accuracy=float(np.mean(predicted == y_true)),
        per_class=per_class_metrics(confusion, dataset.classes),
        confusion=confusion,
        probabilities=probabilities,
        predicted=predicted,
        y_true=y_true,
        worst=mistakes,
    )


def regression_evaluation(predicted: np.ndarray, y_true: np.ndarray, dataset: Dataset, worst: int) -> Evaluation:
    residuals = y_true - predicted
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    # R² is undefined when every test target is the same value; report 0 (no better than the mean)
    r2 = 1.0 - float(np.sum(residuals**2)) / total if total > 0 else 0.0
    order = np.argsort(-np.abs(residuals), kind="stable")[:worst]
    kind = kind_of(dataset)
    mistakes = [
        Mistake(
            index=int(i),
            source=kind.mistake_source(dataset, int(i)),
            true=float(y_true[i]),
            predicted=float(predicted[i]),
            error=float(abs(residuals[i])),
            inputs=kind.mistake_inputs(dataset, int(i)),
        )
        for i in order
    ]
    return Evaluation(
        task="regression",
        n_test=int(len(y_true)),
        loss=float(np.mean(residuals**2)),
        predicted=predicted,
        y_true=y_true,
        mae=float(np.mean(np.abs(residuals))),
        rmse=float(np.sqrt(np.mean(residuals**2))),
        r2=r2,
        residuals=residuals,
        worst=mistakes,
    )


def forecast_evaluation(predicted: np.ndarray, y_true: np.ndarray, dataset: Dataset) -> Evaluation:
    """Errors per step ahead on the test windows, next to the naive and seasonal naive forecasts."""
    from core.forecast import forecast_scores

    predicted = predicted.reshape(y_true.shape)
    scores = forecast_scores(predicted, y_true, dataset.series)
    return Evaluation(task=FORECAST, n_test=int(len(y_true)), loss=float(np.mean((y_true - predicted) ** 2)),
                      mae=scores["mae"], rmse=scores["rmse"], y_true=y_true, predicted=predicted, forecast=scores)


def confusion_matrix(y_true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, predicted), 1)
    return matrix


def per_class_metrics(confusion: np.ndarray, classes: list[str]) -> list[ClassMetrics]:
    """Precision/recall/F1 per class; a ratio with nothing to divide by counts as 0."""
    hits = np.diag(confusion).astype(np.float64)
    predicted_counts = confusion.sum(axis=0)
    true_counts = confusion.sum(axis=1)
    precision = np.divide(hits, predicted_counts, out=np.zeros_like(hits), where=predicted_counts > 0)
    recall = np.divide(hits, true_counts, out=np.zeros_like(hits), where=true_counts > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return [
        ClassMetrics(name=name, precision=float(precision[k]), recall=float(recall[k]), f1=float(f1[k]), support=int(true_counts[k]))
        for k, name in enumerate(classes)
    ]


def _model_inputs(x: np.ndarray) -> np.ndarray:
    # images arrive as uint8 pixels; the model's Rescaling expects the same values as float
    return np.asarray(x, dtype=np.float32)


def _floats(values: np.ndarray | None) -> list[float]:
    return [] if values is None else [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None
