"""Predictions for new inputs, whatever the kind of data.

Works from the data kind's `InputContract` (core.data.kinds): what the model expects and what
its outputs mean. It comes either from the training Dataset (in the app) or from labels.json +
preprocessing.json (the `predict` command), and decodes raw inputs (rows, image files) into
`ModelInputs` before any model is loaded, so both paths share one implementation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.dataset import FORECAST, Dataset
from core.data.kinds import InputContract, ModelInputs, contract_for


@dataclass
class Prediction:
    source: str  # "row 1" or the image's file name
    label: str | None = None  # classification: the most probable class
    probability: float | None = None  # ...and its probability
    probabilities: dict[str, float] = field(default_factory=dict)  # every class, in output order
    value: float | None = None  # regression: the predicted value in target units
    values: list[float] = field(default_factory=list)  # forecast: the next values, one per step ahead
    steps: list[str] = field(default_factory=list)  # forecast: each value's timestamp

    def text(self) -> str:
        if self.label is not None:
            return f"{self.source}: {self.label} ({self.probability:.1%})"
        if self.steps:
            return "\n".join(f"{step}: {value:.6g}" for step, value in zip(self.steps, self.values))
        return f"{self.source}: {self.value:.6g}"

    def to_json(self) -> dict:
        """The `predict --json` / service answer for one input."""
        if self.label is not None:
            return {"input": self.source, "label": self.label, "probabilities": dict(self.probabilities)}
        if self.steps:
            return {"input": self.source, "forecast": [{"time": s, "value": v} for s, v in zip(self.steps, self.values)]}
        return {"input": self.source, "value": self.value}


@dataclass
class Predictions:
    task: str
    classes: list[str]
    items: list[Prediction]
    warnings: list[str] = field(default_factory=list)

    def to_frame(self) -> Any:
        """One row per input: source, prediction (and probability, and one column per class)."""
        import pandas as pd

        rows = []
        for item in self.items:
            if self.task == "classification":
                row = {"input": item.source, "prediction": item.label, "probability": item.probability}
                row.update({f"probability {name}": p for name, p in item.probabilities.items()})
            elif item.steps:
                rows += [{"time": step, "forecast": value} for step, value in zip(item.steps, item.values)]
                continue
            else:
                row = {"input": item.source, "prediction": item.value}
            rows.append(row)
        return pd.DataFrame(rows)


def predict_rows(model: Any, dataset: Dataset, frame: Any) -> Predictions:
    """Predictions for raw table rows (a DataFrame with the training columns)."""
    contract = contract_for(dataset)
    return predict_inputs(model, contract, contract.inputs_from_frame(frame))


def predict_images(model: Any, dataset: Dataset, images: list[bytes], names: list[str] | None = None) -> Predictions:
    """Predictions for image files (bytes) of any size and mode."""
    contract = contract_for(dataset)
    return predict_inputs(model, contract, contract.inputs_from_images(images, names))


def predict_inputs(model: Any, contract: InputContract, inputs: ModelInputs) -> Predictions:
    outputs = contract.network(model).predict(np.asarray(inputs.x, dtype=np.float32), verbose=0)
    return predictions_from_outputs(contract, inputs, outputs)


def predictions_from_outputs(contract: InputContract, inputs: ModelInputs, outputs: Any) -> Predictions:
    """Labels and probabilities (or values) from the model's raw outputs for `inputs`; the app's
    server gets the outputs from a helper process (core.training.tasks), the CLI from its model."""
    outputs = np.asarray(outputs, dtype=np.float64)
    items = []
    for k, (source, out) in enumerate(zip(inputs.sources, outputs)):
        if contract.task == FORECAST:
            values = [float(v) for v in np.reshape(out, -1)]
            steps = inputs.ahead[k] if k < len(inputs.ahead) else [f"step +{j + 1}" for j in range(len(values))]
            items.append(Prediction(source=source, values=values, steps=list(steps)))
        elif contract.task == "classification":
            best = int(np.argmax(out))
            items.append(
                Prediction(
                    source=source,
                    label=contract.classes[best],
                    probability=float(out[best]),
                    probabilities={name: float(p) for name, p in zip(contract.classes, out)},
                )
            )
        else:
            items.append(Prediction(source=source, value=float(np.reshape(out, -1)[0])))
    return Predictions(task=contract.task, classes=list(contract.classes), items=items, warnings=list(inputs.warnings))
