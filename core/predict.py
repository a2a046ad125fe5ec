"""Predictions for new inputs: table rows (a DataFrame with the training columns) or image files.

Works from an `InputContract`, what the model expects and what its outputs mean, which comes
either from the training Dataset (in the app) or from labels.json + preprocessing.json (the
`predict` command), so both paths share one implementation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.data.dataset import Dataset, Preprocessor
from core.errors import UserError


@dataclass
class InputContract:
    kind: str  # "table" | "images"
    task: str  # "classification" | "regression"
    classes: list[str] = field(default_factory=list)
    target: str | None = None
    preprocessor: Preprocessor | None = None  # tables
    known_columns: list[str] = field(default_factory=list)  # tables: columns seen in training but not used
    image_size: tuple[int, int] | None = None  # (height, width)
    channels: int | None = None

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> "InputContract":
        unused = [f.name for f in dataset.features if f.kind not in ("numeric", "categorical")]
        return cls(
            kind=dataset.kind,
            task=dataset.task,
            classes=list(dataset.classes),
            target=dataset.target,
            preprocessor=dataset.preprocessor,
            known_columns=unused,
            image_size=tuple(dataset.image_size) if dataset.image_size else None,
            channels=dataset.channels,
        )


@dataclass
class Prediction:
    source: str  # "row 1" or the image's file name
    label: str | None = None  # classification: the most probable class
    probability: float | None = None  # ...and its probability
    probabilities: dict[str, float] = field(default_factory=dict)  # every class, in output order
    value: float | None = None  # regression: the predicted value in target units

    def text(self) -> str:
        if self.label is not None:
            return f"{self.source}: {self.label} ({self.probability:.1%})"
        return f"{self.source}: {self.value:.6g}"


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
            else:
                row = {"input": item.source, "prediction": item.value}
            rows.append(row)
        return pd.DataFrame(rows)


@dataclass
class ModelInputs:
    """Inputs ready for the model, checked before any model is loaded."""

    x: np.ndarray  # float32 table vectors or uint8 pixels
    sources: list[str]
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: "ModelInputs") -> None:
        self.x = np.concatenate([self.x, other.x])
        self.sources += other.sources
        self.warnings += [w for w in other.warnings if w not in self.warnings]


def predict_rows(model: Any, dataset: Dataset, frame: Any) -> Predictions:
    contract = InputContract.from_dataset(dataset)
    return predict_inputs(model, contract, table_inputs(contract, frame))


def predict_images(model: Any, dataset: Dataset, images: list[bytes], names: list[str] | None = None) -> Predictions:
    contract = InputContract.from_dataset(dataset)
    return predict_inputs(model, contract, image_inputs(contract, images, names))


def table_inputs(contract: InputContract, frame: Any) -> ModelInputs:
    """Raw rows -> model inputs; missing training columns are an error, extra ones a note."""
    if contract.kind != "table" or contract.preprocessor is None:
        raise UserError(
            "predict.needs_images",
            "This model was trained on images, so it needs image files, not table rows.",
        )
    if len(frame) == 0:
        raise UserError("predict.no_rows", "The table has no rows to predict. Add at least one row below the header.")
    expected = list(contract.preprocessor.columns)
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise UserError(
            "predict.missing_columns",
            "The table is missing the column(s) {columns} that the model was trained with. "
            "Add them with the same names (empty cells are allowed) and try again. "
            "The model needs these columns: {expected}.",
            columns=", ".join(f"'{c}'" for c in missing),
            expected=", ".join(f"'{c}'" for c in expected),
        )
    warnings = []
    allowed = set(expected) | set(contract.known_columns) | ({contract.target} if contract.target else set())
    extra = [str(c) for c in frame.columns if c not in allowed]
    if extra:
        warnings.append(
            "These column(s) were not part of the training data and were ignored: "
            + ", ".join(f"'{c}'" for c in extra)
            + ". Check the names if you expected them to be used."
        )
    sources = [f"row {k + 1}" for k in range(len(frame))]
    return ModelInputs(contract.preprocessor.transform(frame), sources, warnings)


def image_inputs(contract: InputContract, images: list[bytes], names: list[str] | None = None) -> ModelInputs:
    """Image files of any size and mode -> pixels at the training size and colour mode."""
    from core.data import decode_image

    if contract.kind != "images":
        raise UserError(
            "predict.needs_table",
            "This model was trained on a table, so it needs a CSV of rows with the training columns, not images.",
        )
    if not images:
        raise UserError("predict.no_images", "No images were given. Choose one or more image files.")
    names = names or [f"image {k + 1}" for k in range(len(images))]
    pixels = []
    for name, data in zip(names, images):
        try:
            pixels.append(decode_image(data, contract.image_size, contract.channels))
        except UserError as err:
            raise UserError(
                "predict.image_unreadable",
                "{file} cannot be used as an image: it is {reason}. Use a PNG, JPEG, BMP, GIF or WebP image.",
                file=name,
                reason=err.params.get("reason", err.render()),
            ) from None
    return ModelInputs(np.stack(pixels), list(names))


def predict_inputs(model: Any, contract: InputContract, inputs: ModelInputs) -> Predictions:
    outputs = np.asarray(model.predict(np.asarray(inputs.x, dtype=np.float32), verbose=0), dtype=np.float64)
    items = []
    for source, out in zip(inputs.sources, outputs):
        if contract.task == "classification":
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
