"""The table kind: CSV rows (and the tabular samples), one number per column in the arrays.

Numeric columns arrive as their values, categorical ones as the category's position in its
training list (-1: never seen); the model standardises the numbers and one-hot encodes the
positions itself (`table_inputs_block`), so an exported model takes one raw value per column.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.catalog import LayerProblem
from core.data.kinds import DataKind, InputContract, ModelInputs, PreprocessingStep
from core.errors import UserError

TABLE_FILE_SUFFIXES = (".csv", ".txt", ".tsv")
USED_KINDS = ("numeric", "categorical")  # column kinds that reach the model
UNSEEN_CATEGORY = "(not seen in training)"  # a category only the validation or test rows have


def unused_columns(dataset: Any) -> list[str]:
    """Columns of the file the model does not read (text, ignored): accepted and skipped when predicting."""
    return [f.name for f in dataset.features if f.kind not in USED_KINDS]


@dataclass
class TableContract(InputContract):
    """A table model wants rows with the training columns (extra and unused columns are fine)."""

    target: str | None = None
    preprocessor: Any = None  # core.data.tables.TablePreprocessor
    known_columns: list[str] = field(default_factory=list)  # seen in training but not used

    kind = "table"

    def inputs_from_frame(self, frame: Any) -> ModelInputs:
        """Raw rows -> model inputs; missing training columns are an error, extra ones a note."""
        if len(frame) == 0:
            raise UserError("predict.no_rows", "The table has no rows to predict. Add at least one row below the header.")
        expected = list(self.preprocessor.columns)
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
        allowed = set(expected) | set(self.known_columns) | ({self.target} if self.target else set())
        extra = [str(c) for c in frame.columns if c not in allowed]
        if extra:
            warnings.append(
                "These column(s) were not part of the training data and were ignored: "
                + ", ".join(f"'{c}'" for c in extra)
                + ". Check the names if you expected them to be used."
            )
        x, filled = self.preprocessor.transform_with_fills(frame)
        warnings += _fill_notes(filled, expected)
        sources = [f"row {k + 1}" for k in range(len(frame))]
        return ModelInputs(x, sources, warnings)

    def serving_info(self) -> dict:
        columns = self.preprocessor.to_json()["columns"]
        return {**super().serving_info(), "format": "table_rows", "signature_input": "rows", "target": self.target,
                "columns": columns, "ignored_columns": list(self.known_columns),
                "example": {c["name"]: _short(c["fill"]) for c in columns}}

    def inputs_from_images(self, images: list[bytes], names: list[str] | None = None) -> ModelInputs:
        raise UserError(
            "predict.needs_table",
            "This model was trained on a table, so it needs a CSV of rows with the training columns, not images.",
        )

    def inputs_from_files(self, paths: list[Path]) -> ModelInputs:
        from core.data.csv_reader import read_csv

        combined: ModelInputs | None = None
        for path in paths:
            if path.suffix.lower() not in TABLE_FILE_SUFFIXES:
                raise UserError(
                    "predict.needs_csv",
                    "{file} is not a CSV file. This model was trained on a table: give a CSV with the training columns.",
                    file=str(path),
                )
            inputs = self.inputs_from_frame(read_csv(path, path.name).frame)
            if len(paths) > 1:
                inputs.sources = [f"{path.name} {source}" for source in inputs.sources]
            if combined is None:
                combined = inputs
            else:
                combined.extend(inputs)
        if combined is None:
            raise UserError("predict.no_rows", "The table has no rows to predict. Add at least one row below the header.")
        return combined


MAX_ROWS_NAMED = 5


def _short(value: Any) -> Any:
    """A float32 fill (5.800000190734863) as the user would write it (5.8)."""
    return float(f"{value:.6g}") if isinstance(value, float) else value


def _fill_notes(filled: Any, columns: list[str]) -> list[str]:
    """Refuse rows with nothing usable; a note naming the cells that were filled in the others."""
    empty_rows = np.flatnonzero(filled.all(axis=1)) if filled.shape[1] else np.array([], dtype=int)
    if empty_rows.size:
        raise UserError(
            "predict.row_unusable",
            "{rows} has no value the model can use: every training column is empty, not a number where a "
            "number is needed, or too large. Fill in the values (the columns are {columns}) and try again.",
            rows=_rows_named(empty_rows),
            columns=", ".join(f"'{c}'" for c in columns),
        )
    notes = []
    for k in np.flatnonzero(filled.any(axis=1))[:MAX_ROWS_NAMED]:
        cells = ", ".join(f"'{columns[j]}'" for j in np.flatnonzero(filled[k]))
        notes.append(f"Row {k + 1}: {cells} empty, not a number or too large, so filled in with the training "
                     "value (median or most frequent). The prediction is less certain than it looks.")
    more = int(filled.any(axis=1).sum()) - len(notes)
    if more > 0:
        notes.append(f"{more} more row(s) had cells filled in the same way.")
    return notes


def _rows_named(rows: Any) -> str:
    named = ", ".join(str(int(k) + 1) for k in rows[:MAX_ROWS_NAMED])
    return f"Row {named}" if len(rows) == 1 else f"Rows {named}" + (" and more" if len(rows) > MAX_ROWS_NAMED else "")


class TableKind(DataKind):
    name = "table"
    fallback_template = "table_mlp_small"
    reshaped_layer_kinds = ("sequence",)  # Reshape [-1, 1] turns a row into a sequence

    def describe(self, dataset: Any) -> dict:
        return {
            "n_rows": dataset.n_rows,
            "dropped_rows": dataset.dropped_rows,
            "features": [
                {"name": f.name, "kind": f.kind, "missing": f.missing, "infinite": f.infinite, "reason": f.reason}
                for f in dataset.features
            ],
        }

    def input_text(self, dataset: Any) -> str:
        return f"{dataset.input_shape[0]} input values"

    def preprocessing_step(self, dataset: Any, reads_codes: bool) -> PreprocessingStep:
        shape = tuple(dataset.input_shape)
        if reads_codes:
            return PreprocessingStep("None", "Embedding reads the raw codes", shape)
        pre = dataset.preprocessor
        categorical = pre.categorical_positions if pre is not None else []
        # Normalization keeps a mean and a variance per numeric input plus a sample count, none trained.
        if not categorical:
            return PreprocessingStep(
                "Normalization", "mean 0, variance 1 (from the training split)", shape, params=2 * shape[-1] + 1
            )
        n_numeric = len(pre.numeric_positions)
        width = pre.encoded_width
        if not n_numeric:
            return PreprocessingStep("One-hot", f"categories one-hot encoded ({width} values)", (width,))
        return PreprocessingStep(
            "Normalization + one-hot",
            f"numbers: mean 0, variance 1; categories one-hot encoded ({width - n_numeric} values)",
            (width,),
            params=2 * n_numeric + 1,
        )

    def integer_code_problem(self, dataset: Any, input_dim: int) -> Any:
        largest = 0
        for values in (dataset.x_train, dataset.x_val, dataset.x_test):
            if not np.size(values):
                continue
            odd = values[(values != np.round(values)) | (values < 0) | ~np.isfinite(values)]
            if odd.size:
                return LayerProblem(
                    "build.embedding_needs_codes",
                    "Embedding needs every input value to be a whole-number code (0, 1, 2, ...), but this table has values "
                    "such as {value}. Remove Embedding (start with Dense), or use a table of codes.",
                    value=f"{float(odd[0]):g}",
                )
            largest = max(largest, int(values.max()))
        if largest >= input_dim:
            return LayerProblem(
                "build.embedding_input_dim",
                "input_dim is {input_dim} but the data has codes up to {largest}. Set input_dim to at least {needed}.",
                input_dim=input_dim, largest=largest, needed=largest + 1,
            )
        return None

    def code_count(self, dataset: Any) -> int:
        largest = max((float(np.nanmax(v)) for v in (dataset.x_train, dataset.x_val, dataset.x_test) if np.size(v)), default=0.0)
        return int(largest) + 1 if np.isfinite(largest) and largest >= 1 else 2

    def input_block(self, keras: Any, inputs: Any, dataset: Any, reads_codes: bool) -> Any:
        if reads_codes:  # Embedding reads the raw integer codes; normalising them would destroy them
            return inputs
        return table_inputs_block(keras, inputs, dataset.x_train, dataset.preprocessor)

    def script(self, dataset: Any) -> Any:
        from core import script_templates as pieces
        from core.codegen import KindScript
        from core.data.cell_text import MISSING_MARKERS

        preprocessor = dataset.preprocessor
        columns = preprocessor.to_json()["columns"] if preprocessor is not None else []
        categorical = preprocessor is not None and preprocessor.categorical_positions
        return KindScript(
            template="table",
            data_help="a CSV file",
            packages="numpy pandas",
            settings=pieces.statements("table", "TARGET", "COLUMNS", values={"TARGET": dataset.target, "COLUMNS": columns}),
            loading=pieces.statements("table", "GROUPED", "load_data", values={"MISSING_MARKERS": sorted(MISSING_MARKERS)}),
            # mirrors table_inputs_block, so the script's model takes the same raw rows
            input_block=pieces.block("table", "encoded_inputs" if categorical else "normalized_inputs"),
        )

    def job_fields(self, dataset: Any) -> dict:
        return {
            "target": dataset.target,
            "dropped_rows": dataset.dropped_rows,
            "features": [asdict(f) for f in dataset.features],
            "preprocessor": dataset.preprocessor.to_json() if dataset.preprocessor is not None else None,
        }

    def from_job_fields(self, fields: dict) -> dict:
        from core.data.dataset import Feature
        from core.data.tables import TablePreprocessor

        pre = fields["preprocessor"]
        return {
            "target": fields["target"],
            "dropped_rows": int(fields["dropped_rows"]),
            "features": [Feature(**f) for f in fields["features"]],
            "preprocessor": TablePreprocessor.from_json(pre) if pre is not None else None,
        }

    def contract(self, dataset: Any) -> TableContract:
        return TableContract(
            task=dataset.task,
            classes=list(dataset.classes),
            target=dataset.target,
            preprocessor=dataset.preprocessor,
            known_columns=unused_columns(dataset),
        )

    def contract_from_files(self, labels: dict, info: dict) -> TableContract:
        from core.data.tables import TablePreprocessor

        return TableContract(
            task=labels["task"],
            classes=[str(c) for c in labels.get("classes", [])],
            target=info.get("target"),
            preprocessor=TablePreprocessor.from_json(info),
            known_columns=[str(c) for c in info.get("ignored_columns", [])],
        )

    def preprocessing_info(self, dataset: Any) -> dict:
        # the fitted TablePreprocessor's own description (how, columns with kind / fill /
        # categories, input_names) is the heart of it; TablePreprocessor.from_json reads it back
        return {
            **dataset.preprocessor.to_json(),
            "target": dataset.target,
            "ignored_columns": unused_columns(dataset),
            "model_input": {
                "dtype": "float32",
                "shape": [None, *dataset.input_shape],
                "feed": "one float32 vector per row, one value per column, built from the raw columns as 'how' "
                "says, in 'input_names' order. Do not standardise or one-hot encode: the model does both itself.",
            },
        }

    def mistake_inputs(self, dataset: Any, index: int) -> dict[str, float | str]:
        """The row as the user knows it: numbers as numbers, categories by their name (not their position)."""
        if dataset.preprocessor is None:
            return {}
        values = np.asarray(dataset.x_test[index]).reshape(-1)
        categories = {e.name: e.categories for e in dataset.preprocessor.encodings if e.categories}
        out: dict[str, float | str] = {}
        for name, value in zip(dataset.preprocessor.input_names, values):
            names = categories.get(name)
            out[name] = float(value) if names is None else (names[int(value)] if value >= 0 else UNSEEN_CATEGORY)
        return out


def table_inputs_block(keras: Any, inputs: Any, x_train: np.ndarray, preprocessor: Any = None):
    """Standardise the numeric columns and one-hot encode the categorical ones, inside the model.

    Categorical columns arrive as category positions (see TablePreprocessor), so the data stays
    one number per column and an exported model takes one value per column. A position of -1
    (a category never seen in training) one-hot encodes to all zeros. Built from plain Keras
    layers and keras.ops only, so a .keras file loads with safe_mode and converts to TFLite.
    """
    categorical = preprocessor.categorical_positions if preprocessor is not None else []
    numeric = preprocessor.numeric_positions if categorical else list(range(int(inputs.shape[-1])))
    parts = []
    if numeric:
        numbers = inputs if len(numeric) == int(inputs.shape[-1]) else keras.ops.take(inputs, numeric, axis=1)
        normalization = keras.layers.Normalization(name="normalization")
        normalization.adapt(np.asarray(x_train, dtype="float32")[:, numeric])
        parts.append(normalization(numbers))
    for position, n_categories in categorical:
        parts.append(keras.ops.one_hot(keras.ops.cast(inputs[:, position], "int32"), n_categories))
    return parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="encoded_inputs")(parts)
