"""Kinds of data as plug-ins: one module per kind answers every question the rest of core asks.

`Dataset.kind` names the kind ("table", "images", "text", "series"); `kind_of(dataset)` returns the module's
`DataKind` object, and core calls it instead of testing which kind it has:
- describing the data (`describe`, the `python -m core inspect` part) and the shape report's
  input and preprocessing rows;
- the in-model input block (`input_block`: Normalization / one-hot, Rescaling) — the same
  block core.build adds and core.codegen writes into train_model.py (`script_pieces`);
- the prediction contract (`contract`, `contract_from_files`): what one raw input looks like,
  how it is validated and decoded, for `core predict`, the Evaluate "try it" box and a service;
- the run job (`job_fields`, `from_job_fields`): everything the model depends on, written by
  the server and read back by the training worker;
- export notes (`preprocessing_info`, `int8_integer_only`) and what a "worst mistake" shows.

Adding a kind is one module here (registered in `KINDS` at the end of this file) plus its view in components/kind_views.
Nothing in this package imports Keras or Streamlit at module level.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import UserError

DATASET_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")

@dataclass
class ModelInputs:
    """Raw inputs decoded and checked for the model, before any model is loaded."""

    x: np.ndarray  # what the model's input takes (float32 table vectors, uint8 pixels)
    sources: list[str]  # "row 1", a file name: one per input
    warnings: list[str] = field(default_factory=list)
    ahead: list[list[str]] = field(default_factory=list)  # forecasts: each input's future timestamps

    def extend(self, other: "ModelInputs") -> None:
        self.x = np.concatenate([self.x, other.x])
        self.sources += other.sources
        self.warnings += [w for w in other.warnings if w not in self.warnings]
        self.ahead += other.ahead


@dataclass
class InputContract(ABC):
    """What a trained model expects and what its outputs mean: the part every kind shares.

    Each kind subclasses it with what one raw input of that kind needs, and decodes raw inputs
    (`inputs_from_files`; the kind's own methods for in-memory inputs) into ModelInputs.
    """

    task: str  # "classification" | "regression" | "forecast"
    classes: list[str] = field(default_factory=list)

    kind = ""  # the kind's name, set by each subclass

    @property
    def n_outputs(self) -> int:
        """How many numbers the model answers with per input."""
        return len(self.classes) if self.task == "classification" else 1

    @abstractmethod
    def inputs_from_files(self, paths: list[Path]) -> ModelInputs:
        """Inputs read from files given on the command line (a CSV of rows, image files, ...)."""

    def serving_info(self) -> dict:
        """What a model service needs to know (core/serving; serving.zip's serving.json): the request
        format (core.serving.standalone's TABLE_ROWS, IMAGE_FILES, TEXTS, RECENT_ROWS), the SavedModel
        signature's input name and what this kind's raw inputs look like."""
        return {"task": self.task, "classes": list(self.classes)}

    def network(self, model: Any) -> Any:
        """The part of a loaded model that takes `ModelInputs.x` (text: the token-id network inside
        a downloaded model that takes strings); the model itself for most kinds."""
        return model


@dataclass(frozen=True)
class PreprocessingStep:
    """The shape report's "Preprocessing" row: what the model does to raw inputs first."""

    type: str  # "Normalization", "Rescaling", ...
    settings: str  # plain words (a core fragment, translated by the app)
    output_shape: tuple[int, ...]
    params: int = 0  # non-trainable statistics kept in the model


class DataKind(ABC):
    """The questions core asks about a kind of data. Each kind module subclasses it once."""

    name = ""
    fallback_template = ""  # the template used when none fits (it must build on any data of the kind)
    reshaped_layer_kinds: tuple[str, ...] = ()  # catalog layer kinds offered after a Reshape (tables: "sequence")
    int8_integer_only = False  # an int8 TFLite file can quantize the inputs too (pixels: one exact scale)
    takes_backbone = False  # a pretrained backbone (core.backbones) can read this data: images
    layer_kinds: tuple[str, ...] = ()  # catalog layer kinds that suit this data; () = its own name

    @property
    def suited_layer_kinds(self) -> tuple[str, ...]:
        return self.layer_kinds or (self.name,)

    # ---- describing the data
    @abstractmethod
    def describe(self, dataset: Any) -> dict:
        """This kind's part of the `python -m core inspect` JSON."""

    @abstractmethod
    def input_text(self, dataset: Any) -> str:
        """The shape report's Input row, in plain words."""

    @abstractmethod
    def preprocessing_step(self, dataset: Any, reads_codes: bool) -> PreprocessingStep:
        ...

    @abstractmethod
    def integer_code_problem(self, dataset: Any, input_dim: int) -> Any:
        """Why a first layer that reads whole-number codes (Embedding) cannot read this data, or None."""

    def code_count(self, dataset: Any) -> int:
        """How many whole-number codes an Embedding first layer must know ("automatic" input_dim)."""
        return 0

    def preferred_template(self, dataset: Any) -> str | None:
        """A template id to put first among those that fit, when this data calls for one."""
        return None

    # ---- the model
    @abstractmethod
    def input_block(self, keras: Any, inputs: Any, dataset: Any, reads_codes: bool) -> Any:
        """The in-model preprocessing between the Input and the user's first layer."""

    def output_head(self, keras: Any, inputs: Any, x: Any, dataset: Any) -> Any:
        """The layers after the user's last one: softmax classes, or one value in the target's units."""
        from core.build import task_head

        return task_head(keras, dataset, x)

    def output_text(self, dataset: Any) -> str:
        """The shape report's Output row, in plain words."""
        if dataset.task == "classification":
            return f"{len(dataset.classes)} classes, softmax"
        return "1 value, linear, scaled to the target's units"

    def serving_model(self, keras: Any, model: Any, dataset: Any) -> Any:
        """The model a user downloads, from the trained one: the same unless the kind's raw inputs
        need a layer the training arrays skip (text: TextVectorization in front of token ids)."""
        return model

    @abstractmethod
    def script(self, dataset: Any) -> Any:
        """Its pieces of train_model.py (a core.codegen.KindScript), cut from core/script_templates/<kind>.py."""

    # ---- run jobs: everything the model depends on besides the six arrays
    @abstractmethod
    def job_fields(self, dataset: Any) -> dict:
        ...

    @abstractmethod
    def from_job_fields(self, fields: dict) -> dict:
        """Dataset keyword arguments from `job_fields`' JSON."""

    def job_arrays(self, dataset: Any) -> dict[str, np.ndarray]:
        """The arrays a run job stores as .npy files (the series kind: the series, not its windows)."""
        return {name: getattr(dataset, name) for name in DATASET_ARRAYS}

    def from_job(self, fields: dict, arrays: dict[str, np.ndarray]) -> dict:
        """Dataset keyword arguments from `job_fields`' JSON and the `job_arrays` read back."""
        return {**self.from_job_fields(fields), **arrays}

    def fit_data(self, dataset: Any, batch_size: int, seed: int | None, balance_classes: bool = False) -> dict:
        """model.fit's data arguments (x, y, validation_data; the series kind streams its windows).

        `balance_classes`: a classification dataset also gets `class_weight`, the balanced weights of
        its training split (core.data.balance), and its validation examples the same weights, so the
        validation loss that picks the kept epoch measures what training aims at; other tasks ignore it."""
        from core.data.balance import fit_class_weight, sample_weights

        class_weight = fit_class_weight(dataset, balance_classes)
        validation = (dataset.x_val, dataset.y_val) if len(dataset.x_val) > 0 else None
        if validation is not None and class_weight is not None:
            validation = (*validation, sample_weights(dataset.y_val, class_weight))
        return {"x": dataset.x_train, "y": dataset.y_train, "batch_size": batch_size, "shuffle": True,
                "validation_data": validation, "class_weight": class_weight}

    # ---- predictions
    @abstractmethod
    def contract(self, dataset: Any) -> InputContract:
        ...

    @abstractmethod
    def contract_from_files(self, labels: dict, info: dict) -> InputContract:
        """The contract from a model folder's labels.json and preprocessing.json (validated)."""

    def serving_examples(self, dataset: Any) -> dict:
        """Example inputs from the data for a service's usage page and README (serving.json); the
        contract's own (`InputContract.serving_info`) when empty."""
        return {}

    # ---- export and evaluation
    @abstractmethod
    def preprocessing_info(self, dataset: Any) -> dict:
        """This kind's part of preprocessing.json: what to do to raw inputs before calling the model."""

    def mistake_source(self, dataset: Any, index: int) -> str:
        """How a test item is named in the worst-mistakes list."""
        return f"test row {index + 1}"

    def mistake_inputs(self, dataset: Any, index: int) -> dict[str, float | str]:
        """The test item's values as the user knows them (empty when the source says it all)."""
        return {}


def kind_named(name: str) -> DataKind:
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise UserError(
            "data.unknown_kind",
            "LayerLab does not know the kind of data '{kind}'. Known kinds: {known}. "
            "The file was probably made by another program or edited by hand: export or train again.",
            kind=str(name)[:40],
            known=", ".join(sorted(KINDS)),
        ) from None


def kind_of(dataset: Any) -> DataKind:
    """The kind module of a Dataset (or of anything with a `kind` name)."""
    return kind_named(dataset.kind)


def contract_for(dataset: Any) -> InputContract:
    return kind_of(dataset).contract(dataset)


# The registry: every kind module, by the name Dataset.kind holds. Imported last, as the kind
# modules build on the types above.
from core.data.kinds.images import ImagesKind  # noqa: E402
from core.data.kinds.series import SeriesKind  # noqa: E402
from core.data.kinds.table import TableKind  # noqa: E402
from core.data.kinds.text import TextKind  # noqa: E402

KINDS: dict[str, DataKind] = {kind.name: kind for kind in (TableKind(), ImagesKind(), TextKind(), SeriesKind())}
